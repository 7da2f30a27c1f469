import Foundation
import TunedEngine
import TunedOptim

/// What `tuned train --checkpoint DIR` records beside the checkpoint: the trial configuration
/// and the seed that wrote it (`DIR/tuned-train.json`). A plain `--restore DIR` takes the
/// optimizer state, learning rate included, from the checkpoint, so a `--config` that differs
/// would be silently ignored; `differences` names every key that differs so that `tuned
/// train` can refuse it (with `--exploit` the new configuration is the point, and allowed).
/// Checkpoints without the file (written by the daemon's workers) are not checked.
struct TrainCheckpointConfig: Equatable {
    static let fileName = "tuned-train.json"

    var config: [String: JSONValue]
    var seed: UInt64

    func write(to directory: URL) throws {
        let object: JSONValue = .object(["config": .object(config), "seed": .number(Double(seed))])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let url = directory.appendingPathComponent(Self.fileName)
        do {
            try (encoder.encode(object) + Data("\n".utf8)).write(to: url, options: .atomic)
        } catch {
            throw Failure("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// The record in `directory`, nil when there is none; an unreadable one is an error naming it.
    static func read(from directory: URL) throws -> TrainCheckpointConfig? {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        guard let v = try? JSONValue.parse(data), let config = v["config"]?.objectValue,
              let s = v["seed"]?.doubleValue, s >= 0, s == s.rounded(), s < 1e16
        else {
            throw Failure("\(url.path) is not a configuration record of tuned train; delete it to resume without the check")
        }
        return TrainCheckpointConfig(config: config, seed: UInt64(s))
    }

    /// `key checkpoint→given` for every key whose value differs (or is set on one side only),
    /// keys sorted, the seed last.
    func differences(from given: TrainCheckpointConfig) -> [String] {
        func shown(_ v: JSONValue?) -> String {
            guard let v else { return "(not set)" }
            if let s = v.stringValue { return s }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return (try? encoder.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
        }
        var out = Set(config.keys).union(given.config.keys).sorted().compactMap { key in
            config[key] == given.config[key] ? nil : "\(key) \(shown(config[key]))→\(shown(given.config[key]))"
        }
        if seed != given.seed { out.append("seed \(seed)→\(given.seed)") }
        return out
    }
}
