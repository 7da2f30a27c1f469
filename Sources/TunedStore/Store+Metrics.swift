import Foundation
import GRDB

/// One metric value of a segment: `value` may be NaN or infinite.
public struct Metric: Hashable, Sendable {
    public var step: Int
    public var name: String
    public var value: Double

    public init(step: Int, name: String, value: Double) {
        self.step = step
        self.name = name
        self.value = value
    }
}

/// One metric value of any trial, for batched ingest.
public struct MetricRow: Hashable, Sendable {
    public var trial: TrialID
    public var step: Int
    public var name: String
    public var value: Double
    public var segment: SegmentID?

    public init(trial: TrialID, step: Int, name: String, value: Double, segment: SegmentID? = nil) {
        self.trial = trial
        self.step = step
        self.name = name
        self.value = value
        self.segment = segment
    }
}

extension Store {
    /// Appends metric rows in one transaction through one prepared statement.
    ///
    /// A row whose (trial, name, step) is already stored is ignored: the first committed value
    /// wins, so a replayed segment never duplicates a metric. Each touched trial's best value
    /// and latest metrics are refreshed in the same transaction.
    /// - Returns: the number of rows actually inserted.
    @discardableResult
    public func appendMetrics(_ rows: [MetricRow]) async throws -> Int {
        if rows.isEmpty { return 0 }
        return try await write { db in
            let inserted = try Self.insertMetrics(rows.lazy.map { ($0.trial, $0.segment, $0) }, db)
            var trials = Set<TrialID>()
            for row in rows { trials.insert(row.trial) }
            try Self.refreshSummaries(of: trials, db, now: Date())
            return inserted
        }
    }

    /// A trial's metrics, by name then step; NaN comes back as NaN.
    public func metrics(trial: TrialID, name: String? = nil) async throws -> [MetricRow] {
        try await read { db in
            var sql = "SELECT name, step, value, segment_id FROM metrics WHERE trial_id = ?"
            var arguments: StatementArguments = [trial]
            if let name {
                sql += " AND name = ?"
                arguments += [name]
            }
            sql += " ORDER BY name, step"
            var result: [MetricRow] = []
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try cursor.next() {
                result.append(
                    MetricRow(
                        trial: trial, step: row[1], name: row[0], value: metricValue(row[2]), segment: row[3]))
            }
            return result
        }
    }

    /// How many metric rows a trial has (all names), for checks and progress.
    public func metricCount(trial: TrialID) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metrics WHERE trial_id = ?", arguments: [trial]) ?? 0
        }
    }

    // MARK: - Helpers

    /// INSERT OR IGNORE through one cached statement; returns the number of new rows.
    static func insertMetrics<S: Sequence>(_ rows: S, _ db: Database) throws -> Int
    where S.Element == (TrialID, SegmentID?, MetricRow) {
        let statement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO metrics (trial_id, name, step, value, segment_id) VALUES (?, ?, ?, ?, ?)")
        var inserted = 0
        for (trial, segment, row) in rows {
            // NaN binds as NULL (SQLite has no NaN); ±infinity is stored as is.
            statement.setUncheckedArguments([
                trial.rawValue, row.name, row.step, row.value.isNaN ? nil : row.value, segment?.rawValue,
            ])
            try statement.execute()
            inserted += db.changesCount
        }
        return inserted
    }

    /// Recomputes trials' `best_value`/`best_step` (task objective, NaN never best) and
    /// `final_metrics_json` (latest step's value of every metric name) from `metrics`.
    static func refreshSummaries(of trials: Set<TrialID>, _ db: Database, now: Date) throws {
        if trials.isEmpty { return }
        let ids = "[" + trials.map { String($0.rawValue) }.joined(separator: ",") + "]"
        // The ORDER BY key maps "best" to "smallest" for both modes.
        let best = """
            FROM metrics m JOIN tasks k ON k.id = trials.task_id
            WHERE m.trial_id = trials.id AND m.name = k.objective_metric AND m.value IS NOT NULL
            ORDER BY CASE k.objective_mode WHEN 'max' THEN -m.value ELSE m.value END, m.step LIMIT 1
            """
        try db.execute(
            sql: """
                UPDATE trials SET
                    best_value = (SELECT m.value \(best)),
                    best_step = (SELECT m.step \(best)),
                    final_metrics_json = (
                        SELECT json_group_object(m1.name, m1.value) FROM metrics m1
                        WHERE m1.trial_id = trials.id
                          AND m1.step = (SELECT MAX(m2.step) FROM metrics m2
                                         WHERE m2.trial_id = m1.trial_id AND m2.name = m1.name)),
                    updated_at = ?
                WHERE id IN (SELECT value FROM json_each(?))
                """,
            arguments: [now.storeTime, ids])
    }
}
