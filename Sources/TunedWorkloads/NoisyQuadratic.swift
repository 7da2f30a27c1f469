import TunedOptim

/// The noisy quadratic model (Zhang et al. 2019, "Which Algorithmic Choices Matter at Which
/// Batch Sizes?"): L(θ) = ½θᵀHθ with H = diag(h), by default hᵢ = 1/i (i = 1…d), and a
/// stochastic gradient whose noise has covariance C/B, C = diag(c), by default C = H.
///
/// Minibatch `batch` of size B under `seed` is the loss
///
///     L_batch(θ) = ½Σ hᵢθᵢ² + Σ ξᵢθᵢ,   ξᵢ = √(cᵢ/B)·zᵢ,   ∇L_batch = Hθ + ξ
///
/// with zᵢ = `NoiseRandom.gaussian(seed:, stream: batch, index: i)`: a pure function of
/// `(seed, batch)`, and the returned gradient is the exact gradient of the returned loss.
/// E[L_batch] = L and Cov[∇L_batch] = C/B. `batchSize` overrides the default B (values < 1
/// count as 1); `evaluate` reports the exact, noise-free L.
///
/// Closed forms (McCandlish et al. 2018): |G|² = Σ(hᵢθᵢ)², tr Σ = Σcᵢ at B = 1, so
/// B_simple(θ) = Σcᵢ / Σ(hᵢθᵢ)², and B_noise(θ) = tr(HΣ)/(GᵀHG) = Σhᵢcᵢ / Σhᵢ³θᵢ².
/// Per-coordinate SGD dynamics are in `expectedMoments`.
public struct NoisyQuadratic<Scalar: TunedScalar>: Workload {
    public let kind = "nqm"
    public let curvatures: [Double]
    /// Diagonal of C: per-example (B = 1) gradient-noise variances.
    public let noise: [Double]
    /// Default minibatch size B.
    public let batchSize: Int
    /// Where `initialParameters` starts; default all ones.
    public let start: [Double]

    /// - Parameters:
    ///   - curvatures: h; default hᵢ = 1/i. Its length must equal `dimension`.
    ///   - noise: c; default c = h.
    public init(
        dimension: Int = 10_000, curvatures: [Double]? = nil, noise: [Double]? = nil, batchSize: Int = 1,
        start: [Double]? = nil
    ) throws {
        let kind = "nqm"
        try ObjectiveCheck.dimension(dimension, least: 1, kind)
        let h = curvatures ?? (1...dimension).map { 1 / Double($0) }
        try ObjectiveCheck.require(
            h.count == dimension, kind, "curvatures", "needs \(dimension) numbers (the dimension), got \(h.count)")
        try ObjectiveCheck.require(
            h.allSatisfy { $0.isFinite && $0 > 0 }, kind, "curvatures", "must all be finite and > 0")
        let c = noise ?? h
        try ObjectiveCheck.require(c.count == dimension, kind, "noise", "needs \(dimension) numbers, got \(c.count)")
        try ObjectiveCheck.require(c.allSatisfy { $0.isFinite && $0 >= 0 }, kind, "noise", "must all be finite and ≥ 0")
        try ObjectiveCheck.require(batchSize >= 1, kind, "batch_size", "must be ≥ 1, got \(batchSize)")
        self.curvatures = h
        self.noise = c
        self.batchSize = batchSize
        self.start = try ObjectiveCheck.start(start, count: dimension, kind: kind) {
            Array(repeating: 1, count: dimension)
        }
    }

