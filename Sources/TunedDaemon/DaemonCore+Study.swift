import Foundation
import TunedOptim
import TunedRPC
import TunedStore
import TunedWorker

/// Ask/tell: the segments of an external task (`[workload] kind = "external"`, leased by
/// clients, never by workers) are run by its submitter's own loop. `study.ask` leases the
/// task's next segment to the asking loop — named `client:<uid>:<client_id>` — exactly as
/// `worker.lease` would to a worker (PBT's exploits included: the segment may restore another
/// member's checkpoint with a perturbed configuration); `study.report` is `worker.report`
/// (and the heartbeat); `study.tell` is `worker.finish`, with the checkpoint's digest computed
/// by the daemon. Only the task's submitter (or root, or the daemon's user) may do so. An
/// asked segment never told expires like a worker's lease and is asked again.
extension DaemonCore {
    func dispatchStudy(_ r: RPCRequest, caller: Caller) async throws -> RPCValue {
        func out<T: Encodable>(_ v: T) throws -> RPCValue { try RPCCoding.value(of: v) }
        switch r.method {
        case RPCMethodName.studyAsk:
            let p = try r.decodeParams(StudyAskParams.self)
            let (task, submitter) = try await externalTask(p.taskID, caller)
            return try out(await ask(p, task: task, submitter: submitter, owner: try owner(caller, p.clientID)))
        case RPCMethodName.studyReport:
            let p = try r.decodeParams(StudyReportParams.self)
            _ = try await externalTask(p.taskID, caller)
            let owner = try owner(caller, p.clientID)
            guard let seg = live[p.segmentID], seg.worker == owner, seg.taskID == p.taskID else {
                throw RPCError.leaseExpired(segmentID: p.segmentID)
            }
            for m in p.metrics { live[p.segmentID]!.metrics["\(m.step)/\(m.name)"] = m }
            let stop = try await renewDuringFaults(p.segmentID, owner)
            return try out(WorkerReportResult(accepted: p.metrics.count, stop: stop))
        case RPCMethodName.studyTell:
            let p = try r.decodeParams(StudyTellParams.self)
            let (task, _) = try await externalTask(p.taskID, caller)
            let owner = try owner(caller, p.clientID)
            guard let seg = live[p.segmentID], seg.worker == owner, seg.taskID == p.taskID else {
                throw RPCError.leaseExpired(segmentID: p.segmentID)
            }
            var status = p.status
            // A loss that is not finite is a divergence, however the loop saw it.
            if status == .ok, let bad = seg.metrics.values.first(where: {
                !$0.value.isFinite && ($0.name == task.objectiveMetric || $0.name.hasSuffix("loss"))
            }) {
                status = .diverged
                logger.info("segment \(p.segmentID) (task \(p.taskID)): told ok, but \(bad.name) = \(bad.value) at step \(bad.step): diverged")
            }
            var ref: CheckpointRef?
            var refusal: String?
            if status == .ok, let path = p.checkpoint {
                let dir = checkpointDirectory(task: seg.taskID, trial: seg.trialID.rawValue, segment: p.segmentID)
                (ref, refusal) = await Self.digest(path, directory: dir, root: checkpointRoot, step: Int64(seg.end))
            }
            let finish = WorkerFinishParams(
                workerID: owner, segmentID: p.segmentID, status: status, checkpoint: ref,
                error: p.error ?? (status == .ok && p.checkpoint == nil ? "told ok without a checkpoint" : nil))
            let result = try await serialized { try await self.finish(finish, checkpointRefusal: refusal) }
            return try out(StudyTellResult(committed: result.committed, status: refusal == nil ? status : .failed))
        default:
            throw RPCError.methodNotFound(r.method)
        }
    }

    /// The task, if it is external and the caller may run it: its submitter, root or the daemon's user.
    func externalTask(_ id: Int64, _ caller: Caller) async throws -> (TaskRecord, RunAs?) {
        guard let task = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        guard task.isLeasedByClient else {
            throw RPCError.invalidParams(
                field: "task_id",
                "task \(id) is run by the daemon's workers; ask/tell is for tasks whose [workload] kind = \"external\"")
        }
        let meta = (try? JSONValue.parse(Data(task.specJSON.utf8)))?.objectValue ?? [:]
        let submitter = Self.submitter(meta)
        let uid = caller.peer?.uid
        guard let uid, uid == 0 || uid == getuid() || uid == submitter?.uid else {
            throw RPCError.unauthorized(
                "task \(id) was submitted by uid \(submitter.map { String($0.uid) } ?? "?"); only that user (or root) may run its segments")
        }
        return (task, submitter)
    }

