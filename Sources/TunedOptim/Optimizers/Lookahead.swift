/// Lookahead (Zhang et al. 2019) with optax 0.2.8 `optax.lookahead` semantics: the fast
/// optimizer runs every step on the fast weights θ (the parameters the caller holds); on
/// every `sync_period`-th step the slow weights φ move toward them and the fast weights
/// restart from there:
///
///     θ' = θ + u                  (u: the fast optimizer's update)
///     d = θ' − φ;  φ ← φ + α·d;  θ ← θ + (u − (1−α)·d)     (sync steps; otherwise θ ← θ')
///
/// which are optax's `_lookahead_update` expressions. φ starts equal to the first
/// parameters seen (`LookaheadParams.init_synced`). `reset_state` restores the fast
/// optimizer's initial state (keeping its learning rate) after each sync.
///
/// Library `optax`: `fast_optimizer` (a nested spec such as `{"name": "optax.sgd",
/// "learning_rate": 0.1}`), `sync_period`, `slow_step_size`, `reset_state` (false).
/// Library `torch`: `optimizer` (a nested torch spec `{"name": "adam", "lr": …}`), `k` (5),
/// `alpha` (0.8), the defaults of the authors' PyTorch code; same update.
/// Matches `optax_lookahead_sgd` (fast and slow weights) to 1e-12 relative.
public struct Lookahead<Scalar: TunedScalar>: Optimizer, HasSlowWeights {
    public let name = "lookahead"
    public private(set) var inner: any Optimizer<Scalar>
    public let syncPeriod: Int
    public let slowStepSize: Double
    public let resetState: Bool
    public private(set) var stepCount = 0
    var stepsSinceSync = 0
    let shapes: [[Int]]
    /// Empty until the first step.
    var slow: [[Scalar]] = []
    let initialInnerState: StateDict

    public var learningRate: Double {
        get { inner.learningRate }
        set { inner.learningRate = newValue }
    }

    public var slowWeights: [Tensor<Scalar>] {
        zip(shapes, slow).map { Tensor(shape: $0, values: $1) }
    }

    public static var optaxKeywords: Set<String> { ["name", "fast_optimizer", "sync_period", "slow_step_size", "reset_state"] }
    public static var torchKeywords: Set<String> { ["optimizer", "k", "alpha", "reset_state"] }

    public init(
        inner: any Optimizer<Scalar>, syncPeriod: Int, slowStepSize: Double, resetState: Bool, shapes: [[Int]],
        context: String = "lookahead"
    ) throws {
        guard syncPeriod >= 1 else { throw OptimizerError("\(context): the sync period must be ≥ 1, got \(syncPeriod)") }
        guard slowStepSize.isFinite else { throw OptimizerError("\(context): the slow step size must be finite") }
        self.inner = inner
        self.syncPeriod = syncPeriod
        self.slowStepSize = slowStepSize
        self.resetState = resetState
        self.shapes = shapes
        initialInnerState = inner.saveState()
    }

    /// From a spec: `library` picks the keyword set (see the type's documentation).
    public init(_ hp: Hyperparameters, library: OptimizerLibrary, shapes: [[Int]]) throws {
        switch library {
        case .optax:
            try hp.checkNoUnknownKeys(Self.optaxKeywords)
            let spec = try OptimizerSpec.nested(hp, "fast_optimizer", library: .optax)
            guard let k = try hp.optionalDouble("sync_period") else {
                throw OptimizerError("\(hp.context): 'sync_period' is required for optax.lookahead")
            }
            guard let alpha = try hp.optionalDouble("slow_step_size") else {
                throw OptimizerError("\(hp.context): 'slow_step_size' is required for optax.lookahead")
            }
            try hp.require(k == k.rounded() && k >= 1 && k < 1e9, "sync_period", "must be an integer ≥ 1, got \(k)")
            try self.init(
                inner: OptimizerRegistry.make(spec, shapes: shapes), syncPeriod: Int(k), slowStepSize: alpha,
                resetState: hp.bool("reset_state", default: false), shapes: shapes, context: hp.context)
        default:
            try hp.checkNoUnknownKeys(Self.torchKeywords)
            let spec = try OptimizerSpec.nested(hp, "optimizer", library: library)
            let k = try hp.int("k", default: 5)
            try hp.require(k >= 1, "k", "must be ≥ 1, got \(k)")
            try self.init(
                inner: OptimizerRegistry.make(spec, shapes: shapes), syncPeriod: k,
                slowStepSize: hp.double("alpha", default: 0.8), resetState: hp.bool("reset_state", default: false),
                shapes: shapes, context: hp.context)
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        if slow.isEmpty { slow = params.map(\.values) }
        stepCount += 1
        let sync = stepsSinceSync == syncPeriod - 1
        stepsSinceSync = (stepsSinceSync + 1) % syncPeriod
        guard sync else {
            inner.step(&params, gradients: gradients)
            return
        }
        let before = params
        inner.step(&params, gradients: gradients)
        let alpha = Scalar(slowStepSize), rest = Scalar(1 - slowStepSize)
        for i in params.indices {
            let f = before[i].values
            params[i].values.withUnsafeMutableBufferPointer { p in
                slow[i].withUnsafeMutableBufferPointer { s in
                    for j in 0..<p.count {
                        let d = p[j] - s[j]
                        s[j] = s[j] + alpha * d
                        p[j] = f[j] + ((p[j] - f[j]) - rest * d)
                    }
                }
            }
        }
        if resetState {
            let lr = inner.learningRate
            try? inner.restoreState(initialInnerState)
            inner.learningRate = lr
        }
    }

    public var gradientCallsPerUpdate: Int { inner.gradientCallsPerUpdate }

    public var hasEvaluationParameters: Bool { inner.hasEvaluationParameters }
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) { inner.enterEvalMode(&params) }
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) { inner.enterTrainMode(&params) }
    public var stateBytes: Int { inner.stateBytes + slow.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s.merge(inner.saveState(), prefix: "inner.")
        s["step"] = .int(stepCount)
        s["steps_since_sync"] = .int(stepsSinceSync)
        s["slow_initialized"] = .int(slow.isEmpty ? 0 : 1)
        for (i, w) in slow.enumerated() { s.set("slow.\(i)", array: w) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        try inner.restoreState(state.extract(prefix: "inner."))
        stepCount = try state.int("step")
        stepsSinceSync = try state.int("steps_since_sync")
        guard (0..<syncPeriod).contains(stepsSinceSync) else {
            throw OptimizerError("state key 'steps_since_sync' is \(stepsSinceSync), outside 0..<\(syncPeriod)")
        }
        if try state.int("slow_initialized") != 0 {
            slow = try shapes.indices.map { try state.array("slow.\($0)", count: shapes[$0].reduce(1, *)) }
        } else {
            slow = []
        }
    }
}
