import Foundation
import GRDB

/// A PBT exploit/explore edge to record.
public struct NewLineageEdge: Sendable, Hashable {
    public var task: TaskID
    public var step: Int
    public var generation: Int
    public var donor: TrialID
    public var recipient: TrialID
    public var donorCheckpoint: CheckpointID?
    public var oldConfigJSON: String
    public var newConfigJSON: String
    public var changesJSON: String

    public init(
        task: TaskID, step: Int, generation: Int, donor: TrialID, recipient: TrialID, donorCheckpoint: CheckpointID?,
        oldConfigJSON: String, newConfigJSON: String, changesJSON: String
    ) {
        self.task = task
        self.step = step
        self.generation = generation
        self.donor = donor
        self.recipient = recipient
        self.donorCheckpoint = donorCheckpoint
        self.oldConfigJSON = oldConfigJSON
        self.newConfigJSON = newConfigJSON
        self.changesJSON = changesJSON
    }
}

extension Store {
    /// Records an exploit in one transaction: the lineage edge; the recipient's new config,
    /// generation and (given a donor checkpoint) its current checkpoint and step; and, when
    /// `nextSegmentEnd` is given, its next segment from the donor's checkpoint.
    @discardableResult
    public func addLineageEdge(_ edge: NewLineageEdge, nextSegmentEnd: Int? = nil, now: Date = Date()) async throws
        -> (edge: LineageID, nextSegment: SegmentID?)
    {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO lineage (task_id, step, generation, donor_trial_id, recipient_trial_id,
                        donor_checkpoint_id, old_config_json, new_config_json, changes_json, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    edge.task, edge.step, edge.generation, edge.donor, edge.recipient, edge.donorCheckpoint,
                    edge.oldConfigJSON, edge.newConfigJSON, edge.changesJSON, now.storeTime,
                ])
            let edgeID = LineageID(db.lastInsertedRowID)
            var stepsDone = edge.step
            if let checkpoint = edge.donorCheckpoint {
                guard let record = try CheckpointRecord.fetchOne(db, key: checkpoint) else {
                    throw StoreError.notFound("checkpoint \(checkpoint)")
                }
                stepsDone = record.step
            }
            try db.execute(
                sql: """
                    UPDATE trials SET config_json = ?, generation = ?, checkpoint_id = COALESCE(?, checkpoint_id),
                        steps_done = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    edge.newConfigJSON, edge.generation, edge.donorCheckpoint, stepsDone, now.storeTime, edge.recipient,
                ])
            var next: SegmentID?
            if let end = nextSegmentEnd {
                next = try Self.insertSegment(
                    NewSegment(
                        trial: edge.recipient, startStep: stepsDone, endStep: end, configJSON: edge.newConfigJSON,
                        fromCheckpoint: edge.donorCheckpoint),
                    db, now: now)
            }
            return (edgeID, next)
        }
    }

    /// A task's lineage edges in the order they happened.
    public func lineage(task: TaskID) async throws -> [LineageRecord] {
        try await read { db in
            try LineageRecord.filter(Column("task_id") == task).order(Column("step"), Column("id")).fetchAll(db)
        }
    }

    @discardableResult
    public func addEvent(
        task: TaskID?, trial: TrialID? = nil, kind: String, message: String, dataJSON: String? = nil,
        now: Date = Date()
    ) async throws -> EventID {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO events (task_id, trial_id, kind, message, data_json, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [task, trial, kind, message, dataJSON, now.storeTime])
            return EventID(db.lastInsertedRowID)
        }
    }

    /// A task's events after `after` (for `watch`), oldest first.
    public func events(task: TaskID, after: EventID? = nil, limit: Int = 1000) async throws -> [EventRecord] {
        try await read { db in
            try EventRecord.filter(Column("task_id") == task && Column("id") > (after?.rawValue ?? 0))
                .order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    // MARK: - Policies

    /// Saves a new version of a policy document; with `activate`, it becomes the active one
    /// of its kind (the previous active version is deactivated in the same transaction).
    @discardableResult
    public func savePolicy(kind: String, documentJSON: String, activate: Bool = true, now: Date = Date())
        async throws -> Int64
    {
        try await write { db in
            if activate {
                try db.execute(sql: "UPDATE policies SET active = 0 WHERE kind = ? AND active = 1", arguments: [kind])
            }
            try db.execute(
                sql: "INSERT INTO policies (kind, document_json, created_at, active) VALUES (?, ?, ?, ?)",
                arguments: [kind, documentJSON, now.storeTime, activate])
            return db.lastInsertedRowID
        }
    }

    /// Makes an existing version the active one of its kind.
    public func activatePolicy(version: Int64) async throws {
        try await write { db in
            guard let policy = try PolicyRecord.fetchOne(db, key: version) else {
                throw StoreError.notFound("policy version \(version)")
            }
            try db.execute(
                sql: "UPDATE policies SET active = 0 WHERE kind = ? AND active = 1", arguments: [policy.kind])
            try db.execute(sql: "UPDATE policies SET active = 1 WHERE version = ?", arguments: [version])
        }
    }

    public func activePolicy(kind: String) async throws -> PolicyRecord? {
        try await read { db in
            try PolicyRecord.filter(Column("kind") == kind && Column("active") == true).fetchOne(db)
        }
    }

    public func policies(kind: String) async throws -> [PolicyRecord] {
        try await read { db in
            try PolicyRecord.filter(Column("kind") == kind).order(Column("version")).fetchAll(db)
        }
    }

    // MARK: - Checkpoints

    public func checkpoint(_ id: CheckpointID) async throws -> CheckpointRecord? {
        try await read { db in try CheckpointRecord.fetchOne(db, key: id) }
    }

    /// Live (not released), unpinned checkpoints that nothing needs any more: not the current
    /// checkpoint of any trial, not the start of any queued or leased segment, and not the
    /// donor checkpoint of any PBT lineage edge (a lineage is replayable from its edges).
    /// Delete their files, then call ``markCheckpointsReleased(_:now:)``.
    public func unreferencedCheckpoints() async throws -> [CheckpointRecord] {
        try await read { db in
            try CheckpointRecord.fetchAll(
                db,
                sql: """
                    SELECT c.* FROM checkpoints c
                    WHERE c.released_at IS NULL AND c.pinned = 0
                      AND NOT EXISTS (SELECT 1 FROM trials t WHERE t.checkpoint_id = c.id)
                      AND NOT EXISTS (SELECT 1 FROM segments s
                                      WHERE s.from_checkpoint_id = c.id AND s.status IN ('queued', 'leased'))
                      AND NOT EXISTS (SELECT 1 FROM lineage l WHERE l.donor_checkpoint_id = c.id)
                    ORDER BY c.id
                    """)
        }
    }

    /// Records that garbage collection deleted these checkpoints' files (rows stay for history).
    public func markCheckpointsReleased(_ ids: [CheckpointID], now: Date = Date()) async throws {
        try await write { db in
            let statement = try db.makeStatement(
                sql:
                    """
                    UPDATE checkpoints SET released_at = ?, blob = CASE WHEN blob IS NULL THEN NULL ELSE x'' END
                    WHERE id = ? AND released_at IS NULL
                    """
            )
            for id in ids { try statement.execute(arguments: [now.storeTime, id]) }
        }
    }

    /// Keeps a checkpoint forever (e.g. a task's best), or lets GC have it again.
    public func pinCheckpoint(_ id: CheckpointID, _ pinned: Bool = true) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE checkpoints SET pinned = ? WHERE id = ?", arguments: [pinned, id])
            guard db.changesCount == 1 else { throw StoreError.notFound("checkpoint \(id)") }
        }
    }
}
