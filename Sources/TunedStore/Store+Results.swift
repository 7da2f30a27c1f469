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
    /// Latest value of every metric name as a JSON object, e.g. `{"val_loss":0.25,"lr":0.01}`
    /// (null for NaN). Pass it through to JSON replies as is, or read ``finalMetrics``.
    public var finalMetricsJSON: String?
    /// Why the trial ended failed, diverged or stopped, if it did (the trial's own error).
    public var error: String? = nil

    /// ``finalMetricsJSON`` decoded (parsed on each access; NaN where the value was NaN).
    public var finalMetrics: [String: Double] { finalMetricsJSON.map(FlatJSON.numbers) ?? [:] }
}

/// A task's results: its trials ranked by the objective, best first (trials without a
/// value last, by id).
public struct TaskResults: Sendable {
    public var task: TaskRecord
    public var trials: [TrialResult]
    public var best: TrialResult? { trials.first { $0.bestValue != nil } }
}

extension Store {
    /// A task's results in one read transaction, walking the `(task_id, best_value)` index
    /// in order (no sort): first the trials with a value, best first, then the others by id.
    /// Final metrics come as the stored JSON text, decoded on demand.
    public func results(task id: TaskID) async throws -> TaskResults {
        try await read { db in
            guard let task = try TaskRecord.fetchOne(db, key: id) else { throw StoreError.notFound("task \(id)") }
            let columns = """
                SELECT id, member, generation, status, config_json, steps_done, best_value, best_step,
                       final_metrics_json, error
                FROM trials INDEXED BY trials_by_task_best
                """
            let direction = task.objectiveMode == .max ? "DESC" : "ASC"
            var trials: [TrialResult] = []
            for sql in [
                "\(columns) WHERE task_id = ? AND best_value IS NOT NULL ORDER BY best_value \(direction)",
                "\(columns) WHERE task_id = ? AND best_value IS NULL ORDER BY best_value",
            ] {
                let first = trials.count
                let rows = try Row.fetchCursor(db, sql: sql, arguments: [id])
                while let row = try rows.next() {
                    trials.append(
                        TrialResult(
                            trial: TrialID(row[0] as Int64), member: row[1], generation: row[2], status: row[3],
                            configJSON: row[4], stepsDone: row[5], bestValue: row[6], bestStep: row[7],
                            finalMetricsJSON: row[8], error: row[9]))
                }
                if direction == "DESC" || first > 0 { Self.orderTiesByID(&trials[first...]) }
            }
            return TaskResults(task: task, trials: trials)
        }
    }

    /// Index order puts equal values in rowid order, reversed by a DESC walk: restore
    /// ascending ids within each run of equal values (rarely more than one element).
    static func orderTiesByID(_ trials: inout ArraySlice<TrialResult>) {
        var start = trials.startIndex
        while start < trials.endIndex {
            var end = start + 1
            while end < trials.endIndex, trials[end].bestValue == trials[start].bestValue { end += 1 }
            if end - start > 1 { trials[start..<end].sort { $0.trial < $1.trial } }
            start = end
        }
    }
}

/// Decodes the flat `{"name": number|null, …}` objects that SQLite's `json_set` writes,
/// without Foundation's JSON machinery; anything else goes through `JSONSerialization`.
enum FlatJSON {
    static func numbers(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        let bytes = Array(text.utf8)
        var i = 0
        func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x0D {
                i += 1
            }
        }
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return fallback(text) }
        i += 1
        while true {
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { return result }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return fallback(text) }
            i += 1
            let keyStart = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { return fallback(text) }
                i += 1
            }
            guard i < bytes.count else { return fallback(text) }
            let key = String(decoding: bytes[keyStart..<i], as: UTF8.self)
            i += 1
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return fallback(text) }
            i += 1
            skipSpace()
            let valueStart = i
            while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}"), bytes[i] != 0x20 {
                i += 1
            }
            let token = String(decoding: bytes[valueStart..<i], as: UTF8.self)
            if token == "null" {
                result[key] = .nan
            } else if let value = Double(token) {
                result[key] = value
            } else {
                return fallback(text)
            }
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    private static func fallback(_ text: String) -> [String: Double] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return [:]
        }
        var result: [String: Double] = [:]
        for (key, value) in object {
            if let number = value as? NSNumber {
                result[key] = number.doubleValue
            } else if value is NSNull {
                result[key] = .nan
            }
        }
        return result
    }
}
