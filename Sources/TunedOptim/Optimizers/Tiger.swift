/// Tiger (Su 2023, "Tiger: a tight-fisted optimizer"): Lion with β1 = β2, LAMB-like
/// per-tensor step sizes, gradient accumulation in the momentum, and a NaN guard.
///
///     iteration k = t − 1 (0-based), A = grad_accum_steps
///     b1 = β if k mod A = 0 else 1;  b2 = (1−β)/A;  lr_k = lr if (k+1) mod A = 0 else 0
///     matrices (≥ 2 dims): η = lr_k·RMS(θ), d = λ;   vectors and scalars: η = lr_k·0.5, d = 0
///     m ← b1·m + b2·g;  θ ← θ − (sign(m) + d·θ)·η
///     a gradient with a NaN: m ← m (b1 = 1, g = 0) and θ ← θ·shrink_ratio instead
///
/// Reference: bojone/tiger `tiger.py` (Keras, `Tiger._resource_apply`; keywords here in
/// torch style: lr=1e-3, beta=0.965, weight_decay=0.01, grad_accum_steps=1,
/// shrink_ratio=0.99). Our reading of it and what is kept:
/// - The per-tensor lr scale RMS(θ) (the whole tensor's, taken before the update) is
///   implemented for tensors of two or more dimensions. A matrix whose entries are all zero
///   therefore does not move, as in the reference.
/// - The reference picks biases and gains by variable name (`bias|beta|gamma`: lr × 0.5, no
///   decay) and embeddings (`embeddings`: RMS per row). We have shapes, not names: every
///   tensor of fewer than two dimensions is treated as a bias/gain; embeddings are not
///   distinguished (whole-tensor RMS). The NaN guard shrinks toward 0 for every tensor
///   (the reference shrinks `gamma` toward 1, which needs its name).
/// - `lr_schedule` (piecewise-linear multiplier) is left out: schedules set `learningRate`.
public struct Tiger<Scalar: TunedScalar>: Optimizer {
    public let name = "tiger"
    public var learningRate: Double
    public let beta: Double
    public let weightDecay: Double
    public let gradAccumSteps: Int
    public let shrinkRatio: Double
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    /// True for tensors handled as matrices (RMS-scaled lr and decay).
    let isMatrix: [Bool]
    let counts: [Int]

    public static var keywords: Set<String> { ["lr", "beta", "weight_decay", "grad_accum_steps", "shrink_ratio"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        beta = try hp.double("beta", default: 0.965)
        weightDecay = try hp.double("weight_decay", default: 0.01)
        gradAccumSteps = try hp.int("grad_accum_steps", default: 1)
        shrinkRatio = try hp.double("shrink_ratio", default: 0.99)
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(beta >= 0 && beta < 1, "beta", "must be in [0, 1), got \(beta)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(gradAccumSteps >= 1, "grad_accum_steps", "must be ≥ 1, got \(gradAccumSteps)")
        try hp.require(shrinkRatio >= 0 && shrinkRatio <= 1, "shrink_ratio", "must be in [0, 1], got \(shrinkRatio)")
        counts = shapes.map { $0.reduce(1, *) }
        isMatrix = shapes.map { $0.count >= 2 }
        expAvg = counts.map { [Scalar](repeating: 0, count: $0) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        let k = stepCount
        stepCount += 1
        let a = gradAccumSteps
        let b1 = k % a == 0 ? beta : 1
        let b2 = Scalar((1 - beta) / Double(a))
        let lrK = (k + 1) % a == 0 ? learningRate : 0
        let shrink = Scalar(shrinkRatio)
        for i in params.indices {
            let matrix = isMatrix[i]
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            expAvg[i].withUnsafeMutableBufferPointer { m in
                if g.contains(where: { $0.isNaN }) {
                    for j in 0..<p.count { p[j] = p[j] * shrink }
                    return
                }
                let lrT = matrix ? lrK * (euclideanNorm(UnsafeBufferPointer(p)) / Double(p.count).vectorizableSquareRoot()) : lrK * 0.5
                let eta = Scalar(lrT), d = Scalar(matrix ? weightDecay : 0), b1s = Scalar(b1)
                for j in 0..<p.count {
                    m[j] = b1s * m[j] + b2 * g[j]
                    p[j] = p[j] - (signum(m[j]) + d * p[j]) * eta
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
