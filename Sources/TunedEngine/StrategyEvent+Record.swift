import Foundation

/// A strategy event as the daemon records it (events table, kind `strategy_event`), so that a
/// restarted daemon replays exactly the events its strategy saw, in the order it saw them.
/// Metric values are stored as IEEE-754 bit patterns (hex): NaN, ±Inf and every last bit
/// survive the round trip, which sync PBT's bit-for-bit determinism after a restart needs.
extension StrategyEvent {
    private struct Record: Codable {
        var kind: String
        var trial: Int
        var step: Int?
        var metrics: [String: String]?
        var error: String?
        var attempt: Int?
    }

    /// The event as one line of JSON.
    public var recordJSON: String {
        let r: Record
        switch self {
        case .segmentFinished(let t, let s, let m):
            r = Record(kind: "finished", trial: t, step: s, metrics: m.mapValues { String($0.bitPattern, radix: 16) })
        case .segmentFailed(let t, let e, let a):
            r = Record(kind: "failed", trial: t, error: e, attempt: a)
        case .trialDiverged(let t, let s):
            r = Record(kind: "diverged", trial: t, step: s)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self)
    }

    /// Decodes `recordJSON`; nil for anything else.
    public init?(recordJSON text: String) {
        guard let r = try? JSONDecoder().decode(Record.self, from: Data(text.utf8)) else { return nil }
        switch r.kind {
        case "finished":
            guard let s = r.step, let m = r.metrics else { return nil }
            var metrics: [String: Double] = [:]
            for (k, v) in m {
                guard let bits = UInt64(v, radix: 16) else { return nil }
                metrics[k] = Double(bitPattern: bits)
            }
            self = .segmentFinished(trial: r.trial, step: s, metrics: metrics)
        case "failed":
            self = .segmentFailed(trial: r.trial, error: r.error ?? "", attempt: r.attempt ?? 1)
        case "diverged":
            self = .trialDiverged(trial: r.trial, step: r.step ?? 0)
        default: return nil
        }
    }
}
