/// Hypergradient descent on the learning rate (Baydin et al. 2018, "Online Learning Rate
/// Adaptation with Hypergradient Descent") for any optimizer:
///
///     h_t = g_t · d_{t−1}         d_{t−1} = (θ_{t−2} − θ_{t−1}) / lr_{t−1}, the previous
///                                 update direction (0 before the first step)
///     lr_t = clamp(lr_{t−1} + β_h·h_t, lr_min, lr_max);  then the wrapped step with lr_t
///
/// For plain SGD d is g and this is `SGDHD` (equal to ~1e-12: d is recovered from the
/// parameter change, so it carries the rounding of θ − lr·d). h uses the raw gradient the
/// caller passes; a wrapped optimizer's own weight decay is not added to it (SGDHD adds it).
///
/// Safeguards the reference lacks: a non-finite h counts as 0 (and is counted in
/// `nonFiniteHypergradients`), and lr stays in [lr_min, lr_max], so an exploding
/// hypergradient never turns lr into NaN. While lr is 0 the direction is unknown and d = 0.
///
/// **The multiplicative rule** (`rule: .multiplicative`, Baydin et al. 2018 §2.3) divides the
/// hypergradient by the norms of the two vectors it multiplies, which makes β_h unit-free:
///
///     α_t = clamp(α_{t−1}·(1 − β_h·cos(∇f(θ_{t−1}), ∇_α u_{t−1})), lr_min, lr_max)
///
/// with the paper's vectors: ∇f(θ_{t−1}) = g_t, the gradient passed to this step, and
/// ∇_α u_{t−1} = ∂u_{t−1}/∂α, the derivative of the previous update u_{t−1} = θ_{t−1} − θ_{t−2}
/// with respect to the rate — for SGD −g_{t−1} (so the rule is α(1 + β·cos(g_t, g_{t−1}))),
/// for Adam −m̂_{t−1}/(√v̂_{t−1} + ε), for any optimizer whose step is linear in α the previous
/// step divided by α. The cosine ignores a positive factor, so the buffer keeps the realised
/// step itself, p_{t−1} = θ_{t−2} − θ_{t−1} = −u_{t−1} (no division by α; it carries the
/// rounding of θ, ~1 ulp of θ), and the rule is evaluated as α(1 + β·g_t·p/(‖g_t‖‖p‖)). With
/// a wrapped schedule or decoupled weight decay p is the whole step, as for the additive
/// wrapper. A zero norm (the first step, a zero gradient, a rate of 0) or a non-finite cosine
/// leaves α unchanged (a non-finite one is counted in `nonFiniteHypergradients`). The
/// gradient's scale cancels, so multiplying the loss by c leaves the rate's relative trajectory
/// α_t/α₀ unchanged (to rounding, for fixed gradients). This rule has no reference implementation
/// to match; the additive rule stays the exact port and is the default of this type.
///
/// Keys (library torch, name "hypergradient"): `optimizer` (nested torch spec), `hypergrad_lr`
/// (β_h, 1e-6), `lr_min`, `lr_max` (see `LearningRateBounds`), `kind` ("additive", the
/// default, or "multiplicative").
public struct Hypergradient<Scalar: TunedScalar>: Optimizer {
    public let name = "hypergradient"
    public private(set) var inner: any Optimizer<Scalar>
    public let hypergradLR: Double
    public let bounds: LearningRateBounds
    public let rule: HypergradientRule
    /// The current learning rate (the one the last step used, and the base of the next update).
    public var learningRate: Double
    public private(set) var stepCount = 0
    /// The last hypergradient h (0 when it was not finite).
    public private(set) var lastHypergradient = 0.0
    /// Steps whose hypergradient was NaN or infinite and counted as 0.
    public private(set) var nonFiniteHypergradients = 0
    /// d_{t−1} per parameter (additive), p_{t−1} = θ_{t−2} − θ_{t−1} (multiplicative).
    var direction: [[Scalar]]

