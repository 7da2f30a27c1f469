import Foundation
import TunedRPC

/// How `tunectl` writes numbers, durations, times and configurations for people.
public enum Formatting {
    /// A metric value with 4 significant digits (`0.06880`, `1.235e-05`), `NaN`/`inf` for
    /// the non-finite values a diverged trial reports.
    public static func metric(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 { return String(format: "%.4g", value) }
        return String(format: "%.3e", value)
    }

    /// A duration as a person reads it: `42s`, `3m 05s`, `2h 07m`, `3d 04h`.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(pad2(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h \(pad2(s / 60 % 60))m" }
        return "\(s / 86400)d \(pad2(s / 3600 % 24))h"
    }

    /// `9600/32000 (30%)`.
    public static func steps(done: Int64, total: Int64) -> String {
        guard total > 0 else { return "\(done)/?" }
        let pct = Double(done) / Double(total) * 100
        return "\(done)/\(total) (\(String(format: "%.0f", pct.rounded(.down)))%)"
    }

    /// A time since the epoch as local `yyyy-MM-dd HH:mm:ss`.
    public static func timestamp(_ secondsSinceEpoch: Double?) -> String {
        guard let secondsSinceEpoch else { return "-" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: secondsSinceEpoch))
    }

    /// A configuration on one line of a table: `optimizer=adamw lr=0.003162 batch_size=64`, keys
    /// sorted with `optimizer` first, numbers as `tableScalar` writes them (4 significant
    /// digits; `--json` keeps every digit). A non-object value is written as JSON.
    public static func config(_ value: RPCValue?) -> String {
        guard let value else { return "-" }
        guard let object = value.objectValue else { return value.jsonText }
        return orderedKeys(object.keys).map { "\($0)=\(tableScalar(object[$0]!))" }.joined(separator: " ")
    }

    /// A number in a table: a whole number as it is (`64`, `600`), any other to 4 significant
    /// digits, trailing zeros dropped (`0.003162`, `0.0001`, `1.235e-05`).
    public static func tableNumber(_ d: Double) -> String {
        if !d.isFinite || (d == d.rounded() && abs(d) < 1e15) { return shortNumber(d) }
        return String(format: "%.4g", d)
    }

    /// `scalar` with numbers as `tableNumber` writes them.
    public static func tableScalar(_ value: RPCValue) -> String {
        if case .double(let d) = value { return tableNumber(d) }
        return scalar(value)
    }

    /// A configuration to glance at: like `config`, with numbers to 3 significant digits and a
    /// nested table by its `kind` (`lr=0.216 schedule=warmup_cosine`).
    public static func compactConfig(_ value: RPCValue?) -> String {
        guard let object = value?.objectValue else { return config(value) }
        return orderedKeys(object.keys).map { key in
            let v = object[key]!
            switch v {
            case .double(let d) where d.isFinite && d != d.rounded(): return "\(key)=" + String(format: "%.3g", d)
            case .object(let o) where o["kind"]?.stringValue != nil: return "\(key)=\(o["kind"]!.stringValue!)"
            default: return "\(key)=\(scalar(v))"
            }
        }.joined(separator: " ")
    }

    /// Keys sorted, `optimizer` first (it selects which other keys apply).
    public static func orderedKeys(_ keys: some Sequence<String>) -> [String] {
        keys.sorted { a, b in
            if a == "optimizer" || b == "optimizer" { return a == "optimizer" && b != "optimizer" }
            return a < b
        }
    }

    /// A configuration value as a cell: strings bare, numbers short, others as JSON.
    public static func scalar(_ value: RPCValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return shortNumber(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array, .object: return value.jsonText
        }
    }

    /// The shortest form that round-trips (`0.001`, `1e-05`, `64`).
    public static func shortNumber(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return d.description
    }

    /// `1.0 MiB`.
    public static func bytes(_ n: Int64?) -> String {
        guard let n else { return "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 {
            v /= 1024
            u += 1
        }
        return u == 0 ? "\(n) B" : String(format: "%.1f", v) + " " + units[u]
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
