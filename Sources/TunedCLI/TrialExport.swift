import Foundation
import TunedRPC

/// Per-trial rows for spreadsheets and notebooks: the trial's fields, then one column per
/// configuration key, then one per final metric (`tunectl export TASK --format csv|json`).
///
/// Columns: `trial_id, member, status, steps_done, best_metric, parent_trial_id`, the config
/// keys (sorted, `optimizer` first) and the metric names (sorted). A metric whose name is
/// already a column is written `metric.NAME`. A trial without a key has an empty cell (CSV)
/// or no member (JSON).
public struct TrialExport: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json
    }

    public static let fixedColumns = ["trial_id", "member", "status", "steps_done", "best_metric", "parent_trial_id"]

    public let columns: [String]
    /// One object per trial, keyed by column.
    public let rows: [[String: RPCValue]]

    public init(trials: [TrialRow]) {
        var configKeys = Set<String>()
        var metricNames = Set<String>()
        for t in trials {
            if let o = t.config.objectValue { configKeys.formUnion(o.keys) }
            metricNames.formUnion(t.finalMetrics.keys)
        }
        let configColumns = Formatting.orderedKeys(configKeys.subtracting(Self.fixedColumns))
        let taken = Set(Self.fixedColumns).union(configColumns)
        let metricColumn = { (name: String) in taken.contains(name) ? "metric." + name : name }
        columns = Self.fixedColumns + configColumns + metricNames.sorted().map(metricColumn)

        rows = trials.map { t in
            var row: [String: RPCValue] = [
                "trial_id": .int(t.trialID), "member": .int(Int64(t.member)), "status": .string(t.status.rawValue),
                "steps_done": .int(t.stepsDone),
            ]
            row["best_metric"] = t.bestMetric.map(RPCValue.double)
            row["parent_trial_id"] = t.parentTrialID.map(RPCValue.int)
            for (k, v) in t.config.objectValue ?? [:] where !Self.fixedColumns.contains(k) { row[k] = v }
            for (name, v) in t.finalMetrics { row[metricColumn(name)] = .double(v) }
            return row
        }
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .csv: return csv()
        case .json: return json()
        }
    }

    /// RFC 4180 CSV: a header line, then one line per trial; fields with a comma, quote or
    /// line break are quoted, quotes doubled. Lines end with `\n`.
    public func csv() -> String {
        var out = columns.map(Self.csvField).joined(separator: ",") + "\n"
        for row in rows {
            out += columns.map { row[$0].map(Self.cell) ?? "" }.map(Self.csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    /// A JSON array of flat objects (keys sorted), one per trial, followed by a newline.
    public func json() -> String {
        RPCValue.array(rows.map { RPCValue.object($0) }).jsonText + "\n"
    }

    static func cell(_ v: RPCValue) -> String {
        switch v {
        case .double(let d): return Formatting.shortNumber(d)
        case .null: return ""
        default: return Formatting.scalar(v)
        }
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