    public init(
        inner: any Optimizer<Scalar>, hypergradLR: Double, bounds: LearningRateBounds, shapes: [[Int]],
        rule: HypergradientRule = .additive
    ) {
        self.inner = inner
        self.hypergradLR = hypergradLR
        self.bounds = bounds
        self.rule = rule
        learningRate = bounds.clamp(inner.learningRate)
        direction = shapes.map { [Scalar](repeating: 0, count: $0.reduce(1, *)) }
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(["optimizer", "hypergrad_lr", "lr_min", "lr_max", "kind"])
        let inner: any Optimizer<Scalar> = try OptimizerRegistry.make(OptimizerSpec.nested(hp, "optimizer", library: .torch), shapes: shapes)
        let beta = try hp.double("hypergrad_lr", default: 1e-6)
        try hp.require(beta >= 0 && beta.isFinite, "hypergrad_lr", "must be a finite number ≥ 0, got \(beta)")
        let kind = try hp.string("kind", default: HypergradientRule.additive.rawValue) ?? HypergradientRule.additive.rawValue
        try hp.require(HypergradientRule(rawValue: kind) != nil, "kind", "must be \"additive\" or \"multiplicative\", got \"\(kind)\"")
        let rule = HypergradientRule(rawValue: kind)!
        self.init(
            inner: inner, hypergradLR: beta, bounds: try LearningRateBounds(hp, initial: inner.learningRate), shapes: shapes, rule: rule)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        if rule == .multiplicative {
            multiplicativeStep(&params, gradients: gradients)
            return
        }
        stepCount += 1
        var h = 0.0
        for i in params.indices {
            let g = gradients[i].values
            direction[i].withUnsafeBufferPointer { d in
                for j in 0..<d.count { h += Double(g[j]) * Double(d[j]) }
            }
        }
        (learningRate, lastHypergradient) = bounds.update(learningRate, hypergradLR: hypergradLR, h: h, nonFinite: &nonFiniteHypergradients)
        // Keep θ_{t−1} in the direction buffers, then turn them into (θ_{t−1} − θ_t)/lr.
        for i in params.indices {
            params[i].values.withUnsafeBufferPointer { p in
                direction[i].withUnsafeMutableBufferPointer { d in
                    for j in 0..<d.count { d[j] = p[j] }
                }
            }
        }
        inner.learningRate = learningRate
        inner.step(&params, gradients: gradients)
        let lr = learningRate
        for i in params.indices {
            params[i].values.withUnsafeBufferPointer { p in
                direction[i].withUnsafeMutableBufferPointer { d in
                    for j in 0..<d.count { d[j] = lr > 0 ? Scalar((Double(d[j]) - Double(p[j])) / lr) : 0 }
                }
            }
        }
    }

