import Foundation
import GRDB

/// What a worker needs to run a leased segment.
public struct SegmentLease: Sendable, Hashable {
    public var segment: SegmentRecord
    public var trial: TrialRecord
    /// The task's normalised spec (workload, search space …).
    public var taskSpecJSON: String
    /// The checkpoint to start from; nil: from scratch.
    public var checkpoint: CheckpointRecord?
}

/// A checkpoint written at the end of a segment: a file reference or an inline blob.
public struct NewCheckpoint: Sendable, Hashable {
    public enum Location: Sendable, Hashable {
        case file(path: String)
        case blob(Data)
    }
    public var step: Int
    public var location: Location
    public var size: Int64
    public var checksum: String
    public var pinned: Bool

    public init(step: Int, location: Location, size: Int64, checksum: String, pinned: Bool = false) {
        self.step = step
        self.location = location
        self.size = size
        self.checksum = checksum
        self.pinned = pinned
    }
}

/// How a commit moves its trial on. Defaults: the trial is `pending` with
/// `steps_done = segment.end_step`, and no successor segment is scheduled.
public struct TrialProgress: Sendable, Hashable {
    public var status: TrialStatus
    public var stepsDone: Int?
    public var configJSON: String?
    public var error: String?
    /// Schedules the next segment `[segment.end_step, nextSegmentEnd)` from the committed
    /// checkpoint in the same transaction, so a crash cannot leave the trial without work.
    public var nextSegmentEnd: Int?
    public var nextConfigJSON: String?

    public init(
        status: TrialStatus = .pending, stepsDone: Int? = nil, configJSON: String? = nil, error: String? = nil,
        nextSegmentEnd: Int? = nil, nextConfigJSON: String? = nil
    ) {
        self.status = status
        self.stepsDone = stepsDone
        self.configJSON = configJSON
        self.error = error
        self.nextSegmentEnd = nextSegmentEnd
        self.nextConfigJSON = nextConfigJSON
    }
}

public struct CommitOutcome: Sendable, Hashable {
    public var checkpoint: CheckpointID?
    public var nextSegment: SegmentID?
    /// Metric rows new to the store (rows already committed are ignored).
    public var metricsInserted: Int
    /// True when the segment had already been committed: nothing was changed.
    public var alreadyCommitted: Bool
}

