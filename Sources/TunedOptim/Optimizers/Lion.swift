/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
/// interpolated momentum, with decoupled weight decay.
///
///     lion_pytorch / torch:  θ ← θ·(1 − lr·λ);  c = β1·m + (1−β1)·g;  θ ← θ − lr·sign(c)
///     optax:                 c = (1−β1)·g + β1·m;  θ ← θ + (−lr)·(sign(c) + λθ)
///     both:                  m ← β2·m + (1−β2)·g;   sign(0) = 0
///
/// References: lion-pytorch 0.2.5 `lion_pytorch/lion_pytorch.py` (`update_fn`; keywords
/// lr=1e-4, betas=(0.9, 0.99), weight_decay=0, use_triton, decoupled_weight_decay, which
/// divides λ by the lr given to the constructor; lr must be > 0 and betas in [0, 1]);
/// optax 0.2.8 `optax.lion` = chain(scale_by_lion, add_decayed_weights, scale_by_learning_rate)
/// (keywords learning_rate, b1=0.9, b2=0.99, mu_dtype, weight_decay=**1e-3**, mask=None).
/// The library `.torch` takes lion-pytorch's keywords. Both orders are kept, so each matches
/// its own reference's vectors to 1e-12 relative.
public struct Lion<Scalar: TunedScalar>: Optimizer {
    public let name = "lion"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    /// λ as used in the update (already divided by the initial lr when decoupled).
    public let weightDecay: Double
    /// optax's operation order instead of lion-pytorch's.
    public let optaxOrder: Bool
    /// optax `mu_dtype = "float32"` in a Double run: β·m is a float32 product and m is kept
    /// rounded to float32 (jax's promotion with a float32 buffer).
    let momentInFloat32: Bool
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> { ["lr", "betas", "weight_decay", "use_triton", "decoupled_weight_decay"] }
    public static var optaxKeywords: Set<String> { ["name", "learning_rate", "b1", "b2", "mu_dtype", "weight_decay", "mask"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try self.init(hp, shapes: shapes, library: .lionPytorch)
    }

    /// `library` `.optax` reads optax.lion's keywords; `.torch` and `.lionPytorch` read
    /// lion-pytorch's.
    public init(_ hp: Hyperparameters, shapes: [[Int]], library: OptimizerLibrary) throws {
        if library == .optax {
            try hp.checkNoUnknownKeys(Self.optaxKeywords)
            guard let lr = try hp.optionalDouble("learning_rate") else {
                throw OptimizerError("\(hp.context): 'learning_rate' is required for optax.lion")
            }
            learningRate = lr
            beta1 = try hp.double("b1", default: 0.9)
            beta2 = try hp.double("b2", default: 0.99)
            weightDecay = try hp.double("weight_decay", default: 1e-3)
            momentInFloat32 = try hp.momentInFloat32("mu_dtype", Scalar.self)
            try hp.require(hp.values["mask"] == nil || hp.values["mask"] == .null, "mask", "must be null (masks are not supported)")
            try hp.require(learningRate >= 0, "learning_rate", "must be ≥ 0, got \(learningRate)")
            try hp.require(beta1 >= 0 && beta1 <= 1, "b1", "must be in [0, 1], got \(beta1)")
            try hp.require(beta2 >= 0 && beta2 <= 1, "b2", "must be in [0, 1], got \(beta2)")
            optaxOrder = true
        } else {
            try hp.checkNoUnknownKeys(Self.keywords)
            learningRate = try hp.double("lr", default: 1e-4)
            let betas = try hp.doubles("betas", count: 2, default: [0.9, 0.99])
            (beta1, beta2) = (betas[0], betas[1])
            let wd = try hp.double("weight_decay", default: 0)
            _ = try hp.bool("use_triton", default: false)
            let decoupled = try hp.bool("decoupled_weight_decay", default: false)
            try hp.require(learningRate > 0, "lr", "must be > 0, got \(learningRate)")
            for (i, b) in betas.enumerated() {
                try hp.require(b >= 0 && b <= 1, "betas", "[\(i)] must be in [0, 1], got \(b)")
            }
            weightDecay = decoupled ? wd / learningRate : wd
            optaxOrder = false
            momentInFloat32 = false
        }
        // Neither lion-pytorch nor optax checks the sign of the weight decay.
        try hp.require(weightDecay.isFinite, "weight_decay", "must be finite, got \(weightDecay)")
        counts = shapes.map { $0.reduce(1, *) }
        expAvg = counts.map { [Scalar](repeating: 0, count: $0) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let b1 = Scalar(beta1), oneMinusB1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2)
        let negLr = Scalar(-learningRate), wd = Scalar(weightDecay)
        let shrink = Scalar(1 - learningRate * weightDecay), optax = optaxOrder
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            expAvg[i].withUnsafeMutableBufferPointer { m in
                if optax {
                    // A float32 moment (mu_dtype): β·m is a float32 product, m stays rounded to float32.
                    let f32 = momentInFloat32, b1f = Float(beta1), b2f = Float(beta2)
                    for j in 0..<p.count {
                        let u = signum(oneMinusB1 * g[j] + (f32 ? Scalar(b1f * Float(m[j])) : b1 * m[j]))
                        p[j] = p[j] + negLr * (u + wd * p[j])
                        let mj = oneMinusB2 * g[j] + (f32 ? Scalar(b2f * Float(m[j])) : b2 * m[j])
                        m[j] = f32 ? Scalar(Float(mj)) : mj
                    }
                } else {
                    for j in 0..<p.count {
                        p[j] = p[j] * shrink
                        p[j] = p[j] + negLr * signum(m[j] * b1 + oneMinusB1 * g[j])
                        m[j] = m[j] * b2 + oneMinusB2 * g[j]
                    }
                }
            }}}
        }
    }

    public var stateBytes: Int { expAvg.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, m) in expAvg.enumerated() { s.set("exp_avg.\(i)", array: m) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let m: [[Scalar]] = try counts.indices.map { try state.array("exp_avg.\($0)", count: counts[$0]) }
        (stepCount, learningRate, expAvg) = (step, lr, m)
    }
}