    /// The multiplicative rule (see the type's documentation): g·p, ‖g‖², ‖p‖² in one pass
    /// (Double accumulation, as the additive h), then α ← clamp(α·(1 + β·cos)), the wrapped
    /// step with α, and p ← θ_{t−1} − θ_t in place. No allocation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func multiplicativeStep(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        var gp = 0.0, gg = 0.0, pp = 0.0
        for i in params.indices {
            gradients[i].values.withUnsafeBufferPointer { g in
                direction[i].withUnsafeBufferPointer { p in
                    for j in 0..<p.count {
                        let a = Double(g[j]), b = Double(p[j])
                        gp += a * b
                        gg += a * a
                        pp += b * b
                    }
                }
            }
        }
        let norms = gg.squareRoot() * pp.squareRoot()
        if norms > 0 {
            let cosine = gp / norms
            if cosine.isFinite {
                learningRate = bounds.clamp(learningRate * (1 + hypergradLR * cosine))
                lastHypergradient = cosine
            } else {
                nonFiniteHypergradients += 1
                lastHypergradient = 0
            }
        } else if norms.isNaN || norms.isInfinite {
            nonFiniteHypergradients += 1
            lastHypergradient = 0
        } else {
            lastHypergradient = 0
        }
        for i in params.indices {
            params[i].values.withUnsafeBufferPointer { p in
                direction[i].withUnsafeMutableBufferPointer { d in
                    for j in 0..<d.count { d[j] = p[j] }
                }
            }
        }
        inner.learningRate = learningRate
        inner.step(&params, gradients: gradients)
        for i in params.indices {
            params[i].values.withUnsafeBufferPointer { p in
                direction[i].withUnsafeMutableBufferPointer { d in
                    for j in 0..<d.count { d[j] = d[j] - p[j] }
                }
            }
        }
    }

    public var gradientCallsPerUpdate: Int { inner.gradientCallsPerUpdate }
    public var hasEvaluationParameters: Bool { inner.hasEvaluationParameters }
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) { inner.enterEvalMode(&params) }
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) { inner.enterTrainMode(&params) }
    public var stateBytes: Int { inner.stateBytes + direction.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s.merge(inner.saveState(), prefix: "inner.")
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s["hypergradient"] = .double(lastHypergradient)
        s["non_finite_hypergradients"] = .int(nonFiniteHypergradients)
        // Only the multiplicative rule records itself, so an additive state is what it always was.
        if rule == .multiplicative { s["rule"] = .string(rule.rawValue) }
        for (i, d) in direction.enumerated() { s.set("direction.\(i)", array: d) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let saved = state["rule"] == nil ? HypergradientRule.additive.rawValue : try state.string("rule")
        guard saved == rule.rawValue else {
            throw OptimizerError("hypergradient: the state was saved by the \(saved) rule, this optimizer uses the \(rule.rawValue) rule")
        }
        try inner.restoreState(state.extract(prefix: "inner."))
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        lastHypergradient = try state.double("hypergradient")
        nonFiniteHypergradients = try state.int("non_finite_hypergradients")
        for i in direction.indices { direction[i] = try state.array("direction.\(i)", count: direction[i].count) }
    }
}

/// How hypergradient descent turns the hypergradient into a new learning rate.
public enum HypergradientRule: String, Sendable, Equatable, CaseIterable {
    /// α ← α + β·g_t·d_{t−1} (the reference ports; β has the units of 1/(gradient·direction)).
    case additive
    /// α ← α·(1 + β·cos(g_t, d_{t−1})) (Baydin et al. 2018 §2.3; β is unit-free).
    case multiplicative
}

/// The range hypergradient descent keeps the learning rate in.
///
/// Keys `lr_min` and `lr_max` are absolute learning rates; the defaults are relative to the
/// initial rate lr₀: [1e-6·lr₀, 10·lr₀]. The initial rate is clamped into the range.
public struct LearningRateBounds: Sendable, Equatable {
    public let min: Double
    public let max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    public init(_ hp: Hyperparameters, initial lr: Double) throws {
        min = try hp.double("lr_min", default: 1e-6 * lr)
        max = try hp.double("lr_max", default: 10 * lr)
        try hp.require(min >= 0 && min.isFinite, "lr_min", "must be a finite number ≥ 0, got \(min)")
        try hp.require(max >= min && max.isFinite, "lr_max", "must be finite and ≥ lr_min (\(min)), got \(max)")
    }

    /// `lr` limited to [min, max]; NaN becomes `min`.
    @inline(__always)
    public func clamp(_ lr: Double) -> Double {
        lr.isNaN ? min : Swift.min(Swift.max(lr, min), max)
    }

    /// lr + β·h clamped, with a non-finite h counted and treated as 0. Returns (lr, h used).
    @inline(__always)
    public func update(_ lr: Double, hypergradLR: Double, h: Double, nonFinite: inout Int) -> (Double, Double) {
        guard h.isFinite else {
            nonFinite += 1
            return (clamp(lr), 0)
        }
        return (clamp(lr + hypergradLR * h), h)
    }
}
