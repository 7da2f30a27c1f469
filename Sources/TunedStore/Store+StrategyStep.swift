import Foundation
import GRDB

/// How a worker's segment ended, as a strategy step records it.
public enum SegmentEnd: Sendable, Hashable {
    /// Finished: metrics and checkpoint to commit.
    case committed(metrics: [Metric], checkpoint: NewCheckpoint?)
    /// Failed or diverged: re-queued when `retry`, else failed with the trial taking `trialStatus`.
    case failed(error: String, retry: Bool, trialStatus: TrialStatus)
}

/// A store effect of a strategy's decision.
public enum StrategyEffect: Sendable, Hashable {
    /// Queue `[start, end)` of `trial`, from the checkpoint `trial fromTrial` committed at
    /// `fromStep` (its latest at that step), or from scratch; `configJSON` nil = the trial's config.
    case addSegment(trial: TrialID, start: Int, end: Int, configJSON: String?, fromTrial: TrialID?, fromStep: Int?)
    /// A PBT exploit: the lineage edge, and the recipient takes the donor's checkpoint at
    /// `donorStep`, the new config and generation, and is pending again.
    case exploit(
        recipient: TrialID, donor: TrialID, donorStep: Int, generation: Int, oldConfigJSON: String,
        newConfigJSON: String, changesJSON: String)
    case trialStatus(TrialID, TrialStatus, error: String?)
    case taskStatus(TaskStatus, error: String?)
}

/// One step of a task's strategy, to commit in ONE transaction: how a segment ended, the
/// strategy event that this was (appended to `events` as kind `strategy_event`, so that replay
/// follows the commit order), and the effects of the strategy's actions.
public struct StrategyStep: Sendable, Hashable {
    public var task: TaskID
    public var segment: SegmentID
    public var worker: String?
    public var end: SegmentEnd
    public var eventTrial: TrialID?
    public var eventJSON: String
    public var effects: [StrategyEffect]

    public init(
        task: TaskID, segment: SegmentID, worker: String?, end: SegmentEnd, eventTrial: TrialID?, eventJSON: String,
        effects: [StrategyEffect]
    ) {
        self.task = task
        self.segment = segment
        self.worker = worker
        self.end = end
        self.eventTrial = eventTrial
        self.eventJSON = eventJSON
        self.effects = effects
    }
}

extension Store {
    /// The kind of the events that record what a strategy was told.
    public static let strategyEventKind = "strategy_event"

