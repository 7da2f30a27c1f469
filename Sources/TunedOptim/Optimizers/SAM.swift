import Foundation

/// Sharpness-aware minimisation (Foret et al. 2021) in optax 0.2.8 `optax.contrib.sam`'s
/// transparent mode: every call is one gradient evaluation, and calls alternate between
/// adversarial steps and outer steps (with `sync_period` k, calls 1…k−1 of each period are
/// adversarial and call k is the outer step):
///
///     adversarial: (first call of a period: c ← θ)   θ ← θ + ε(g)
///     outer:       θ ← c + outer_update(g)            (the outer optimizer sees θ = c)
///
/// **Calling contract.** After an adversarial call the parameters are the perturbed point
/// θ + ε, not the model's weights. The trainer must compute the next gradient *at those
/// parameters on the same minibatch* as the gradient it just passed, and pass it to the
/// next call, which restores c and applies the outer update with it. A pair of calls is
/// one SAM step: give both calls of a pair the same minibatch, and evaluate or report the
/// model only when `isPerturbed` is false (or use `unperturbedWeights`). The outer
/// optimizer's state advances only on outer calls; `stepCount` counts calls.
///
/// Library `optax` (spec "optax.contrib.sam"): `optimizer` (outer, nested optax spec),
/// `adv_optimizer` = `{"name": "optax.chain", "transforms": [{"name":
/// "optax.contrib.normalize"}, {"name": "optax.sgd", "learning_rate": ρ, …}]}`:
/// ε = ρ·t with t optax's sgd trace of g/‖g‖ (‖·‖ over all parameters); `sync_period` (2),
/// `reset_state` (true: the adversarial trace restarts after each outer step),
/// `opaque_mode` (false only). Deviation: optax divides by ‖g‖ even when it is 0 and
/// produces NaN; here a zero gradient gives ε = 0.
///
/// Library `torch` (the authors' davda54/sam, period 2): `optimizer` (outer, nested torch
/// spec), `rho` (0.05), `adaptive` (false; true is ASAM):
/// ε = ρ·w·g / (‖w·g‖ + 1e-12) with w = |θ| (ASAM; ε gets w²) or 1.
public struct SAM<Scalar: TunedScalar>: Optimizer {
    public enum Perturbation: Sendable, Equatable {
        /// optax: normalize, then sgd(ρ, momentum, nesterov).
        case optax(rho: Double, momentum: Double?, nesterov: Bool)
        /// davda54/sam: ρ/(‖g‖ + 1e-12), ASAM when adaptive.
        case torch(rho: Double, adaptive: Bool)
    }

    public let name = "sam"
    public private(set) var outer: any Optimizer<Scalar>
    public let perturbation: Perturbation
    public let syncPeriod: Int
    public let resetState: Bool
    public private(set) var stepCount = 0
    var stepsSinceSync = 0
    let shapes: [[Int]]
    /// The weights of the last outer step (optax's `cache`); empty until the first call.
    var cache: [[Scalar]] = []
    /// optax's adversarial sgd trace (empty without momentum).
    var trace: [[Scalar]]

    public var learningRate: Double {
        get { outer.learningRate }
        set { outer.learningRate = newValue }
    }

    /// True when the parameters are a perturbed point (the next call must bring its gradient).
    public var isPerturbed: Bool { stepsSinceSync != 0 }

    /// The model's weights: the parameters, or while perturbed the cached ones.
    public func unperturbedWeights(_ params: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        guard isPerturbed, !cache.isEmpty else { return params }
        return zip(shapes, cache).map { Tensor(shape: $0, values: $1) }
    }

    public init(
        outer: any Optimizer<Scalar>, perturbation: Perturbation, syncPeriod: Int = 2, resetState: Bool = true,
        shapes: [[Int]], context: String = "sam"
    ) throws {
        guard syncPeriod >= 1 else { throw OptimizerError("\(context): 'sync_period' must be ≥ 1, got \(syncPeriod)") }
        self.outer = outer
        self.perturbation = perturbation
        self.syncPeriod = syncPeriod
        self.resetState = resetState
        self.shapes = shapes
        var withTrace = false
        if case .optax(_, let m?, _) = perturbation, m != 0 { withTrace = true }
        trace = shapes.map { [Scalar](repeating: 0, count: withTrace ? $0.reduce(1, *) : 0) }
    }

    public init(optax hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(["name", "optimizer", "adv_optimizer", "sync_period", "reset_state", "opaque_mode", "batch_axis_name"])
        if try hp.bool("opaque_mode", default: false) {
            throw OptimizerError("\(hp.context): 'opaque_mode' = true is not implemented; SAM runs in transparent mode")
        }
        if let axis = hp.values["batch_axis_name"], !axis.isNull {
            throw OptimizerError("\(hp.context): 'batch_axis_name' is not supported; leave it null")
        }
        let outer: any Optimizer<Scalar> = try OptimizerRegistry.make(OptimizerSpec.nested(hp, "optimizer", library: .optax), shapes: shapes)
        try self.init(
            outer: outer, perturbation: Self.optaxPerturbation(hp), syncPeriod: hp.int("sync_period", default: 2),
            resetState: hp.bool("reset_state", default: true), shapes: shapes, context: hp.context)
    }

    public init(torch hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(["optimizer", "rho", "adaptive"])
        let rho = try hp.double("rho", default: 0.05)
        try hp.require(rho >= 0, "rho", "must be ≥ 0, got \(rho)")
        let outer: any Optimizer<Scalar> = try OptimizerRegistry.make(OptimizerSpec.nested(hp, "optimizer", library: .torch), shapes: shapes)
        try self.init(
            outer: outer, perturbation: .torch(rho: rho, adaptive: hp.bool("adaptive", default: false)), syncPeriod: 2,
            resetState: true, shapes: shapes, context: hp.context)
    }

