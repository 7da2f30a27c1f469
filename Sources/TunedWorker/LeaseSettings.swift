import Foundation
import TunedOptim
import TunedRPC
import TunedWorkloads

/// What the runner reads from a lease besides the workload: the seed, the record interval,
/// the noise-scale measurement and the hypergradient settings of the strategy.
///
/// `lease.strategy` (all keys optional; other keys are ignored):
///
///     {"hypergradient": {"kind": "multiplicative", "beta": 0.02, "lr_min": 1e-6, "lr_max": 0.1},
///      "eval_every": 100, "noise_scale_every": 500, "noise_batches": [8, 128], "seed": 7}
///
/// - `hypergradient` becomes the trial config's `hypergradient_kind`, `hypergradient_beta`,
///   `hypergradient_lr_min`, `hypergradient_lr_max`; a key the config already has wins (the config is the searched point).
/// - `seed`: the trial's seed (initialisation, minibatch order; `TUNED_SEED` of a command) is
///   the config's own `seed` key when it has one (a PBT member's, removed from the config;
///   an exploit copies it with the donor's checkpoint, whose identity includes the seed), else
///   the strategy's `seed` (the task's), else the task id.
public struct LeaseSettings: Sendable, Equatable {
    public var seed: UInt64
    public var evalEvery: Int
    public var noiseScaleEvery: Int
    /// The extra-gradient budget of the measurement (`BuiltinSegment.NoiseScaleSettings.maxOverhead`).
    public var noiseMaxOverhead: Double?
    public var noiseBatches: (small: Int, big: Int)
    /// The trial configuration with the strategy merged in and `seed` removed.
    public var config: [String: JSONValue]
    /// Keys a command workload's program gets as JSON floats even when whole
    /// (`strategy.config_float_keys`; the daemon lists a task's float-valued `[search]` keys).
    public var floatKeys: Set<String> = []

    /// `config` as `TUNED_CONFIG` carries it: whole numbers as JSON integers (`64`), except the
    /// `floatKeys`, which stay floats (`1.0`).
    public var programConfig: [String: RPCValue] {
        var out = config.mapValues(RPCValue.init)
        for key in floatKeys {
            if case .int(let i)? = out[key] { out[key] = .double(Double(i)) }
        }
        return out
    }
    /// How to restore the lease's checkpoint: `.exploit` when the config carries the daemon's
    /// `pbt_exploit` key (removed from `config`): `"keep_optimizer_state"` or `"reset_optimizer_state"`.
    public var restoreMode: RestoreMode = .resume

    public static let defaultEvalEvery = 100

    public init(lease: Lease) throws {
        guard case .object(let rawConfig) = lease.config else {
            throw WorkerError("lease config must be a JSON object, got \(lease.config.jsonText)")
        }
        var config = rawConfig.mapValues(JSONValue.init)
        if let mode = config.removeValue(forKey: "pbt_exploit") {
            switch mode.stringValue {
            case "keep_optimizer_state": restoreMode = .exploit(resetOptimizerState: false)
            case "reset_optimizer_state": restoreMode = .exploit(resetOptimizerState: true)
            default:
                throw WorkerError("config: 'pbt_exploit' must be \"keep_optimizer_state\" or \"reset_optimizer_state\", got \(mode)")
            }
        }
        let strategy = lease.strategy?.objectValue ?? [:]
        func int(_ v: RPCValue?, _ name: String, min: Int) throws -> Int? {
            guard let v, !v.isNull else { return nil }
            guard let d = v.doubleValue, d == d.rounded(), d >= Double(min), d <= 1e15 else {
                throw WorkerError("strategy: '\(name)' must be an integer ≥ \(min), got \(v.jsonText)")
            }
            return Int(d)
        }
        // A trial's own seed (PBT's `member_seeds = "distinct"`) wins over the task's.
        if let s = config.removeValue(forKey: "seed") {
            guard let d = Self.seed(s) else {
                throw WorkerError("config: 'seed' must be an integer in [0, 10^15], got \(RPCValue(s).jsonText)")
            }
            seed = d
        } else if let s = try int(strategy["seed"], "seed", min: 0) {
            seed = UInt64(s)
        } else {
            seed = UInt64(bitPattern: lease.taskID)
        }
        evalEvery = try int(strategy["eval_every"], "eval_every", min: 1) ?? Self.defaultEvalEvery
        noiseScaleEvery = try int(strategy["noise_scale_every"], "noise_scale_every", min: 0) ?? 0
        if let f = strategy["noise_scale_max_overhead"], !f.isNull {
            guard let d = f.doubleValue, d > 0, d <= 1 else {
                throw WorkerError("strategy: 'noise_scale_max_overhead' must be a fraction in (0, 1], got \(f.jsonText)")
            }
            noiseMaxOverhead = d
        } else {
            noiseMaxOverhead = nil
        }
        noiseBatches = (8, 128)
        if let b = strategy["noise_batches"], !b.isNull {
            guard let a = b.arrayValue, a.count == 2, let s = try int(a[0], "noise_batches", min: 1),
                  let l = try int(a[1], "noise_batches", min: 1) else {
                throw WorkerError("strategy: 'noise_batches' must be [small, big], e.g. [8, 128]")
            }
            noiseBatches = (s, l)
        }
        if let hd = strategy["hypergradient"], !hd.isNull {
            guard let o = hd.objectValue else {
                throw WorkerError("strategy: 'hypergradient' must be an object like {\"beta\": 1e-4}")
            }
            for (key, target) in [("beta", "hypergradient_beta"), ("lr_min", "hypergradient_lr_min"), ("lr_max", "hypergradient_lr_max")] {
                guard let v = o[key], !v.isNull, config[target] == nil else { continue }
                guard let d = v.doubleValue else { throw WorkerError("strategy: 'hypergradient.\(key)' must be a number") }
                config[target] = .number(d)
            }
            if let v = o["kind"], !v.isNull, config["hypergradient_kind"] == nil {
                guard let name = v.stringValue else { throw WorkerError("strategy: 'hypergradient.kind' must be a string") }
                config["hypergradient_kind"] = .string(name)
            }
        }
        if let keys = strategy["config_float_keys"], !keys.isNull {
            guard let names = keys.arrayValue?.compactMap(\.stringValue), names.count == keys.arrayValue?.count else {
                throw WorkerError("strategy: 'config_float_keys' must be an array of key names, got \(keys.jsonText)")
            }
            floatKeys = Set(names)
        }
        self.config = config
    }

    /// A configuration's `seed` value: an integer in [0, 10¹⁵] (exact as a JSON number), or nil.
    public static func seed(_ v: JSONValue) -> UInt64? {
        guard let d = v.doubleValue, d == d.rounded(), d >= 0, d <= 1e15 else { return nil }
        return UInt64(d)
    }

    public static func == (a: LeaseSettings, b: LeaseSettings) -> Bool {
        a.seed == b.seed && a.evalEvery == b.evalEvery && a.noiseScaleEvery == b.noiseScaleEvery && a.noiseMaxOverhead == b.noiseMaxOverhead
            && a.noiseBatches == b.noiseBatches && a.config == b.config && a.restoreMode == b.restoreMode
    }
}