    /// Commits a strategy step atomically: either all of it is in the store or none of it,
    /// so a daemon killed at any moment restarts from a consistent state and replays the
    /// recorded events to rebuild its strategy. Returns false (and changes nothing) when the
    /// segment was already committed.
    @discardableResult
    public func commitStrategyStep(_ step: StrategyStep, now: Date = Date()) async throws -> Bool {
        try await write { db in
            guard let segment = try SegmentRecord.fetchOne(db, key: step.segment) else {
                throw StoreError.notFound("segment \(step.segment)")
            }
            if segment.status == .done { return false }
            guard segment.status == .leased || segment.status == .queued else {
                throw StoreError.invalidState("segment \(step.segment) is \(segment.status.rawValue); it cannot end again")
            }
            if let worker = step.worker, segment.status == .leased, segment.leaseOwner != worker {
                throw StoreError.leaseLost(segment: step.segment, worker: worker, owner: segment.leaseOwner)
            }
            switch step.end {
            case .committed(let metrics, let checkpoint):
                var checkpointID: CheckpointID?
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
                            segment.trialID, segment.id, checkpoint.step, path, blob, checkpoint.size,
                            checkpoint.checksum, checkpoint.pinned, now.storeTime,
                        ])
                    checkpointID = CheckpointID(db.lastInsertedRowID)
                }
                _ = try Self.insertMetrics(
                    metrics.lazy.map {
                        MetricRow(trial: segment.trialID, step: $0.step, name: $0.name, value: $0.value, segment: segment.id)
                    }, db, now: now)
                try db.execute(
                    sql: """
                        UPDATE segments SET status = 'done', lease_owner = NULL, lease_expires_at = NULL,
                            error = NULL, updated_at = ? WHERE id = ?
                        """,
                    arguments: [now.storeTime, segment.id])
                try db.execute(
                    sql: """
                        UPDATE trials SET status = CASE WHEN status IN ('running', 'paused') THEN 'pending' ELSE status END,
                            steps_done = ?, checkpoint_id = COALESCE(?, checkpoint_id), updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [segment.endStep, checkpointID, now.storeTime, segment.trialID])
            case .failed(let error, let retry, let trialStatus):
                try db.execute(
                    sql: """
                        UPDATE segments SET status = ?, lease_owner = NULL, lease_expires_at = NULL,
                            attempts = attempts + 1, error = ?, not_before = ?, updated_at = ? WHERE id = ?
                        """,
                    arguments: [
                        retry ? SegmentStatus.queued : .failed, error,
                        retry ? now.addingTimeInterval(Self.retryDelay(attempt: segment.attempts + 1)).storeTime : nil,
                        now.storeTime, segment.id,
                    ])
                try db.execute(
                    sql: """
                        UPDATE trials SET status = ?, error = ?, updated_at = ?
                        WHERE id = ? AND status IN ('pending', 'running', 'paused')
                        """,
                    arguments: [retry ? TrialStatus.pending : trialStatus, retry ? nil : error, now.storeTime, segment.trialID])
            }
            try db.execute(
                sql: "INSERT INTO events (task_id, trial_id, kind, message, data_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [step.task, step.eventTrial, Self.strategyEventKind, "segment \(segment.id) ended", step.eventJSON, now.storeTime])
            for effect in step.effects { try Self.apply(effect, task: step.task, db, now: now) }
            return true
        }
    }

    /// The strategy events of a task in the order they were committed.
    public func strategyEvents(task: TaskID) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT data_json FROM events WHERE task_id = ? AND kind = ? ORDER BY id",
                arguments: [task, Self.strategyEventKind])
        }
    }

    static func checkpoint(of trial: TrialID, at step: Int, _ db: Database) throws -> CheckpointID {
        guard let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM checkpoints WHERE trial_id = ? AND step = ? ORDER BY id DESC LIMIT 1",
            arguments: [trial, step])
        else { throw StoreError.invalidState("trial \(trial) has no committed checkpoint at step \(step)") }
        return CheckpointID(id)
    }

    static func apply(_ effect: StrategyEffect, task: TaskID, _ db: Database, now: Date) throws {
        switch effect {
        case .addSegment(let trial, let start, let end, let config, let fromTrial, let fromStep):
            var from: CheckpointID?
            if let fromTrial, let fromStep { from = try checkpoint(of: fromTrial, at: fromStep, db) }
            _ = try insertSegment(
                NewSegment(trial: trial, startStep: start, endStep: end, configJSON: config, fromCheckpoint: from), db, now: now)
        case .exploit(let recipient, let donor, let donorStep, let generation, let oldConfig, let newConfig, let changes):
            let from = try checkpoint(of: donor, at: donorStep, db)
            try db.execute(
                sql: """
                    INSERT INTO lineage (task_id, step, generation, donor_trial_id, recipient_trial_id,
                        donor_checkpoint_id, old_config_json, new_config_json, changes_json, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [task, donorStep, generation, donor, recipient, from, oldConfig, newConfig, changes, now.storeTime])
            try db.execute(
                sql: """
                    UPDATE trials SET config_json = ?, generation = ?, checkpoint_id = ?, steps_done = ?,
                        status = 'pending', error = NULL, updated_at = ? WHERE id = ?
                    """,
                arguments: [newConfig, generation, from, donorStep, now.storeTime, recipient])
        case .trialStatus(let trial, let status, let error):
            try db.execute(
                sql: "UPDATE trials SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?",
                arguments: [status, error, now.storeTime, trial])
        case .taskStatus(let status, let error):
            try db.execute(
                sql: """
                    UPDATE tasks SET status = ?1, error = COALESCE(?2, error),
                        finished_at = CASE WHEN ?1 IN ('succeeded', 'failed', 'cancelled') THEN ?3 ELSE finished_at END
                    WHERE id = ?4
                    """,
                arguments: [status, error, now.storeTime, task])
        }
    }
}