extension Store {
    /// Atomically takes the oldest queued segment of a queued or running task whose trial is
    /// pending (so a paused trial waits, and a trial never runs two segments at once) and whose
    /// retry delay (`not_before`, see `retryDelay`) has passed, marks
    /// it leased to `worker` until `now + leaseDuration`, its trial running and its task running.
    /// - Returns: nil when there is no work.
    ///
    /// `task` nil: a worker's lease, from tasks the workers run (`leased_by = 'worker'`);
    /// otherwise a client's (`study.ask`), from that task only, which must be a client's.
    public func leaseNextSegment(worker: String, task: TaskID? = nil, now: Date = Date(), leaseDuration: TimeInterval)
        async throws -> SegmentLease?
    {
        try await write { db in
            let whose = task == nil ? "k.leased_by = 'worker'" : "k.leased_by = 'client' AND s.task_id = ?"
            var arguments: StatementArguments = [now.storeTime]
            if let task { arguments += [task] }
            guard
                var segment = try SegmentRecord.fetchOne(
                    db,
                    sql: """
                        SELECT s.* FROM segments s INDEXED BY segments_queued
                        JOIN tasks k ON k.id = s.task_id
                        JOIN trials t ON t.id = s.trial_id
                        WHERE s.status = 'queued' AND k.status IN ('queued', 'running') AND t.status = 'pending'
                          AND (s.not_before IS NULL OR s.not_before <= ?) AND \(whose)
                        ORDER BY s.id LIMIT 1
                        """, arguments: arguments)
            else { return nil }
            let expires = now.addingTimeInterval(leaseDuration)
            try db.execute(
                sql: """
                    UPDATE segments SET status = 'leased', lease_owner = ?, lease_expires_at = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [worker, expires.storeTime, now.storeTime, segment.id])
            try db.execute(
                sql: "UPDATE trials SET status = 'running', updated_at = ? WHERE id = ?",
                arguments: [now.storeTime, segment.trialID])
            try db.execute(
                sql:
                    """
                    UPDATE tasks SET status = 'running', started_at = COALESCE(started_at, ?)
                    WHERE id = ? AND status = 'queued'
                    """,
                arguments: [now.storeTime, segment.taskID])
            segment.status = .leased
            segment.leaseOwner = worker
            segment.leaseExpiresAt = Date(timeIntervalSince1970: expires.storeTime)
            segment.updatedAt = Date(timeIntervalSince1970: now.storeTime)
            guard let trial = try TrialRecord.fetchOne(db, key: segment.trialID),
                let spec = try String.fetchOne(
                    db, sql: "SELECT spec_json FROM tasks WHERE id = ?", arguments: [segment.taskID])
            else { throw StoreError.invalidState("segment \(segment.id) has no trial or task") }
            let checkpoint = try segment.fromCheckpointID.flatMap { try CheckpointRecord.fetchOne(db, key: $0) }
            return SegmentLease(segment: segment, trial: trial, taskSpecJSON: spec, checkpoint: checkpoint)
        }
    }

    /// Extends `worker`'s lease (the heartbeat). Throws `.leaseLost` when it is gone.
    public func renewLease(_ id: SegmentID, worker: String, now: Date = Date(), leaseDuration: TimeInterval)
        async throws
    {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE segments SET lease_expires_at = ?, updated_at = ?
                    WHERE id = ? AND status = 'leased' AND lease_owner = ?
                    """,
                arguments: [now.addingTimeInterval(leaseDuration).storeTime, now.storeTime, id, worker])
            if db.changesCount == 0 {
                guard let segment = try SegmentRecord.fetchOne(db, key: id) else {
                    throw StoreError.notFound("segment \(id)")
                }
                throw StoreError.leaseLost(segment: id, worker: worker, owner: segment.leaseOwner)
            }
        }
    }

    /// Commits a finished segment in ONE transaction: its metrics (rows already stored are
    /// ignored), its checkpoint reference, the segment marked done, the trial's progress
    /// (and summaries), and optionally its successor segment.
    ///
    /// `worker`, when given, must hold the lease — or the lease must have expired without
    /// anyone else taking the segment (the work is still good then). Committing a segment
    /// that is already done changes nothing and reports `alreadyCommitted`.
    @discardableResult
    public func commitSegment(
        _ id: SegmentID, worker: String? = nil, metrics: [Metric], checkpoint: NewCheckpoint?,
        trialUpdate: TrialProgress = TrialProgress(), now: Date = Date()
    ) async throws -> CommitOutcome {
        try await write { db in
            guard let segment = try SegmentRecord.fetchOne(db, key: id) else {
                throw StoreError.notFound("segment \(id)")
            }
            switch segment.status {
            case .done:
                return CommitOutcome(checkpoint: nil, nextSegment: nil, metricsInserted: 0, alreadyCommitted: true)
            case .failed:
                throw StoreError.invalidState(
                    "segment \(id) has failed (\(segment.error ?? "no reason")); it cannot be committed")
            case .leased:
                if let worker, segment.leaseOwner != worker {
                    throw StoreError.leaseLost(segment: id, worker: worker, owner: segment.leaseOwner)
                }
            case .queued:
                break
            }
            guard let trial = try TrialRecord.fetchOne(db, key: segment.trialID),
                let taskStatus = try TaskStatus.fetchOne(
                    db, sql: "SELECT status FROM tasks WHERE id = ?", arguments: [segment.taskID])
            else { throw StoreError.invalidState("segment \(id) has no trial or task") }

            var checkpointID = trial.checkpointID
            var newCheckpoint: CheckpointID?
            if let checkpoint {
                let (path, blob): (String?, Data?) =
                    switch checkpoint.location {
                    case .file(let path): (path, nil)
                    case .blob(let data): (nil, data)
                    }
                try db.execute(
                    sql: """
                        INSERT INTO checkpoints (trial_id, segment_id, step, path, blob, size, checksum, pinned,
                                                 created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        trial.id, id, checkpoint.step, path, blob, checkpoint.size, checkpoint.checksum,
                        checkpoint.pinned, now.storeTime,
                    ])
                newCheckpoint = CheckpointID(db.lastInsertedRowID)
                checkpointID = newCheckpoint
            }

            let inserted = try Self.insertMetrics(
                metrics.lazy.map {
                    MetricRow(trial: trial.id, step: $0.step, name: $0.name, value: $0.value, segment: id)
                },
                db, now: now)

            try db.execute(
                sql: """
                    UPDATE segments SET status = 'done', lease_owner = NULL, lease_expires_at = NULL,
                        error = NULL, updated_at = ? WHERE id = ?
                    """,
                arguments: [now.storeTime, id])

            // A trial that was stopped meanwhile, or whose task ended, stays as it is.
            let frozen = trial.status.isTerminal || taskStatus.isTerminal
            var status = trialUpdate.status
            if frozen { status = trial.status.isTerminal ? trial.status : .stopped }
            try db.execute(
                sql: """
                    UPDATE trials SET status = ?, steps_done = ?, checkpoint_id = ?,
                        config_json = COALESCE(?, config_json), error = COALESCE(?, error), updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    status, trialUpdate.stepsDone ?? segment.endStep, checkpointID, trialUpdate.configJSON,
                    trialUpdate.error, now.storeTime, trial.id,
                ])

            var next: SegmentID?
            if let end = trialUpdate.nextSegmentEnd, !frozen, !status.isTerminal {
                next = try Self.insertSegment(
                    NewSegment(
                        trial: trial.id, startStep: segment.endStep, endStep: end,
                        configJSON: trialUpdate.nextConfigJSON ?? trialUpdate.configJSON,
                        fromCheckpoint: checkpointID),
                    db, now: now)
            }
            return CommitOutcome(
                checkpoint: newCheckpoint, nextSegment: next, metricsInserted: inserted, alreadyCommitted: false)
        }
    }