    /// Reads `adv_optimizer`: optax.chain(optax.contrib.normalize(), optax.sgd(ρ, …)).
    static func optaxPerturbation(_ hp: Hyperparameters) throws -> Perturbation {
        let what = "must be {\"name\": \"optax.chain\", \"transforms\": [{\"name\": \"optax.contrib.normalize\"}, "
            + "{\"name\": \"optax.sgd\", \"learning_rate\": rho}]}"
        guard let adv = try hp.nested("adv_optimizer"), try adv.string("name", default: nil) == "optax.chain",
              let list = adv.values["transforms"]?.arrayValue, list.count == 2,
              list[0]["name"]?.stringValue == "optax.contrib.normalize", list[1]["name"]?.stringValue == "optax.sgd",
              let sgdValues = list[1].objectValue
        else { throw OptimizerError("\(hp.context): 'adv_optimizer' \(what)") }
        let sgd = Hyperparameters(sgdValues, context: "\(hp.context).adv_optimizer.transforms[1]")
        try sgd.checkNoUnknownKeys(["name", "learning_rate", "momentum", "nesterov", "accumulator_dtype"])
        guard let rho = try sgd.optionalDouble("learning_rate") else {
            throw OptimizerError("\(sgd.context): 'learning_rate' (ρ) is required")
        }
        return .optax(rho: rho, momentum: try sgd.optionalDouble("momentum"), nesterov: try sgd.bool("nesterov", default: false))
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        if cache.isEmpty { cache = params.map(\.values) }
        stepCount += 1
        let first = stepsSinceSync == 0, last = stepsSinceSync == syncPeriod - 1
        stepsSinceSync = (stepsSinceSync + 1) % syncPeriod
        let before = first ? params.map(\.values) : []
        if last {
            // The outer optimizer updates the cached weights with the gradient taken at θ.
            var base = zip(shapes, cache).map { Tensor(shape: $0, values: $1) }
            outer.step(&base, gradients: gradients)
            params = base
            if resetState { for i in trace.indices { trace[i] = [Scalar](repeating: 0, count: trace[i].count) } }
        } else {
            perturb(&params, gradients)
        }
        if first { cache = before }
    }

    /// θ ← θ + ε(g).
    private mutating func perturb(_ params: inout [Tensor<Scalar>], _ gradients: [Tensor<Scalar>]) {
        switch perturbation {
        case .optax(let rho, let momentum, let nesterov):
            var ss: Scalar = 0
            for g in gradients { for v in g.values { ss += v * v } }
            let norm = ss.vectorizableSquareRoot()
            let r = Scalar(rho), mu = Scalar(momentum ?? 0)
            for i in params.indices {
                let g = gradients[i].values
                params[i].values.withUnsafeMutableBufferPointer { p in
                    for j in 0..<p.count {
                        let gn = norm > 0 ? g[j] / norm : 0
                        var d = gn
                        if !trace[i].isEmpty {
                            trace[i][j] = gn + mu * trace[i][j]
                            d = nesterov ? gn + mu * trace[i][j] : trace[i][j]
                        }
                        p[j] = p[j] + r * d
                    }
                }
            }
        case .torch(let rho, let adaptive):
            var total: Scalar = 0
            for i in params.indices {
                var s: Scalar = 0
                for j in 0..<params[i].count {
                    let w = adaptive ? abs(params[i].values[j]) : 1
                    let v = w * gradients[i].values[j]
                    s += v * v
                }
                total += s
            }
            let scale = Scalar(rho) / (total.vectorizableSquareRoot() + Scalar(1e-12))
            for i in params.indices {
                let g = gradients[i].values
                params[i].values.withUnsafeMutableBufferPointer { p in
                    for j in 0..<p.count {
                        let w2 = adaptive ? p[j] * p[j] : 1
                        p[j] = p[j] + w2 * g[j] * scale
                    }
                }
            }
        }
    }

    public var gradientCallsPerUpdate: Int { syncPeriod }

    public var hasEvaluationParameters: Bool { outer.hasEvaluationParameters }
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) { if !isPerturbed { outer.enterEvalMode(&params) } }
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) { if !isPerturbed { outer.enterTrainMode(&params) } }

    public var stateBytes: Int {
        outer.stateBytes + (cache.reduce(0) { $0 + $1.count } + trace.reduce(0) { $0 + $1.count }) * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s.merge(outer.saveState(), prefix: "outer.")
        s["step"] = .int(stepCount)
        s["steps_since_sync"] = .int(stepsSinceSync)
        s["cache_initialized"] = .int(cache.isEmpty ? 0 : 1)
        for (i, c) in cache.enumerated() { s.set("cache.\(i)", array: c) }
        for (i, t) in trace.enumerated() { s.setIfAny("trace.\(i)", t) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        try outer.restoreState(state.extract(prefix: "outer."))
        stepCount = try state.int("step")
        stepsSinceSync = try state.int("steps_since_sync")
        guard (0..<syncPeriod).contains(stepsSinceSync) else {
            throw OptimizerError("state key 'steps_since_sync' is \(stepsSinceSync), outside 0..<\(syncPeriod)")
        }
        cache = try state.int("cache_initialized") != 0
            ? shapes.indices.map { try state.array("cache.\($0)", count: shapes[$0].reduce(1, *)) } : []
        for i in trace.indices { try state.readIfAny("trace.\(i)", into: &trace[i]) }
    }
}
