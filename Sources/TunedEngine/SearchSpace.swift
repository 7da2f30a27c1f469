import Foundation
import TunedMath
import TunedOptim
import TunedWorkloads

/// One hyperparameter's domain in `[search]`.
public enum ParameterDomain: Sendable, Equatable {
    /// `lr = 0.01`: always this value.
    case fixed(JSONValue)
    /// `{ uniform = [a, b] }`: uniform on [a, b) (a < b).
    case uniform(Double, Double)
    /// `{ log_uniform = [a, b] }`: density ∝ 1/x on [a, b] (0 < a < b).
    case logUniform(Double, Double)
    /// `{ int_uniform = [a, b] }`: each integer of a…b (both included) equally likely.
    case intUniform(Int, Int)
    /// `{ int_log_uniform = [a, b] }`: integers of a…b (1 ≤ a ≤ b), log-uniform: x drawn with
    /// density ∝ 1/x on [a, b + 1), rounded down, so each octave is as likely as the next.
    case intLogUniform(Int, Int)
    /// `{ choice = [...] }` (or a bare array for `optimizer`): one of the values, equally likely.
    case choice([JSONValue])

    /// Whether a grid varies this domain.
    public var values: [JSONValue]? {
        switch self {
        case .fixed(let v): [v]
        case .choice(let vs): vs
        default: nil
        }
    }
}

/// A task's search space: the optimizer as a categorical, and the other hyperparameters,
/// each conditional on the chosen optimizer when it is an optimizer key.
///
/// Conditionality: a key that belongs to the optimizer (`OptimizerSpec.trialKeys`: lr,
/// weight_decay, beta1, beta2, eps, momentum, nesterov, dampening, ns_steps, centered,
/// amsgrad, alpha) appears in a configuration only if the chosen optimizer uses it
/// (`OptimizerSpec.trialKeysUsed(by:)`, the same table `OptimizerSpec.fromTrial` maps
/// with). The other trial keys (batch_size, schedule, hypergradient_*) apply to every optimizer.
public struct SearchSpace: Sendable, Equatable {
    /// The optimizers searched, in the file's order (one for a fixed optimizer); empty when a
    /// command workload's `[search]` has no `optimizer` (its configurations then have none).
    public var optimizers: [String]
    /// Every other key of `[search]`.
    public var parameters: [String: ParameterDomain]
    /// The keys whose values are floats: `uniform`/`log_uniform` ranges, tuned's real-valued
    /// keys, and a program's own fixed values or choices written as floats (`1.0`, `[0.5, 1.0]`).
    /// Configurations hold every number as a Double; a command workload's program gets these
    /// keys as JSON floats (`1.0`) and the others' whole numbers as JSON integers (`64`).
    public var floatKeys: Set<String>

    public init(optimizers: [String], parameters: [String: ParameterDomain] = [:], floatKeys: Set<String> = []) {
        self.optimizers = optimizers
        self.parameters = parameters
        self.floatKeys = floatKeys
    }

    /// Optimizers a flat trial configuration can build. The wrappers (`lookahead`, `sam`,
    /// `hypergradient`, `scheduled`) need a nested inner optimizer, which a search-space
    /// point does not have; HD is `[strategy] hypergradient`, schedules are the `schedule` key.
    public static var searchableOptimizers: [String] {
        OptimizerRegistry.torchNames.filter { !wrapperOptimizers.contains($0) }
    }

    public static let wrapperOptimizers: Set<String> = ["lookahead", "sam", "hypergradient", "scheduled"]

    /// Keys that `[search]` accepts for every workload: every trial-configuration key.
    public static var knownKeys: Set<String> { TrialConfig.keys }

    /// Keys of `[search]` that are a command workload's own (not `knownKeys`), sorted.
    public var customKeys: [String] { parameters.keys.filter { !Self.knownKeys.contains($0) }.sorted() }

    /// The optimizer groups configurations are drawn in: each searched optimizer, or one group
    /// without an optimizer (nil) when none is searched.
    var groups: [String?] { optimizers.isEmpty ? [nil] : optimizers.map(Optional.some) }

    /// The keys a configuration with `optimizer` contains (besides `optimizer`), sorted: every
    /// key that is not an optimizer key, and the optimizer keys `optimizer` uses (all of them
    /// when there is no optimizer: a command workload's program takes what it takes).
    public func keys(for optimizer: String?) -> [String] {
        guard let optimizer else { return parameters.keys.sorted() }
        let used = OptimizerSpec.trialKeysUsed(by: optimizer)
        return parameters.keys.filter { !OptimizerSpec.trialKeys.contains($0) || used.contains($0) }.sorted()
    }