    /// A worker reports that its segment failed. With `retry`, the segment is re-queued
    /// (attempts + 1) and its trial is pending again; otherwise the segment fails and the
    /// trial takes `trialStatus` (failed, or diverged for a NaN loss).
    public func failSegment(
        _ id: SegmentID, worker: String? = nil, error: String, retry: Bool, trialStatus: TrialStatus = .failed,
        now: Date = Date()
    ) async throws {
        try await write { db in
            guard let segment = try SegmentRecord.fetchOne(db, key: id) else {
                throw StoreError.notFound("segment \(id)")
            }
            guard segment.status == .leased || segment.status == .queued else {
                throw StoreError.invalidState(
                    "segment \(id) is \(segment.status.rawValue); only a live segment can fail")
            }
            if let worker, segment.status == .leased, segment.leaseOwner != worker {
                throw StoreError.leaseLost(segment: id, worker: worker, owner: segment.leaseOwner)
            }
            try db.execute(
                sql: """
                    UPDATE segments SET status = ?, lease_owner = NULL, lease_expires_at = NULL,
                        attempts = attempts + 1, error = ?, not_before = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    retry ? SegmentStatus.queued : .failed, error,
                    retry ? now.addingTimeInterval(Self.retryDelay(attempt: segment.attempts + 1)).storeTime : nil,
                    now.storeTime, id,
                ])
            try db.execute(
                sql: """
                    UPDATE trials SET status = ?, error = ?, updated_at = ?
                    WHERE id = ? AND status IN ('pending', 'running', 'paused')
                    """,
                arguments: [
                    retry ? TrialStatus.pending : trialStatus, retry ? nil : error, now.storeTime, segment.trialID,
                ])
        }
    }

    /// How long a segment that failed its `attempt`-th time waits before it can be leased again:
    /// 0.5 s, doubling per attempt, at most 30 s.
    public static func retryDelay(attempt: Int) -> TimeInterval {
        min(30, 0.5 * pow(2, Double(max(0, min(attempt, 16) - 1))))
    }

    /// Gives `worker`'s lease of a segment back without counting an attempt: the segment is
    /// queued again (from the same checkpoint) and its trial pending. For leases that ended
    /// through no fault of the segment's (the disk was full: `DaemonCore`'s I/O pause).
    /// Returns false when the lease was no longer `worker`'s (or the segment not leased).
    @discardableResult
    public func releaseLease(_ id: SegmentID, worker: String, now: Date = Date()) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE segments SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                    WHERE id = ? AND status = 'leased' AND lease_owner = ?
                    """,
                arguments: [now.storeTime, id, worker])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: """
                    UPDATE trials SET status = 'pending', updated_at = ?
                    WHERE id = (SELECT trial_id FROM segments WHERE id = ?) AND status = 'running'
                    """,
                arguments: [now.storeTime, id])
            return true
        }
    }

    /// Re-queues every segment whose lease expired at or before `now` (attempts + 1) and
    /// puts its trial back to pending, so no trial stays running without a live lease.
    /// With `maxAttempts`, a segment that reaches it fails instead, and its trial with it.
    @discardableResult
    public func expireLeases(now: Date = Date(), maxAttempts: Int? = nil) async throws -> [SegmentID] {
        try await write { db in
            try Self.requeueLeases(
                db, condition: "lease_expires_at <= ?", arguments: [now.storeTime], reason: "lease expired",
                maxAttempts: maxAttempts, now: now)
        }
    }

    /// The leased segments whose lease expired at or before `now`, with their owners, oldest
    /// first — read only: the daemon ends each through its strategy (`commitStrategyStep`).
    public func expiredLeases(now: Date = Date()) async throws -> [(segment: SegmentID, owner: String)] {
        try await read { db in
            try SegmentRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM segments INDEXED BY segments_leased
                    WHERE status = 'leased' AND lease_expires_at <= ? ORDER BY lease_expires_at, id
                    """,
                arguments: [now.storeTime]
            ).map { ($0.id, $0.leaseOwner ?? "") }
        }
    }

    /// After a daemon restart no lease is live: every leased segment is re-queued (attempts + 1)
    /// from the checkpoint it was scheduled from — its trial's last committed one — and every
    /// running trial is pending again.
    @discardableResult
    public func recoverAfterRestart(now: Date = Date()) async throws -> [SegmentID] {
        try await write { db in
            try Self.requeueLeases(
                db, condition: "1", arguments: [], reason: "daemon restarted", maxAttempts: nil, now: now)
        }
    }

    static func requeueLeases(
        _ db: Database, condition: String, arguments: StatementArguments, reason: String, maxAttempts: Int?,
        now: Date
    ) throws -> [SegmentID] {
        let expired = try SegmentRecord.fetchAll(
            db,
            sql: """
                SELECT * FROM segments INDEXED BY segments_leased
                WHERE status = 'leased' AND \(condition) ORDER BY lease_expires_at, id
                """,
            arguments: arguments)
        for segment in expired {
            let attempts = segment.attempts + 1
            let exhausted = maxAttempts.map { attempts >= $0 } ?? false
            let message = "\(reason) (worker \(segment.leaseOwner ?? "?"), attempt \(attempts))"
            try db.execute(
                sql: """
                    UPDATE segments SET status = ?, lease_owner = NULL, lease_expires_at = NULL,
                        attempts = ?, error = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [exhausted ? SegmentStatus.failed : .queued, attempts, message, now.storeTime, segment.id])
            try db.execute(
                sql: """
                    UPDATE trials SET status = ?, error = ?, updated_at = ?
                    WHERE id = ? AND status = 'running'
                    """,
                arguments: [
                    exhausted ? TrialStatus.failed : .pending,
                    exhausted ? "segment \(segment.id) failed \(attempts) times: \(message)" : nil,
                    now.storeTime, segment.trialID,
                ])
        }
        // Belt and braces: a running trial with no leased segment is pending.
        try db.execute(
            sql: """
                UPDATE trials SET status = 'pending', updated_at = ?
                WHERE status = 'running'
                  AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.trial_id = trials.id AND s.status = 'leased')
                """,
            arguments: [now.storeTime])
        return expired.map(\.id)
    }
}