    public var dimension: Int { curvatures.count }
    public var parameterShapes: [[Int]] { [[dimension]] }

    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] {
        [Tensor(shape: [dimension], values: start.map { Scalar($0) })]
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double {
        let d = dimension
        if gradients.count != 1 || gradients[0].count != d { gradients = [Tensor(zeros: [d])] }
        let invB = 1 / Double(max(1, batchSize ?? self.batchSize))
        let stream = UInt64(bitPattern: Int64(batch))
        var quadratic = 0.0, linear = 0.0
        params[0].values.withUnsafeBufferPointer { x in
            gradients[0].values.withUnsafeMutableBufferPointer { g in
                curvatures.withUnsafeBufferPointer { h in
                    noise.withUnsafeBufferPointer { c in
                        func term(_ k: Int, _ z: Double) {
                            let xk = x[k].double
                            let xi = (c[k] * invB).squareRoot() * z
                            quadratic += h[k] * xk * xk
                            linear += xi * xk
                            g[k] = Scalar(h[k] * xk + xi)
                        }
                        var i = 0
                        while i < d {
                            let z = NoiseRandom.gaussianPair(seed: seed, stream: stream, block: UInt64(i >> 1))
                            term(i, z.0)
                            if i + 1 < d { term(i + 1, z.1) }
                            i += 2
                        }
                    }
                }
            }
        }
        return 0.5 * quadratic + linear
    }

    /// The exact loss L(θ) = ½Σhᵢθᵢ².
    public func loss(_ theta: [Double]) -> Double {
        var f = 0.0
        for i in 0..<min(theta.count, dimension) { f += curvatures[i] * theta[i] * theta[i] }
        return 0.5 * f
    }

    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics {
        let f = loss(ObjectiveCheck.flat(params))
        return Metrics(trainLoss: f, validationLoss: f)
    }

    // MARK: closed forms

    /// |G|² = Σ(hᵢθᵢ)², the squared norm of the true gradient.
    public func gradientSquaredNorm(_ theta: [Double]) -> Double {
        var s = 0.0
        for i in 0..<min(theta.count, dimension) { s += curvatures[i] * theta[i] * curvatures[i] * theta[i] }
        return s
    }

    /// tr Σ_B = Σcᵢ / B, the total variance of a size-B minibatch gradient.
    public func noiseTrace(batchSize: Int = 1) -> Double { noise.reduce(0, +) / Double(max(1, batchSize)) }

    /// B_simple(θ) = tr(C)/|G|² (McCandlish et al. 2018, eq. 2.8); nil where G = 0.
    public func simpleNoiseScale(_ theta: [Double]) -> Double? {
        let g2 = gradientSquaredNorm(theta)
        return g2 > 0 ? noiseTrace() / g2 : nil
    }

    /// B_noise(θ) = tr(HC)/(GᵀHG) = Σhᵢcᵢ / Σhᵢ³θᵢ² (McCandlish et al. 2018, eq. 2.7); nil where G = 0.
    public func noiseScale(_ theta: [Double]) -> Double? {
        var num = 0.0, den = 0.0
        for i in 0..<min(theta.count, dimension) {
            let h = curvatures[i]
            num += h * noise[i]
            den += h * h * h * theta[i] * theta[i]
        }
        return den > 0 ? num / den : nil
    }

    /// Per-coordinate mean and variance of θ after `steps` plain SGD steps of size α with
    /// minibatch size B from a deterministic start (Zhang et al. 2019, eq. 5):
    ///
    ///     E[θᵢ]' = (1 − αhᵢ)E[θᵢ],   Var[θᵢ]' = (1 − αhᵢ)²Var[θᵢ] + α²cᵢ/B
    ///
    /// and the expected loss E[L] = ½Σhᵢ(E[θᵢ]² + Var[θᵢ]).
    public func expectedMoments(
        start: [Double]? = nil, learningRate alpha: Double, batchSize: Int? = nil, steps: Int
    ) -> (mean: [Double], variance: [Double], expectedLoss: Double) {
        var mean = start ?? self.start
        var variance = [Double](repeating: 0, count: mean.count)
        let invB = 1 / Double(max(1, batchSize ?? self.batchSize))
        var expectedLoss = 0.0
        for i in 0..<min(mean.count, dimension) {
            let r = 1 - alpha * curvatures[i]
            for _ in 0..<max(0, steps) {
                mean[i] *= r
                variance[i] = r * r * variance[i] + alpha * alpha * noise[i] * invB
            }
            expectedLoss += 0.5 * curvatures[i] * (mean[i] * mean[i] + variance[i])
        }
        return (mean, variance, expectedLoss)
    }

    /// Parameter count, default batch size and the closed-form B_simple at the start point.
    public var features: TaskFeatures {
        ObjectiveCheck.features(kind: kind, count: dimension, batchSize: batchSize, noiseScale: simpleNoiseScale(start))
    }
}
