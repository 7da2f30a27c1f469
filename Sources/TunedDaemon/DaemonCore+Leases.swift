import Foundation
import TunedEngine
import TunedRPC
import TunedStore

extension DaemonCore {
    /// A segment whose lease expired counts as a failed attempt: the strategy decides, as for
    /// `worker.finish(failed)`, whether it is retried (the store has already re-queued it)
    /// or its trial fails — so a segment that kills its worker every time fails its trial
    /// after `max_retries + 1` attempts, and the task can finish.
    func leaseExpired(_ id: TunedStore.SegmentID, _ seg: LiveSegment) async throws {
        try await leaseEnded(id, seg, error: "lease expired (worker \(seg.worker) stopped answering)")
    }

    /// A worker process ended (`WorkerSupervisor`): the segments it held fail now, with how it
    /// ended and its last words (`Fatal error: failed to allocate …`), instead of at their
    /// lease's expiry with "stopped answering". Retried like any failed attempt.
    public func workerExited(_ worker: String, _ how: String) async {
        for (key, seg) in live.sorted(by: { $0.key < $1.key }) where seg.worker == worker {
            guard live.removeValue(forKey: key) != nil else { continue }
            let id = TunedStore.SegmentID(key)
            logger.warning("task \(seg.taskID) trial \(seg.trialID) segment \(id) failed: \(how)")
            do { try await serialized { try await leaseEnded(id, seg, error: how) } } catch {
                logger.error("segment \(id): ending the lease of an exited worker: \(error)")
            }
            changed()
        }
    }

    func leaseEnded(_ id: TunedStore.SegmentID, _ seg: LiveSegment, error: String) async throws {
        // A task that has ended has no strategy to tell: `expireLeases` sweeps its lease.
        guard let state = try await taskState(seg.taskID), let member = state.memberByTrial[seg.trialID] else { return }
        var committed = false
        do {
            committed = try await commitStep(
                seg, segment: id, worker: seg.worker,
                event: .segmentFailed(trial: member, error: error, attempt: seg.attempts + 1), state: state,
                strategy: state.strategy
            ) { retry in
                if !retry { logger.warning("task \(seg.taskID) trial \(seg.trialID) segment \(id): \(error); retries exhausted, trial failed") }
                return .failed(error: error, retry: retry, trialStatus: .failed)
            }
        } catch let e as StoreError where Self.isIOFault(e) {
            // Not committed: the lease is given back without an attempt once writes succeed.
            faulted[id.rawValue] = seg.worker
            pauseForIO("ending segment \(id): \(e.message)")
        }
        if committed { await recordLeaseFailure(id, seg, error: error) }
    }

    /// `worker.lease` with `wait_seconds`: when nothing is queued, wait (checking every 10 ms
    /// whether anything changed: a submit, a finish, an expiry, a retry's delay ending) until a segment can be leased
    /// or the time is up. Idle workers then start within milliseconds of a submit instead of
    /// after their next poll.
    func leaseWaiting(_ p: WorkerLeaseParams) async throws -> WorkerLeaseResult {
        let wait = min(max(p.waitSeconds ?? 0, 0), 30)
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let seen = changes
            let r = try await lease(p)
            if r.lease != nil || shuttingDown || wait == 0 { return r }
            if !(await waitForChange(since: seen, until: deadline)) { return .idle(retryAfterSeconds: 0) }
        }
    }

    /// Waits (checking every 10 ms) until something changed since `seen` — a submit, a
    /// finish, an expiry — or a retried segment's delay ended; false when `deadline` came first
    /// (or the daemon is stopping, or the task was cancelled).
    func waitForChange(since seen: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        while changes == seen, !shuttingDown {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            if let t = nextRetryAt, Date() >= t {
                nextRetryAt = nil
                return true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return !shuttingDown
    }

    /// The first step of a graceful shutdown: stop leasing (workers get `idle`) and release the
    /// leases of running segments, which are re-queued at once from their last committed
    /// checkpoint (the work since that checkpoint is redone after the restart).
    public func drain() async {
        shuttingDown = true
        do {
            let released = try await serialized { try await store.recoverAfterRestart() }
            live.removeAll()
            changed()
            logger.notice("released \(released.count) lease(s); their segments are re-queued")
        } catch {
            logger.error("releasing the leases at shutdown: \(error)")
        }
    }
}
