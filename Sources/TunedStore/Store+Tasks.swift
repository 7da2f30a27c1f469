import Foundation
import GRDB

/// A task to create: the file as submitted and what the daemon made of it.
public struct NewTask: Sendable {
    public var name: String
    public var specText: String
    public var specFormat: SpecFormat
    public var specJSON: String
    public var strategy: String
    public var seed: Int64
    public var featuresJSON: String?
    public var objective: Objective
    /// True when a client of the submitter leases the segments (`study.ask`), not the workers.
    public var leasedByClient: Bool

    public init(
        name: String, specText: String, specFormat: SpecFormat, specJSON: String, strategy: String,
        seed: Int64 = 0, featuresJSON: String? = nil, objective: Objective, leasedByClient: Bool = false
    ) {
        self.leasedByClient = leasedByClient
        self.name = name
        self.specText = specText
        self.specFormat = specFormat
        self.specJSON = specJSON
        self.strategy = strategy
        self.seed = seed
        self.featuresJSON = featuresJSON
        self.objective = objective
    }
}

/// A trial to create with its task, and optionally its first segment `[0, firstSegmentEnd)`.
public struct NewTrial: Sendable {
    public var member: Int
    public var configJSON: String
    public var generation: Int
    public var firstSegmentEnd: Int?

    public init(member: Int, configJSON: String, generation: Int = 0, firstSegmentEnd: Int? = nil) {
        self.member = member
        self.configJSON = configJSON
        self.generation = generation
        self.firstSegmentEnd = firstSegmentEnd
    }
}

/// A segment to schedule: steps `[startStep, endStep)` of a trial, from a checkpoint
/// (nil: from scratch), with the trial's current config unless `configJSON` is given.
public struct NewSegment: Sendable {
    public var trial: TrialID
    public var startStep: Int
    public var endStep: Int
    public var configJSON: String?
    public var fromCheckpoint: CheckpointID?

    public init(
        trial: TrialID, startStep: Int, endStep: Int, configJSON: String? = nil, fromCheckpoint: CheckpointID? = nil
    ) {
        self.trial = trial
        self.startStep = startStep
        self.endStep = endStep
        self.configJSON = configJSON
        self.fromCheckpoint = fromCheckpoint
    }
}

