/// LARS, layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017, "Large Batch
/// Training of Convolutional Networks", Algorithm 1), per tensor:
///
///     trust = η‖θ‖ / (‖g‖ + λ‖θ‖ + eps)     (1 when ‖θ‖ = 0 or ‖g‖ = 0)
///     v ← μv + lr·trust·(g + λθ);  θ ← θ − v
///
/// The zero-norm guard and `eps` follow the paper authors' TensorFlow implementation
/// (`tf.contrib.opt.LARSOptimizer.compute_lr`); the momentum form (lr inside the buffer) is
/// the paper's. Keywords: lr=1.0 (so that η alone sets the relative step, ‖Δθ‖ ≈ η‖θ‖·lr),
/// momentum=0.9, weight_decay=0, eta=1e-3 (also accepted as `trust_coefficient`), eps=0.
/// Every tensor is adapted, biases included (the paper excludes none).
public struct LARS<Scalar: TunedScalar>: Optimizer {
    public let name = "lars"
    public var learningRate: Double
    public let momentum: Double
    public let weightDecay: Double
    public let eta: Double
    public let eps: Double
    public private(set) var stepCount = 0
    var buffers: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> { ["lr", "momentum", "weight_decay", "eta", "trust_coefficient", "eps"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1.0)
        momentum = try hp.double("momentum", default: 0.9)
        weightDecay = try hp.double("weight_decay", default: 0)
        let etaKey = hp.values["trust_coefficient"] != nil && hp.values["eta"] == nil ? "trust_coefficient" : "eta"
        try hp.require(hp.values["eta"] == nil || hp.values["trust_coefficient"] == nil, "trust_coefficient",
                       "is another name for 'eta': give one of them")
        eta = try hp.double(etaKey, default: 1e-3)
        eps = try hp.double("eps", default: 0)
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1), got \(momentum)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(eta > 0, etaKey, "must be > 0, got \(eta)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        counts = shapes.map { $0.reduce(1, *) }
        buffers = counts.map { [Scalar](repeating: 0, count: $0) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let mu = Scalar(momentum), wd = Scalar(weightDecay)
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            buffers[i].withUnsafeMutableBufferPointer { v in
                let wNorm = euclideanNorm(UnsafeBufferPointer(p)), gNorm = euclideanNorm(g)
                let trust = wNorm > 0 && gNorm > 0 ? eta * wNorm / (gNorm + weightDecay * wNorm + eps) : 1
                let scaled = Scalar(learningRate * trust)
                for j in 0..<p.count {
                    v[j] = mu * v[j] + scaled * (g[j] + wd * p[j])
                    p[j] = p[j] - v[j]
                }
            }}}
        }
    }

    public var stateBytes: Int { buffers.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, b) in buffers.enumerated() { s.set("momentum_buffer.\(i)", array: b) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let b: [[Scalar]] = try counts.indices.map { try state.array("momentum_buffer.\($0)", count: counts[$0]) }
        (stepCount, learningRate, buffers) = (step, lr, b)
    }
}