    // MARK: Random sampling

    /// The seed of trial `index`'s draws: SplitMix64 of (task seed, index).
    ///
    /// Each configuration is a pure function of (seed, index): the daemon re-derives any
    /// trial's configuration after a restart without saving a generator state, and trial 5
    /// is the same whether the task asks for 8 or 80 trials. RandomSource folds the result
    /// to mt19937's 32-bit seed.
    public static func trialSeed(_ seed: UInt64, index: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: index + 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Configuration `index` of a random search with `seed`: the optimizer first, then the
    /// keys it uses in sorted order, each drawn from its domain with one `RandomSource`.
    public func sample(seed: UInt64, index: Int) -> [String: JSONValue] {
        let rng = RandomSource(seed: Self.trialSeed(seed, index: index))
        return sample(using: rng)
    }

    /// One configuration drawn with `rng` (for strategies that resample, such as PBT's explore).
    public func sample(using rng: RandomSource) -> [String: JSONValue] {
        // Validation guarantees non-empty choices and well-ordered ranges, so no draw throws.
        let group = groups
        let optimizer = group.count == 1 ? group[0] : group[(try? rng.integer(below: group.count)) ?? 0]
        var config: [String: JSONValue] = [:]
        if let optimizer { config["optimizer"] = .string(optimizer) }
        for key in keys(for: optimizer) {
            config[key] = Self.draw(parameters[key]!, rng)
        }
        return config
    }

    /// A population of `count` configurations that covers the space evenly (PBT's initial
    /// members): the optimizers are dealt round-robin in a seeded order, so each appears
    /// ⌊count/k⌋ or ⌈count/k⌉ times; then, within each optimizer's group of n members, every
    /// other key is a Latin hypercube: its range is cut into n equal strata (equal in log
    /// space for `log_uniform`), each member gets one stratum (a seeded permutation) and a
    /// uniform draw inside it; `choice` values are dealt round-robin like the optimizers.
    /// Two members of one optimizer thus never both start in the same half of the lr range,
    /// which independent draws do one time in two. A pure function of (seed, count).
    public func stratifiedSample(seed: UInt64, count: Int) -> [[String: JSONValue]] {
        guard count > 0 else { return [] }
        let rng = RandomSource(seed: Self.trialSeed(seed, index: -1))
        let order = optimizers.isEmpty ? [nil] : rng.shuffled(optimizers).map(Optional.some)
        var configs: [[String: JSONValue]] = (0..<count).map { i in order[i % order.count].map { ["optimizer": .string($0)] } ?? [:] }
        for optimizer in order {
            let members = (0..<count).filter { configs[$0]["optimizer"]?.stringValue == optimizer }
            for key in keys(for: optimizer) {
                let domain = parameters[key]!, strata = rng.shuffled(Array(members.indices))
                let dealt: [JSONValue]? = if case .choice(let vs) = domain { rng.shuffled(vs) } else { nil }
                for (j, m) in members.enumerated() {
                    configs[m][key] =
                        dealt.map { $0[strata[j] % $0.count] }
                        ?? Self.draw(domain, stratum: strata[j], of: members.count, rng)
                }
            }
        }
        return configs
    }

    /// A draw from stratum `k` of `n` of `domain` (see `stratifiedSample`).
    static func draw(_ domain: ParameterDomain, stratum k: Int, of n: Int, _ rng: RandomSource) -> JSONValue {
        let u = (Double(k) + rng.uniform()) / Double(n)
        switch domain {
        case .fixed(let v): return v
        case .uniform(let a, let b): return .number(a + (b - a) * u)
        case .logUniform(let a, let b): return .number(exp(log(a) + (log(b) - log(a)) * u))
        case .intUniform(let a, let b): return .number(Double(min(b, a + Int((Double(b - a + 1) * u).rounded(.down)))))
        case .intLogUniform(let a, let b):
            let x = exp(log(Double(a)) + (log(Double(b) + 1) - log(Double(a))) * u)
            return .number(Double(min(b, max(a, Int(x.rounded(.down))))))
        case .choice(let vs): return vs[k % vs.count]  // stratifiedSample deals choices itself
        }
    }

    /// One draw from `domain`.
    public static func draw(_ domain: ParameterDomain, _ rng: RandomSource) -> JSONValue {
        switch domain {
        case .fixed(let v): return v
        case .uniform(let a, let b): return .number((try? rng.uniform(a, b)) ?? a)
        case .logUniform(let a, let b): return .number((try? rng.logUniform(a, b)) ?? a)
        case .intUniform(let a, let b): return .number(Double(a + ((try? rng.integer(below: b - a + 1)) ?? 0)))
        case .intLogUniform(let a, let b):
            let x = (try? rng.logUniform(Double(a), Double(b) + 1)) ?? Double(a)
            return .number(Double(min(b, max(a, Int(x.rounded(.down))))))
        case .choice(let vs): return vs.count == 1 ? vs[0] : vs[(try? rng.integer(below: vs.count)) ?? 0]
        }
    }

    // MARK: Grid

    /// The values a grid takes for `domain`: choices as listed; `points` evenly spaced values
    /// including both ends for `uniform`, log-spaced for `log_uniform` (one point: the
    /// arithmetic or geometric midpoint); for `int_uniform` every integer when there are at
    /// most `points`, else `points` evenly spaced integers (rounded, duplicates dropped).
    public static func gridValues(_ domain: ParameterDomain, points: Int) -> [JSONValue] {
        let n = max(1, points)
        func spaced(_ a: Double, _ b: Double) -> [Double] {
            n == 1 ? [(a + b) / 2] : (0..<n).map { k in k == n - 1 ? b : a + (b - a) * Double(k) / Double(n - 1) }
        }
        switch domain {
        case .fixed(let v): return [v]
        case .choice(let vs): return vs
        case .uniform(let a, let b): return spaced(a, b).map { .number($0) }
        case .logUniform(let a, let b):
            if n == 1 { return [.number((a * b).squareRoot())] }
            let la = log(a), lb = log(b)
            return (0..<n).map { k in
                .number(k == 0 ? a : k == n - 1 ? b : exp(la + (lb - la) * Double(k) / Double(n - 1)))
            }
        case .intUniform(let a, let b):
            if b - a + 1 <= n { return (a...b).map { .number(Double($0)) } }
            var seen = Set<Int>(), out: [JSONValue] = []
            for v in spaced(Double(a), Double(b)) {
                let r = Int(v.rounded())
                if seen.insert(r).inserted { out.append(.number(Double(r))) }
            }
            return out
        case .intLogUniform(let a, let b):
            if b - a + 1 <= n { return (a...b).map { .number(Double($0)) } }
            var seen = Set<Int>(), out: [JSONValue] = []
            for case .number(let v) in gridValues(.logUniform(Double(a), Double(b)), points: n) {
                let r = min(b, max(a, Int(v.rounded())))
                if seen.insert(r).inserted { out.append(.number(Double(r))) }
            }
            return out
        }
    }

    /// How many configurations the full grid has: Σ over optimizers of the product of the
    /// sizes of the keys it uses (saturating at Int.max).
    public func gridCount(points: Int) -> Int {
        var total = 0
        for opt in groups {
            var product = 1
            for key in keys(for: opt) {
                let (p, o) = product.multipliedReportingOverflow(by: Self.gridValues(parameters[key]!, points: points).count)
                product = o ? Int.max : p
            }
            let (t, o) = total.addingReportingOverflow(product)
            total = o ? Int.max : t
        }
        return total
    }

    /// Configuration `index` (0 ≤ index < gridCount) of the grid, in enumeration order:
    /// optimizers in the file's order; within one, the cartesian product of its keys' values
    /// in sorted key order, the last key varying fastest. Conditional keys appear only under
    /// the optimizers that use them, so no two configurations build the same trial.
    public func gridConfiguration(_ index: Int, points: Int) -> [String: JSONValue] {
        var rest = index
        for opt in groups {
            let keys = keys(for: opt)
            let values = keys.map { Self.gridValues(parameters[$0]!, points: points) }
            let size = values.reduce(1) { $0 * $1.count }
            if rest >= size { rest -= size; continue }
            var config: [String: JSONValue] = [:]
            if let opt { config["optimizer"] = .string(opt) }
            for (key, vs) in zip(keys, values).reversed() {
                config[key] = vs[rest % vs.count]
                rest /= vs.count
            }
            return config
        }
        preconditionFailure("grid index \(index) out of range")
    }

    /// The grid, capped at `cap` configurations when `cap` is smaller than the grid: the cap
    /// takes evenly spaced indices ⌊k·N/cap⌋ of the enumeration, so that every optimizer
    /// keeps its share instead of the first optimizer filling the cap.
    public func grid(points: Int, cap: Int? = nil) -> [[String: JSONValue]] {
        let n = gridCount(points: points)
        guard let cap, cap < n else { return (0..<n).map { gridConfiguration($0, points: points) } }
        return (0..<cap).map { k in gridConfiguration(Int((Double(k) * Double(n) / Double(cap)).rounded(.down)), points: points) }
    }
}