extension Store {
    /// Writes a task, its trials and their first segments in one transaction.
    @discardableResult
    public func createTask(_ task: NewTask, trials: [NewTrial], now: Date = Date()) async throws -> TaskID {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO tasks (name, spec_text, spec_format, spec_json, strategy, status, seed,
                                       features_json, objective_metric, objective_mode, created_at, leased_by)
                    VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    task.name, task.specText, task.specFormat, task.specJSON, task.strategy, task.seed,
                    task.featuresJSON, task.objective.metric, task.objective.mode, now.storeTime,
                    task.leasedByClient ? "client" : "worker",
                ])
            let taskID = TaskID(db.lastInsertedRowID)
            let insertTrial = try db.makeStatement(
                sql: """
                    INSERT INTO trials (task_id, member, generation, config_json, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'pending', ?, ?)
                    """)
            let insertSegment = try Self.insertSegmentStatement(db)
            for trial in trials {
                try insertTrial.execute(arguments: [
                    taskID, trial.member, trial.generation, trial.configJSON, now.storeTime, now.storeTime,
                ])
                let trialID = db.lastInsertedRowID
                if let end = trial.firstSegmentEnd {
                    try insertSegment.execute(arguments: [
                        trialID, taskID, 0, end, trial.configJSON, nil, now.storeTime, now.storeTime,
                    ])
                }
            }
            return taskID
        }
    }

    /// All tasks, newest first, optionally only those with one of `statuses`.
    public func listTasks(status statuses: Set<TaskStatus>? = nil, limit: Int = 1000) async throws -> [TaskRecord] {
        try await read { db in
            var request = TaskRecord.order(Column("id").desc).limit(limit)
            if let statuses { request = request.filter(statuses.map(\.rawValue).contains(Column("status"))) }
            return try request.fetchAll(db)
        }
    }

    public func task(_ id: TaskID) async throws -> TaskRecord? {
        try await read { db in try TaskRecord.fetchOne(db, key: id) }
    }

    /// Sets a task's status and its start/finish time. A task that ends as failed or
    /// cancelled also stops its queued segments and its trials that are not running;
    /// segments in flight finish (or expire) normally and get no successor.
    public func setTaskStatus(_ id: TaskID, _ status: TaskStatus, error: String? = nil, now: Date = Date())
        async throws
    {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE tasks SET status = ?1, error = COALESCE(?2, error),
                        started_at = CASE WHEN ?1 = 'running' THEN COALESCE(started_at, ?3) ELSE started_at END,
                        finished_at = CASE WHEN ?1 IN ('succeeded', 'failed', 'cancelled') THEN ?3 ELSE NULL END
                    WHERE id = ?4
                    """,
                arguments: [status, error, now.storeTime, id])
            guard db.changesCount == 1 else { throw StoreError.notFound("task \(id)") }
            if status == .failed || status == .cancelled {
                try db.execute(
                    sql: """
                        UPDATE segments SET status = 'failed', error = ?, updated_at = ?
                        WHERE task_id = ? AND status = 'queued'
                        """,
                    arguments: ["task \(status.rawValue)", now.storeTime, id])
                try db.execute(
                    sql: """
                        UPDATE trials SET status = 'stopped', updated_at = ?
                        WHERE task_id = ? AND status IN ('pending', 'paused')
                        """,
                    arguments: [now.storeTime, id])
            }
        }
    }

    /// Records the task features the daemon computed (JSON), for the meta layer.
    public func setTaskFeatures(_ id: TaskID, featuresJSON: String) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE tasks SET features_json = ? WHERE id = ?", arguments: [featuresJSON, id])
            guard db.changesCount == 1 else { throw StoreError.notFound("task \(id)") }
        }
    }

    /// A task's trials by member and generation.
    public func trials(task: TaskID) async throws -> [TrialRecord] {
        try await read { db in
            try TrialRecord.filter(Column("task_id") == task)
                .order(Column("member"), Column("generation")).fetchAll(db)
        }
    }

    public func trial(_ id: TrialID) async throws -> TrialRecord? {
        try await read { db in try TrialRecord.fetchOne(db, key: id) }
    }

    /// Sets a trial's status (pause, prune, stop …) outside a commit.
    public func setTrialStatus(_ id: TrialID, _ status: TrialStatus, error: String? = nil, now: Date = Date())
        async throws
    {
        try await write { db in
            try db.execute(
                sql: "UPDATE trials SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?",
                arguments: [status, error, now.storeTime, id])
            guard db.changesCount == 1 else { throw StoreError.notFound("trial \(id)") }
            if status.isTerminal {
                try db.execute(
                    sql: """
                        UPDATE segments SET status = 'failed', error = ?, updated_at = ?
                        WHERE trial_id = ? AND status = 'queued'
                        """,
                    arguments: ["trial \(status.rawValue)", now.storeTime, id])
            }
        }
    }

    /// Schedules segments, all in one transaction.
    @discardableResult
    public func addSegments(_ segments: [NewSegment], now: Date = Date()) async throws -> [SegmentID] {
        try await write { db in try segments.map { try Self.insertSegment($0, db, now: now) } }
    }

    /// Trials of a task that are pending with no queued or leased segment: the scheduler's
    /// to-do list after a commit without successor, an exploit decision, or a restart.
    public func trialsAwaitingSchedule(task: TaskID) async throws -> [TrialRecord] {
        try await read { db in
            try TrialRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM trials t
                    WHERE t.task_id = ? AND t.status = 'pending'
                      AND NOT EXISTS (SELECT 1 FROM segments s
                                      WHERE s.trial_id = t.id AND s.status IN ('queued', 'leased'))
                    ORDER BY t.member, t.generation
                    """,
                arguments: [task])
        }
    }

    // MARK: - Helpers shared by the write paths

    static func insertSegmentStatement(_ db: Database) throws -> Statement {
        try db.cachedStatement(
            sql: """
                INSERT INTO segments (trial_id, task_id, start_step, end_step, config_json, from_checkpoint_id,
                                      status, attempts, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)
                """)
    }

    static func insertSegment(_ segment: NewSegment, _ db: Database, now: Date) throws -> SegmentID {
        guard let trial = try TrialRecord.fetchOne(db, key: segment.trial) else {
            throw StoreError.notFound("trial \(segment.trial)")
        }
        guard segment.endStep > segment.startStep, segment.startStep >= 0 else {
            throw StoreError.invalidArgument(
                "segment of trial \(segment.trial) has steps [\(segment.startStep), \(segment.endStep)): "
                    + "the end must be after the start")
        }
        if trial.status.isTerminal {
            throw StoreError.invalidState("trial \(trial.id) is \(trial.status.rawValue): it gets no more segments")
        }
        try insertSegmentStatement(db).execute(arguments: [
            trial.id, trial.taskID, segment.startStep, segment.endStep, segment.configJSON ?? trial.configJSON,
            segment.fromCheckpoint, now.storeTime, now.storeTime,
        ])
        return SegmentID(db.lastInsertedRowID)
    }
}
