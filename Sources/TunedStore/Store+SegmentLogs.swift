import Foundation
import GRDB

/// Why one attempt of a segment failed or diverged, as the daemon records it
/// (`segment_logs`, migration 0003).
public struct NewSegmentLog: Sendable, Hashable {
    public var segment: SegmentID
    public var attempt: Int
    /// `failed` or `diverged`.
    public var diverged: Bool
    /// One line: `KeyError: 'lr'`, `the loss became NaN or infinite at step 120`.
    public var reason: String
    /// The whole error the worker (or the daemon) reported.
    public var error: String
    public var stderrTail: String?
    public var workerLog: String?
    public var worker: String?

    public init(
        segment: SegmentID, attempt: Int, diverged: Bool, reason: String, error: String, stderrTail: String? = nil,
        workerLog: String? = nil, worker: String? = nil
    ) {
        self.segment = segment
        self.attempt = attempt
        self.diverged = diverged
        self.reason = reason
        self.error = error
        self.stderrTail = stderrTail
        self.workerLog = workerLog
        self.worker = worker
    }
}

/// A stored `segment_logs` row with its segment's steps.
public struct SegmentLogRecord: Sendable, Hashable {
    public var id: Int64
    public var task: TaskID
    public var trial: TrialID
    public var member: Int
    public var segment: SegmentID
    public var startStep: Int
    public var endStep: Int
    public var attempt: Int
    public var diverged: Bool
    public var reason: String
    public var error: String
    public var stderrTail: String?
    public var workerLog: String?
    public var worker: String?
    public var createdAt: Date
}

extension Store {
    /// Appends the log of a failed or diverged attempt (one transaction). The segment names
    /// its task and trial.
    @discardableResult
    public func addSegmentLog(_ log: NewSegmentLog, now: Date = Date()) async throws -> Int64 {
        try await write { db in
            guard let segment = try SegmentRecord.fetchOne(db, key: log.segment) else {
                throw StoreError.notFound("segment \(log.segment)")
            }
            try db.execute(
                sql: """
                    INSERT INTO segment_logs (task_id, trial_id, segment_id, attempt, status, reason, error,
                        stderr_tail, worker_log, worker, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    segment.taskID, segment.trialID, segment.id, max(log.attempt, 1), log.diverged ? "diverged" : "failed",
                    log.reason, log.error, log.stderrTail, log.workerLog, log.worker, now.storeTime,
                ])
            return db.lastInsertedRowID
        }
    }

    /// A task's failure logs in the order they were written; only `trial`'s and `segment`'s
    /// when given; at most `limit` (the oldest first).
    public func segmentLogs(task: TaskID, trial: TrialID? = nil, segment: SegmentID? = nil, limit: Int? = nil)
        async throws -> [SegmentLogRecord]
    {
        try await read { db in
            var sql = """
                SELECT l.*, s.start_step, s.end_step, t.member FROM segment_logs l
                JOIN segments s ON s.id = l.segment_id JOIN trials t ON t.id = l.trial_id
                WHERE l.task_id = ?
                """
            var arguments: StatementArguments = [task]
            if let trial {
                sql += " AND l.trial_id = ?"
                arguments += [trial]
            }
            if let segment {
                sql += " AND l.segment_id = ?"
                arguments += [segment]
            }
            sql += " ORDER BY l.id"
            if let limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.segmentLog)
        }
    }

    /// The latest failure reason of each trial of `task` that has one.
    public func latestFailureReasons(task: TaskID) async throws -> [TrialID: String] {
        try await read { db in
            var out: [TrialID: String] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT trial_id, reason FROM segment_logs
                    WHERE id IN (SELECT MAX(id) FROM segment_logs WHERE task_id = ? GROUP BY trial_id)
                    """,
                arguments: [task])
            for row in rows { out[TrialID(row["trial_id"] as Int64)] = row["reason"] }
            return out
        }
    }

    static func segmentLog(_ row: Row) -> SegmentLogRecord {
        SegmentLogRecord(
            id: row["id"], task: TaskID(row["task_id"] as Int64), trial: TrialID(row["trial_id"] as Int64),
            member: row["member"], segment: SegmentID(row["segment_id"] as Int64), startStep: row["start_step"],
            endStep: row["end_step"], attempt: row["attempt"], diverged: (row["status"] as String) == "diverged",
            reason: row["reason"], error: row["error"], stderrTail: row["stderr_tail"], workerLog: row["worker_log"],
            worker: row["worker"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}
