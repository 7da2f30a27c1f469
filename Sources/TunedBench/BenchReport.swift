import Foundation

/// Formats benchmark rows as a table and as JSON, with the machine context that makes the
/// numbers readable later (cores, load average, OpenBLAS settings).
public enum BenchReport {
    public static func table(_ rows: [BenchResult]) -> String {
        var out = ""
        var group = ""
        for r in rows {
            if r.group != group {
                group = r.group
                out += "\n== \(group)\n"
                out += pad("name", 22) + pad("value", 14) + pad("unit", 10) + pad("baseline", 12) + pad("ratio", 8) + "note\n"
            }
            out += pad(r.name, 22) + pad(format(r.value), 14) + pad(r.unit, 10)
            out += pad(r.baseline.map(format) ?? "", 12) + pad(r.ratio.map { String(format: "%.2f", $0) } ?? "", 8)
            out += (r.note ?? "") + "\n"
        }
        return out
    }

    public static func machine() -> [String: String] {
        var m: [String: String] = [:]
        m["date"] = ISO8601DateFormatter().string(from: Date())
        m["cores"] = "\(ProcessInfo.processInfo.activeProcessorCount)"
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            m["loadavg"] = load.split(separator: " ").prefix(3).joined(separator: " ")
        }
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
            m["cpu"] = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let env = ProcessInfo.processInfo.environment
        m["OPENBLAS_CORETYPE"] = env["OPENBLAS_CORETYPE"] ?? "(unset)"
        m["OPENBLAS_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] ?? "(unset)"
        return m
    }

    public static func json(_ rows: [BenchResult]) throws -> Data {
        struct Document: Encodable { var machine: [String: String]; var results: [BenchResult] }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(Document(machine: machine(), results: rows))
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0)
    }

    private static func format(_ v: Double) -> String {
        if v.isNaN { return "n/a" }
        if abs(v) >= 1000 { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.3f", v)
    }
}
