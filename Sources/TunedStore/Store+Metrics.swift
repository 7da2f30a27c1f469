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
            try Self.insertMetrics(rows, db, now: Date())
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

    /// INSERT OR IGNORE through one cached statement, then the touched trials' summaries
    /// (``updateSummaries(_:_:now:)``) from the rows actually inserted. Returns their number.
    static func insertMetrics<S: Sequence>(_ rows: S, _ db: Database, now: Date) throws -> Int
    where S.Element == MetricRow {
        let statement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO metrics (trial_id, name, step, value, segment_id) VALUES (?, ?, ?, ?, ?)")
        var inserted: [TrialID: [MetricRow]] = [:]
        var count = 0
        for row in rows {
            // NaN binds as NULL (SQLite has no NaN); ±infinity is stored as is.
            statement.setUncheckedArguments([
                row.trial.rawValue, row.name, row.step, row.value.isNaN ? nil : row.value, row.segment?.rawValue,
            ])
            try statement.execute()
            if db.changesCount > 0 {
                count += 1
                inserted[row.trial, default: []].append(row)
            }
        }
        try updateSummaries(inserted, db, now: now)
        return count
    }

    /// Folds newly inserted metric rows into their trials' summaries, one UPDATE per trial:
    /// `best_value`/`best_step` (the task's objective metric; NaN is never best; ties keep
    /// the earlier step) and `final_metrics_json` (per name, the inserted row with the
    /// highest step replaces the stored value). Rows ignored as duplicates change nothing.
    static func updateSummaries(_ inserted: [TrialID: [MetricRow]], _ db: Database, now: Date) throws {
        if inserted.isEmpty { return }
        var objectives: [TrialID: Objective] = [:]
        let ids = "[" + inserted.keys.map { String($0.rawValue) }.joined(separator: ",") + "]"
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT t.id, k.objective_metric, k.objective_mode FROM trials t JOIN tasks k ON k.id = t.task_id
                WHERE t.id IN (SELECT value FROM json_each(?))
                """,
            arguments: [ids])
        while let row = try cursor.next() {
            objectives[TrialID(row[0] as Int64)] = Objective(metric: row[1], mode: row[2])
        }
        for (trial, rows) in inserted {
            guard let objective = objectives[trial] else { throw StoreError.notFound("trial \(trial)") }
            var latest: [String: MetricRow] = [:]
            var best: MetricRow?
            for row in rows {
                if let current = latest[row.name], current.step > row.step {} else { latest[row.name] = row }
                if row.name == objective.metric, !row.value.isNaN {
                    if let b = best {
                        if objective.mode.isBetter(row.value, than: b.value)
                            || (row.value == b.value && row.step < b.step)
                        {
                            best = row
                        }
                    } else {
                        best = row
                    }
                }
            }
            let names = latest.keys.sorted()
            // ?1 best value, ?2 its step, ?3 now, ?4 trial id, then (path, value) pairs from ?5.
            let paths = names.indices.map { "?\(5 + 2 * $0), json(?\(6 + 2 * $0))" }.joined(separator: ", ")
            var arguments: StatementArguments = []
            for name in names {
                arguments += [try jsonPath(name), jsonNumber(latest[name]!.value)]
            }
            let better = objective.mode == .max ? ">" : "<"
            let condition = "?1 IS NOT NULL AND (best_value IS NULL OR ?1 \(better) best_value)"
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE trials SET
                        best_step = CASE WHEN \(condition) THEN ?2 ELSE best_step END,
                        best_value = CASE WHEN \(condition) THEN ?1 ELSE best_value END,
                        final_metrics_json = json_set(COALESCE(final_metrics_json, '{}'), \(paths)),
                        updated_at = ?3
                    WHERE id = ?4
                    """)
            try statement.execute(arguments: [best?.value, best?.step, now.storeTime, trial.rawValue] + arguments)
        }
    }

    /// A Double as JSON text: NaN is `null`, ±infinity `±9e999` (what SQLite itself writes
    /// for infinities and reads back as such), anything else its shortest exact decimal.
    static func jsonNumber(_ value: Double) -> String {
        if value.isNaN { return "null" }
        if value.isInfinite { return value > 0 ? "9e999" : "-9e999" }
        return "\(value)"
    }

    /// A JSON path selecting the object member `name` (quoted, so dots and spaces are fine).
    static func jsonPath(_ name: String) throws -> String {
        if name.isEmpty || name.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || $0.value < 0x20 }) {
            throw StoreError.invalidArgument(
                "metric name \(name.debugDescription) is empty or contains a quote, backslash or control character")
        }
        return "$.\"" + name + "\""
    }
}
