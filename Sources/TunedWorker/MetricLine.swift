import TunedRPC
import TunedWorkloads

/// The metric lines of a command workload's stdout (and of `tuned train`):
///
///     tuned: step=1200 train_loss=0.412 val_loss=0.47 val_accuracy=0.91 lr=0.001
///
/// Grammar (docs/COMMAND_WORKLOADS.md):
///
///     line   = "tuned:" { blank token } [ blank ]        (at the start of the line)
///     token  = key "=" value
///     key    = letter-or-"_" { letter | digit | "_" | "." | "-" | "/" }
///     value  = decimal number (`12`, `-0.5`, `3e-4`, `.5`) | nan | inf | +inf | -inf | infinity …
///              (case-insensitive; hexadecimal and other forms are not numbers)
///     step   = the key `step` with a non-negative integer value, exactly once
///
/// Blanks are spaces and tabs; a trailing `\r` is dropped. Every token other than `step`
/// becomes one metric at that step; `gns` is an alias of `gradient_noise_scale`. A token that
/// is not `key=number` is ignored with a warning; a `tuned:` line without a valid `step`
/// yields no metrics and one warning. A repeated key keeps its last value (one warning).
/// Lines that do not start with `tuned:` are ordinary output.
public enum MetricLine {
    public static let prefix = "tuned:"

    /// Names reported under another name.
    public static let aliases: [String: String] = ["gns": "gradient_noise_scale"]

    public struct Parsed: Sendable, Equatable {
        public var step: Int64?
        public var metrics: [MetricPoint]
        public var warnings: [String]
    }

    /// nil when `line` is not a metric line (it does not start with `tuned:`).
    public static func parse(_ rawLine: Substring) -> Parsed? {
        var line = rawLine
        if line.last == "\r" { line = line.dropLast() }
        guard line.hasPrefix(prefix) else { return nil }
        let body = line.dropFirst(prefix.count)
        var step: Int64?
        var stepSeen = false
        var values: [(String, Double)] = []
        var warnings: [String] = []
        for token in body.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let eq = token.firstIndex(of: "=") else {
                warnings.append("ignored token '\(clip(token))': expected key=value")
                continue
            }
            let key = String(token[..<eq]), text = token[token.index(after: eq)...]
            guard isKey(key) else {
                warnings.append("ignored token '\(clip(token))': '\(clip(key[...]))' is not a metric name")
                continue
            }
            if key == "step" {
                if stepSeen { warnings.append("ignored a second 'step' token '\(clip(token))'"); continue }
                guard let s = Int64(text), s >= 0 else {
                    warnings.append("'step' must be a non-negative integer, got '\(clip(text))'")
                    stepSeen = true
                    continue
                }
                step = s
                stepSeen = true
                continue
            }
            guard let v = number(text) else {
                warnings.append("ignored token '\(clip(token))': '\(clip(text))' is not a number")
                continue
            }
            let name = aliases[key] ?? key
            if let i = values.firstIndex(where: { $0.0 == name }) {
                warnings.append("'\(name)' given twice on one line; the last value is kept")
                values[i].1 = v
            } else {
                values.append((name, v))
            }
        }
        guard let step else {
            if !stepSeen { warnings.append("metric line without 'step=N' ignored: '\(clip(line))'") }
            else { warnings.append("metric line ignored: no valid step") }
            return Parsed(step: nil, metrics: [], warnings: warnings)
        }
        return Parsed(step: step, metrics: values.map { MetricPoint(step: step, name: $0.0, value: $0.1) }, warnings: warnings)
    }

    public static func parse(_ line: String) -> Parsed? { parse(line[...]) }

    /// A number of the grammar above, or nil.
    public static func number(_ text: Substring) -> Double? {
        switch text.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: break
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              text.contains(where: \.isNumber)
        else { return nil }
        return Double(text)
    }

    static func isKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || first == "_" else { return false }
        return key.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-/".unicodeScalars.contains($0))
        }
    }

    private static func clip<S: StringProtocol>(_ s: S) -> String {
        s.count <= 80 ? String(s) : String(s.prefix(77)) + "..."
    }

    /// The line `tuned train` prints for a training record (Swift's shortest round-trip
    /// decimal, so parsing it gives back the same doubles).
    public static func format(_ r: TrainingRecord) -> String {
        var line = "\(prefix) step=\(r.step) train_loss=\(r.trainLoss) val_loss=\(r.validationLoss)"
        if let a = r.validationAccuracy { line += " val_accuracy=\(a)" }
        line += " lr=\(r.learningRate)"
        if let g = r.gradientNoiseScale { line += " gns=\(g)" }
        return line
    }

    /// The metric rows of a training record: train_loss, val_loss, val_accuracy (classification),
    /// lr, gradient_noise_scale (once measured).
    public static func metrics(_ r: TrainingRecord) -> [MetricPoint] {
        let s = Int64(r.step)
        var out = [
            MetricPoint(step: s, name: "train_loss", value: r.trainLoss),
            MetricPoint(step: s, name: "val_loss", value: r.validationLoss),
        ]
        if let a = r.validationAccuracy { out.append(MetricPoint(step: s, name: "val_accuracy", value: a)) }
        out.append(MetricPoint(step: s, name: "lr", value: r.learningRate))
        if let g = r.gradientNoiseScale { out.append(MetricPoint(step: s, name: "gradient_noise_scale", value: g)) }
        return out
    }

    /// A metric whose non-finite value means the run diverged: `loss`, or a name ending in `_loss`.
    public static func isLoss(_ name: String) -> Bool { name == "loss" || name.hasSuffix("_loss") }
}
