import Foundation
import TunedRPC

/// The proof that a connection is one of this daemon's workers.
///
/// The daemon makes a random secret when it starts (or takes `TUNED_WORKER_SECRET` from its
/// own environment, for workers an operator starts by hand) and hands it to each worker it
/// spawns on the worker's standard input — never in argv, never on disk. A worker presents
/// it in `worker.hello`; the connection is then that worker's, and only then may it call the
/// other `worker.*` methods (docs/PROTOCOL.md, "Workers"). Remote workers will prove
/// themselves the same way with a bearer token bound to the `worker` role.
public struct WorkerSecret: Sendable {
    public static let environmentKey = workerSecretEnvironmentKey
    /// The secret's text: 64 hex digits when generated.
    public let value: String

    public init(_ value: String) { self.value = value }

    /// 32 bytes from the system's CSPRNG (getrandom), in hex.
    public static func generate() -> WorkerSecret {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return WorkerSecret(bytes.map { String(format: "%02x", $0) }.joined())
    }

    /// The daemon's secret: `TUNED_WORKER_SECRET` from its environment when set (at least 16
    /// characters), else a new random one.
    public static func forDaemon(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerSecret {
        guard let v = environment[environmentKey] else { return generate() }
        guard v.count >= 16 else {
            throw DaemonError("\(environmentKey) must be at least 16 characters long (it has \(v.count)); unset it to let the daemon make one")
        }
        return WorkerSecret(v)
    }

    /// Whether `candidate` is this secret; takes the same time wherever the first difference is.
    public func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        let a = Array(value.utf8), b = Array(candidate.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
