import Foundation
import TunedMath
import TunedOptim

/// PBT's explore step: a pure function of (configuration, search space, settings, generator).
///
/// For every key of the configuration that `[search]` varies and that explore may change
/// (`[strategy] mutate`; by default every key tuned knows and none of a command workload's own
/// keys), in sorted key order, one draw sequence from `rng`, so the result is a function of
/// the generator's seed — every other key keeps the donor's value, as it shaped the donor's
/// checkpoint (Ray Tune's `hyperparam_mutations`):
/// - with probability `resample_probability` the value is drawn afresh from its domain;
/// - otherwise a continuous value is perturbed by a factor f drawn from
///   `perturbation_factors`, on its own scale: `log_uniform` → x·f (a step in log space),
///   `uniform` → x + (f − 1)·(b − a) (a share of the range, so 0 can move), `int_uniform` →
///   and `int_log_uniform` → round(x·f), moved by at least one when f ≠ 1; all clipped to
///   the range (an integer stays an integer);
/// - a categorical value (`choice`) moves to a neighbour in the list (left or right with
///   equal probability; the only neighbour at an end).
/// `hypergradient_beta` (β_h, set by `[strategy] hypergradient`, not in `[search]`) is
/// perturbed like a `log_uniform` value without bounds (resampling keeps it).
/// The optimizer changes only with `explore_optimizer = true` and more than one optimizer
/// searched; its conditional keys then follow (keys the new optimizer does not use are
/// dropped, missing ones drawn from their domains), and the member's optimizer state is
/// re-initialised.
public enum PBTExplore {
    public struct Result: Sendable, Equatable {
        public var config: [String: JSONValue]
        /// Per changed key: `{"from", "to", "how"}`.
        public var changes: [String: JSONValue]
        public var optimizerChanged: Bool
    }

    public static func explore(
        _ config: [String: JSONValue], space: SearchSpace, settings: PBTSettings, rng: RandomSource
    ) -> Result {
        var out = config
        var changes: [String: JSONValue] = [:]
        func note(_ key: String, _ how: String) {
            if out[key] != config[key] {
                changes[key] = .object(["from": config[key] ?? .null, "to": out[key] ?? .null, "how": .string(how)])
            }
        }
        // The optimizer first: it decides which conditional keys exist.
        var optimizerChanged = false
        if settings.exploreOptimizer, space.optimizers.count > 1, let current = config["optimizer"]?.stringValue {
            let names = space.optimizers.map(JSONValue.string)
            let (v, how) = categorical(.string(current), names, settings.resampleProbability, rng)
            if let name = v.stringValue, name != current {
                out["optimizer"] = v
                optimizerChanged = true
                let keep = Set(space.keys(for: name))
                for k in space.parameters.keys where out[k] != nil && !keep.contains(k) { out[k] = nil }
                for k in keep.sorted() where out[k] == nil { out[k] = SearchSpace.draw(space.parameters[k]!, rng) }
                note("optimizer", how)
            }
        }
        let optimizer = out["optimizer"]?.stringValue ?? space.optimizers.first
        for key in space.keys(for: optimizer) where settings.mutates(key) {
            guard let domain = space.parameters[key], let value = out[key] else { continue }
            if optimizerChanged, config[key] != value { continue }  // freshly drawn above
            let (v, how) = perturb(value, domain, settings, rng)
            out[key] = v
            note(key, how)
        }
        if settings.mutate == nil, let beta = out["hypergradient_beta"]?.doubleValue, space.parameters["hypergradient_beta"] == nil,
            beta > 0
        {
            let resample = rng.uniform() < settings.resampleProbability
            if !resample {
                let f = factor(settings, rng)
                out["hypergradient_beta"] = .number(beta * f)
                note("hypergradient_beta", "perturb ×\(f)")
            }
        }
        return Result(config: out, changes: changes, optimizerChanged: optimizerChanged)
    }

    static func factor(_ settings: PBTSettings, _ rng: RandomSource) -> Double {
        let fs = settings.perturbationFactors.isEmpty ? [0.8, 1.2] : settings.perturbationFactors
        return fs.count == 1 ? fs[0] : fs[(try? rng.integer(below: fs.count)) ?? 0]
    }

    /// One value's explore step (see the type's documentation) and how it was done.
    static func perturb(_ value: JSONValue, _ domain: ParameterDomain, _ settings: PBTSettings, _ rng: RandomSource)
        -> (JSONValue, String)
    {
        switch domain {
        case .fixed(let v): return (v, "fixed")
        case .choice(let vs): return categorical(value, vs, settings.resampleProbability, rng)
        default: break
        }
        if rng.uniform() < settings.resampleProbability { return (SearchSpace.draw(domain, rng), "resample") }
        let f = factor(settings, rng)
        guard let x = value.doubleValue else { return (SearchSpace.draw(domain, rng), "resample") }
        switch domain {
        case .logUniform(let a, let b): return (.number(min(max(x * f, a), b)), "perturb ×\(f)")
        case .uniform(let a, let b): return (.number(min(max(x + (f - 1) * (b - a), a), b)), "perturb ×\(f)")
        case .intUniform(let a, let b), .intLogUniform(let a, let b):
            var y = Int((x * f).rounded())
            if f > 1, y <= Int(x) { y = Int(x) + 1 }
            if f < 1, y >= Int(x) { y = Int(x) - 1 }
            return (.number(Double(min(max(y, a), b))), "perturb ×\(f)")
        case .fixed, .choice: return (value, "fixed")
        }
    }

    /// A categorical value: resampled with probability `p`, else moved to a list neighbour.
    static func categorical(_ value: JSONValue, _ values: [JSONValue], _ p: Double, _ rng: RandomSource) -> (JSONValue, String) {
        guard values.count > 1 else { return (values.first ?? value, "fixed") }
        if rng.uniform() < p { return (values[(try? rng.integer(below: values.count)) ?? 0], "resample") }
        guard let i = values.firstIndex(of: value) else { return (values[(try? rng.integer(below: values.count)) ?? 0], "resample") }
        let left = rng.uniform() < 0.5
        let j = i == 0 ? 1 : i == values.count - 1 ? i - 1 : (left ? i - 1 : i + 1)
        return (values[j], "neighbour")
    }
}
