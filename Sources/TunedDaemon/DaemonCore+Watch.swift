import Foundation
import TunedRPC

/// `task.watch`: the reply is the task's detail; then the connection gets a `task.progress`
/// notification whenever the task changed (a segment committed, a member started or failed,
/// the status changed) — at most one per `interval_seconds` (default 1 s, at least 0.25 s,
/// so at most 4 per second) — and, when the task ends, a last `task.progress` and a
/// `task.finished`.
extension DaemonCore: RPCHandler {
    public nonisolated func notifications(after request: RPCRequest, reply: RPCResponse) -> RPCNotificationStream? {
        guard request.method == RPCMethodName.taskWatch, case .result = reply.body,
            let params = try? request.decodeParams(TaskWatchParams.self)
        else { return nil }
        return { send in try await self.watch(params, send: send) }
    }

    static let watchPoll: Duration = .milliseconds(250)
    static let minimumWatchInterval = 0.25

    func watch(_ p: TaskWatchParams, send: @Sendable ([UInt8]) async throws -> Void) async throws {
        let interval = max(Self.minimumWatchInterval, p.intervalSeconds ?? 1)
        var seen = changes
        var last = try await detail(p.taskID)
        var lastSent = ContinuousClock.now - .seconds(interval)
        while !last.status.isFinal {
            repeat { try await Task.sleep(for: Self.watchPoll) } while changes == seen
            let since = ContinuousClock.now - lastSent
            if since < .seconds(interval) { try await Task.sleep(for: .seconds(interval) - since) }
            seen = changes
            let d = try await detail(p.taskID)
            if Self.progress(d, at: 0) != Self.progress(last, at: 0) {
                try await send(try RPCNotification.encodedLine(method: RPCMethodName.taskProgress, params: Self.progress(d)))
                lastSent = .now
            }
            last = d
        }
        let finished = TaskFinished(
            taskID: last.taskID, status: last.status, best: last.best, error: last.error,
            finishedAt: last.finishedAt ?? Date().timeIntervalSince1970)
        try await send(try RPCNotification.encodedLine(method: RPCMethodName.taskFinished, params: finished))
    }

    static func progress(_ d: TaskDetail, at: Double = Date().timeIntervalSince1970) -> TaskProgress {
        var p = TaskProgress(
            taskID: d.taskID, status: d.status, stepsDone: d.stepsDone, stepsTotal: d.stepsTotal, best: d.best,
            etaSeconds: d.etaSeconds, members: d.members, at: at)
        p.paused = d.paused
        return p
    }

    /// Methods whose success may change what a watcher (or a waiting `worker.lease`) sees.
    func noteChange(_ method: String, _ result: RPCValue) {
        switch method {
        case RPCMethodName.workerFinish, RPCMethodName.taskCancel, RPCMethodName.taskSubmit, RPCMethodName.studyTell:
            changed()
        case RPCMethodName.workerLease:
            if result["lease"]?.isNull == false { changed() }
        default: break
        }
    }

    func changed() { changes &+= 1 }
}
