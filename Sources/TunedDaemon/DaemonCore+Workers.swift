import Foundation
import TunedRPC
import TunedStore

/// The `worker.*` methods and who may call them. `worker.hello` with the daemon's
/// `WorkerSecret` makes the connection a worker's (`Caller.worker`); every other worker method
/// from a connection that has not done so gets `unauthorized` (−32002) and changes nothing,
/// whatever the peer's uid; a worker speaks only for itself (its `worker_id` is the one it
/// proved) and reports, renews and finishes only segments leased to it.
extension DaemonCore {
    func dispatchWorker(_ r: RPCRequest, caller: Caller) async throws -> RPCValue {
        func out<T: Encodable>(_ v: T) throws -> RPCValue { try RPCCoding.value(of: v) }
        switch r.method {
        case RPCMethodName.workerHello:
            let p = try r.decodeParams(WorkerHelloParams.self)
            guard workerSecret.matches(p.secret) else {
                logger.warning(
                    "worker.hello refused: no or wrong worker secret",
                    metadata: ["peer.uid": "\(caller.peer?.uid ?? 0)", "peer.pid": "\(caller.peer?.pid ?? 0)"])
                throw RPCError.unauthorized(
                    "worker.hello: not one of this daemon's workers (the worker secret is missing or wrong); workers are started by the daemon, or by hand with \(workerSecretEnvironmentKey) set to the daemon's")
            }
            caller.provenWorker(p.workerID)
            return try out(WorkerHelloResult(heartbeatSeconds: leaseSeconds / 3, leaseSeconds: leaseSeconds))
        case RPCMethodName.workerLease:
            let p = try r.decodeParams(WorkerLeaseParams.self)
            try requireWorker(caller, p.workerID, r.method)
            return try out(await leaseWaiting(p))
        case RPCMethodName.workerHeartbeat:
            let p = try r.decodeParams(WorkerSegmentParams.self)
            try requireWorker(caller, p.workerID, r.method)
            return try out(WorkerHeartbeatResult(leaseSeconds: leaseSeconds, stop: try await renewDuringFaults(p.segmentID, p.workerID)))
        case RPCMethodName.workerReport:
            let p = try r.decodeParams(WorkerReportParams.self)
            try requireWorker(caller, p.workerID, r.method)
            guard live[p.segmentID]?.worker == p.workerID else { throw RPCError.leaseExpired(segmentID: p.segmentID) }
            // Kept before the lease is renewed, so a renewal the store cannot write (a full
            // disk) loses no metric. In place: copying the segment out would copy its whole
            // metric table per report (quadratic; docs/PERFORMANCE.md, "Daemon").
            for m in p.metrics { live[p.segmentID]!.metrics["\(m.step)/\(m.name)"] = m }
            let stop = try await renewDuringFaults(p.segmentID, p.workerID)
            return try out(WorkerReportResult(accepted: p.metrics.count, stop: stop))
        case RPCMethodName.workerFinish:
            let p = try r.decodeParams(WorkerFinishParams.self)
            try requireWorker(caller, p.workerID, r.method)
            guard let seg = live[p.segmentID], seg.worker == p.workerID else { throw RPCError.leaseExpired(segmentID: p.segmentID) }
            // The checkpoint is checked (and its digest recomputed) off the actor.
            var refusal: String?
            if p.status == .ok, let c = p.checkpoint {
                let dir = checkpointDirectory(task: seg.taskID, trial: seg.trialID.rawValue, segment: p.segmentID)
                refusal = await Self.checkCheckpoint(c, directory: dir, root: checkpointRoot)
            }
            var result = try await serialized { try await finish(p, checkpointRefusal: refusal) }
            // The finish is committed whatever happens next: a lease that cannot be granted now
            // is simply not in the reply (the worker then long-polls worker.lease).
            if p.leaseNext == true { result.lease = (try? await lease(WorkerLeaseParams(workerID: p.workerID)))?.lease }
            return try out(result)
        default:
            throw RPCError.methodNotFound(r.method)
        }
    }

    func requireWorker(_ caller: Caller, _ claimed: String, _ method: String) throws(RPCError) {
        guard let proven = caller.worker else {
            logger.warning(
                "\(method) refused: the connection is not a worker's",
                metadata: ["peer.uid": "\(caller.peer?.uid ?? 0)", "peer.pid": "\(caller.peer?.pid ?? 0)"])
            throw RPCError.unauthorized(
                "\(method) is for the daemon's own workers; this connection has not proven it is one (worker.hello with the daemon's worker secret)")
        }
        guard proven == claimed else {
            throw RPCError.unauthorized("this connection is worker `\(proven)`; it may not act as worker `\(claimed)`")
        }
    }

    /// The store's checkpoint root: `<store folder>/checkpoints`.
    var checkpointRoot: String { "\(storeDirectory)/checkpoints" }

    /// Where a segment writes its checkpoint (the worker creates the folder when it writes).
    func checkpointDirectory(task: Int64, trial: Int64, segment: Int64) -> String {
        "\(checkpointRoot)/\(task)/\(trial)/\(segment)"
    }

    @concurrent
    static func checkCheckpoint(_ ref: CheckpointRef, directory: String, root: String) async -> String? {
        CheckpointCheck.refusal(ref, directory: directory, root: root)
    }
}
