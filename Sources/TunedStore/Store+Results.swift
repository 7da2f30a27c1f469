import Foundation
import GRDB

/// One trial in a task's results.
public struct TrialResult: Sendable, Hashable {
    public var trial: TrialID
    public var member: Int
    public var generation: Int
    public var status: TrialStatus
    public var configJSON: String
    public var stepsDone: Int
    /// Best value of the task's objective metric; nil before any (non-NaN) value.
    public var bestValue: Double?
    public var bestStep: Int?
    /// Latest value of every metric name (NaN where the latest value was NaN).
    public var finalMetrics: [String: Double]
}

/// A task's results: its trials ranked by the objective, best first (trials without a
/// value last, by id).
public struct TaskResults: Sendable {
    public var task: TaskRecord
    public var trials: [TrialResult]
    public var best: TrialResult? { trials.first { $0.bestValue != nil } }
}

extension Store {
    /// A task's results in one read transaction: two indexed queries, the final metrics
    /// unpacked by SQLite's `json_each`.
    public func results(task id: TaskID) async throws -> TaskResults {
        try await read { db in
            guard let task = try TaskRecord.fetchOne(db, key: id) else { throw StoreError.notFound("task \(id)") }
            var trials: [TrialResult] = []
            var index: [Int64: Int] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, member, generation, status, config_json, steps_done, best_value, best_step
                    FROM trials WHERE task_id = ? ORDER BY id
                    """,
                arguments: [id])
            while let row = try rows.next() {
                let trialID: Int64 = row[0]
                index[trialID] = trials.count
                trials.append(
                    TrialResult(
                        trial: TrialID(trialID), member: row[1], generation: row[2], status: row[3],
                        configJSON: row[4], stepsDone: row[5], bestValue: row[6], bestStep: row[7],
                        finalMetrics: [:]))
            }
            let metrics = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.id, j.key, j.value FROM trials t, json_each(t.final_metrics_json) j
                    WHERE t.task_id = ? AND t.final_metrics_json IS NOT NULL
                    """,
                arguments: [id])
            while let row = try metrics.next() {
                let trialID: Int64 = row[0]
                if let i = index[trialID] {
                    let name: String = row[1]
                    trials[i].finalMetrics[name] = metricValue(row[2])
                }
            }
            let mode = task.objectiveMode
            trials.sort { a, b in
                switch (a.bestValue, b.bestValue) {
                case let (x?, y?): x == y ? a.trial < b.trial : mode.isBetter(x, than: y)
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): a.trial < b.trial
                }
            }
            return TaskResults(task: task, trials: trials)
        }
    }
}
