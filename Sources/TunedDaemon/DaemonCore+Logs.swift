import Foundation
import TunedRPC
import TunedStore
import TunedWorker

/// Failures you can see: every failed or diverged segment attempt is logged in the store
/// (`segment_logs`: its one-line reason, the error, the program's stderr tail and the
/// worker's lines), `trial.logs` reads them back, and trial rows carry their latest reason.
extension DaemonCore {
    /// A finished segment's reason in one line: the worker's, else derived from its error and
    /// stderr (`FailureReason`).
    nonisolated static func failureReason(_ p: WorkerFinishParams) -> String {
        let error = p.error ?? p.status.rawValue
        if let r = p.reason, !r.allSatisfy(\.isWhitespace) { return FailureReason.fromError(r) }
        return FailureReason.derive(error: error, stderrTail: p.stderrTail)
    }

    /// The daemon's log line of a failed segment: task, trial, segment and reason, and the
    /// error when it says more.
    nonisolated static func failureLogLine(
        task: Int64, trial: TunedStore.TrialID, segment: Int64, status: String, reason: String, error: String,
        retry: Bool
    ) -> String {
        let first = FailureReason.fromError(error)
        let more = first == reason ? "" : " (\(first))"
        return "task \(task) trial \(trial) segment \(segment) \(status): \(reason)\(more)\(retry ? "; retried" : "")"
    }

    /// Stores the log of a committed failed/diverged finish. A log that cannot be written
    /// costs only the log: the segment's end is committed already.
    func recordFailure(_ p: WorkerFinishParams, _ seg: LiveSegment) async {
        let error = p.error ?? p.status.rawValue
        await addLog(NewSegmentLog(
            segment: TunedStore.SegmentID(p.segmentID), attempt: seg.attempts + 1, diverged: p.status == .diverged,
            reason: Self.failureReason(p), error: error, stderrTail: p.stderrTail.map { LineTail.bounded($0) },
            workerLog: p.workerLog.map { LineTail.bounded($0) }, worker: p.workerID))
    }

    /// Stores the log of a lease that ended without a finish (expired, or its worker died).
    func recordLeaseFailure(_ id: TunedStore.SegmentID, _ seg: LiveSegment, error: String) async {
        await addLog(NewSegmentLog(
            segment: id, attempt: seg.attempts + 1, diverged: false, reason: FailureReason.fromError(error), error: error,
            worker: seg.worker))
    }

    private func addLog(_ log: NewSegmentLog) async {
        do { try await store.addSegmentLog(log) } catch {
            logger.warning("segment \(log.segment): its failure log was not stored (\(error))")
        }
    }

    /// `trial.logs`.
    func trialLogs(_ p: TrialLogsParams) async throws -> TrialLogs {
        let task = TunedStore.TaskID(p.taskID)
        guard try await store.task(task) != nil else { throw RPCError.taskNotFound(p.taskID) }
        if let limit = p.limit, limit < 1 { throw RPCError.invalidParams(field: "limit", "must be ≥ 1, got \(limit)") }
        if let t = p.trialID {
            guard let trial = try await store.trial(TunedStore.TrialID(t)), trial.taskID == task else {
                throw RPCError.invalidParams(
                    field: "trial_id", "task \(p.taskID) has no trial \(t) (its trials: `tunectl trials \(p.taskID)`)")
            }
        }
        let rows = try await store.segmentLogs(
            task: task, trial: p.trialID.map(TunedStore.TrialID.init), segment: p.segmentID.map(TunedStore.SegmentID.init),
            limit: p.limit)
        return TrialLogs(
            taskID: p.taskID,
            logs: rows.map {
                SegmentLog(
                    trialID: $0.trial.rawValue, member: $0.member, segmentID: $0.segment.rawValue,
                    startStep: Int64($0.startStep), endStep: Int64($0.endStep), attempt: $0.attempt,
                    status: $0.diverged ? "diverged" : "failed", reason: $0.reason, error: $0.error,
                    stderrTail: $0.stderrTail, workerLog: $0.workerLog, workerID: $0.worker,
                    at: $0.createdAt.timeIntervalSince1970)
            })
    }

    /// The rows with each failed or diverged trial's latest reason.
    func withFailureReasons(_ rows: [TrialRow], task: Int64) async throws -> [TrialRow] {
        guard rows.contains(where: { $0.status == .failed || $0.status == .diverged }) else { return rows }
        let reasons = try await store.latestFailureReasons(task: TunedStore.TaskID(task))
        return rows.map { row in
            var row = row
            if row.status == .failed || row.status == .diverged { row.reason = reasons[TunedStore.TrialID(row.trialID)] }
            return row
        }
    }

    func withFailureReasons(_ r: TunedRPC.TaskResults) async throws -> TunedRPC.TaskResults {
        var r = r
        r.trials = try await withFailureReasons(r.trials, task: r.taskID)
        return r
    }
}