    /// The lease owner of an asking loop: `client:<uid>:<client_id>` (default: its pid).
    func owner(_ caller: Caller, _ clientID: String?) throws(RPCError) -> String {
        if let c = clientID {
            guard !c.isEmpty, c.count <= 64, c.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw RPCError.invalidParams(field: "client_id", "must be 1–64 letters, digits, '.', '_' or '-', got \"\(c.prefix(80))\"")
            }
        }
        return "client:\(caller.peer?.uid ?? 0):\(clientID ?? "pid\(caller.peer?.pid ?? 0)")"
    }

    func ask(_ p: StudyAskParams, task: TaskRecord, submitter: RunAs?, owner: String) async throws -> StudyAskResult {
        let leaseFor = min(max(p.leaseSeconds ?? 60, 1), 3600)
        let deadline = ContinuousClock.now + .seconds(min(max(p.waitSeconds ?? 0, 0), 30))
        while true {
            let seen = changes
            guard let t = try await store.task(task.id) else { throw RPCError.taskNotFound(task.id.rawValue) }
            if t.status.isTerminal { return StudyAskResult(segment: nil, finished: true, status: wire(t.status)) }
            if !shuttingDown, ioPause == nil,
                let l = try await store.leaseNextSegment(worker: owner, task: task.id, leaseDuration: leaseFor)
            {
                var lease = grant(l, to: owner, leaseSeconds: leaseFor)
                changed()
                if let failure = await Self.prepare(lease.checkpointDir, for: geteuid() == 0 ? submitter : nil) {
                    logger.error("segment \(lease.segmentID): \(failure)")
                }
                // What a command's program would get: TUNED_CONFIG, TUNED_SEED, and how to restore.
                let settings = try LeaseSettings(lease: lease)
                lease.config = .object(settings.programConfig)
                let exploit: String? =
                    switch settings.restoreMode {
                    case .exploit(let reset): reset ? "reset_optimizer_state" : "keep_optimizer_state"
                    default: nil
                    }
                return StudyAskResult(segment: lease, finished: false, status: .running, seed: settings.seed, exploit: exploit)
            }
            if !(await waitForChange(since: seen, until: deadline)) {
                return StudyAskResult(segment: nil, finished: false, status: wire(t.status), retryAfterSeconds: 0.5)
            }
        }
    }

    /// The segment's checkpoint folder, made for the loop to write (given to the submitter
    /// when the daemon runs as root); nil, or why it could not be made.
    @concurrent
    static func prepare(_ directory: String, for who: RunAs?) async -> String? {
        let url = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            if let who { try RunAsUser.hand(url, to: who) }
            return nil
        } catch {
            return "cannot prepare the checkpoint directory \(directory): \(error)"
        }
    }

    /// The reference of the checkpoint a loop told, with the digest computed here, and why
    /// it may not be committed, if it may not (`CheckpointCheck`).
    @concurrent
    static func digest(_ path: String, directory: String, root: String, step: Int64) async -> (CheckpointRef?, String?) {
        guard path == directory else {
            return (nil, "the checkpoint \(path) is not this segment's checkpoint directory \(directory)")
        }
        do {
            let ref = try CheckpointDigest.reference(directory: URL(fileURLWithPath: directory), step: step)
            return (ref, CheckpointCheck.refusal(ref, directory: directory, root: root))
        } catch {
            return (nil, "cannot read the checkpoint in \(directory): \(error)")
        }
    }

    /// Who submitted a task (the peer credentials stored at submit), if known.
    static func submitter(_ meta: [String: JSONValue]) -> RunAs? {
        guard let who = meta["submitter"]?.objectValue, let uid = who["uid"]?.doubleValue, let gid = who["gid"]?.doubleValue
        else { return nil }
        let groups = who["groups"]?.arrayValue?.compactMap { $0.doubleValue.map { UInt32($0) } } ?? [UInt32(gid)]
        return RunAs(uid: UInt32(uid), gid: UInt32(gid), groups: groups)
    }
}
