import Foundation
import TunedOptim

/// An ill-conditioned quadratic f(θ) = ½θᵀHθ, H = Q·diag(h)·Qᵀ, gradient Hθ.
///
/// Eigenvalues log-spaced from 1 to κ: hᵢ = κ^(i/(d−1)), i = 0…d−1, so the condition number
/// is exactly max h / min h = κ (d = 1 requires κ = 1). Q = I by default; with a
/// `rotationSeed`, Q is a Haar-random orthogonal matrix (Gram–Schmidt on a Gaussian matrix
/// drawn from `NoiseRandom`), which costs O(d²) memory and time per gradient, so the rotated
/// form is limited to d ≤ 2048. Minimum 0 at θ = 0. Deterministic: `batch`, `seed` and
/// `batchSize` are ignored.
public struct IllConditionedQuadratic<Scalar: TunedScalar>: Workload {
    public let kind = "quadratic"
    public let dimension: Int
    public let conditionNumber: Double
    /// Eigenvalues of H, ascending.
    public let eigenvalues: [Double]
    public let rotationSeed: UInt64?
    /// Q row-major (d×d) when rotated, empty otherwise.
    let rotation: [Double]
    /// Where `initialParameters` starts; default all ones.
    public let start: [Double]

    public static var maximumRotatedDimension: Int { 2048 }

    public init(dimension: Int, conditionNumber: Double, rotationSeed: UInt64? = nil, start: [Double]? = nil) throws {
        let kind = "quadratic"
        try ObjectiveCheck.dimension(dimension, least: 1, kind)
        try ObjectiveCheck.require(
            conditionNumber.isFinite && conditionNumber >= 1, kind, "condition_number",
            "must be a finite number ≥ 1, got \(conditionNumber)")
        try ObjectiveCheck.require(
            dimension > 1 || conditionNumber == 1, kind, "condition_number",
            "must be 1 when dimension is 1 (one eigenvalue), got \(conditionNumber)")
        try ObjectiveCheck.require(
            rotationSeed == nil || dimension <= Self.maximumRotatedDimension, kind, "rotation_seed",
            "needs dimension ≤ \(Self.maximumRotatedDimension) (the rotation is a dense d×d matrix), got \(dimension)")
        self.dimension = dimension
        self.conditionNumber = conditionNumber
        self.rotationSeed = rotationSeed
        eigenvalues = Self.logSpaced(dimension, conditionNumber)
        rotation = rotationSeed.map { Self.randomOrthogonal(dimension, seed: $0) } ?? []
        self.start = try ObjectiveCheck.start(start, count: dimension, kind: kind) {
            Array(repeating: 1, count: dimension)
        }
    }

    /// κ^(i/(d−1)), i = 0…d−1, with the end points exactly 1 and κ.
    static func logSpaced(_ d: Int, _ kappa: Double) -> [Double] {
        var h = [Double](repeating: 1, count: d)
        for i in 1..<max(d, 1) {
            let e: Double = Double(i) / Double(d - 1)
            h[i] = i == d - 1 ? kappa : pow(kappa, e)
        }
        return h
    }

    public var parameterShapes: [[Int]] { [[dimension]] }

    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] {
        [Tensor(shape: [dimension], values: start.map { Scalar($0) })]
    }

    /// Q (row-major), columns orthonormal: modified Gram–Schmidt on the columns of a
    /// standard Gaussian matrix, each column's sign fixed so that R has a positive diagonal.
    static func randomOrthogonal(_ d: Int, seed: UInt64) -> [Double] {
        var q = [Double](repeating: 0, count: d * d)
        for i in 0..<(d * d) { q[i] = NoiseRandom.gaussian(seed: seed, stream: 0x5155_4144, index: UInt64(i)) }
        for j in 0..<d {
            for k in 0..<j {
                var dot = 0.0
                for r in 0..<d { dot += q[r * d + j] * q[r * d + k] }
                for r in 0..<d { q[r * d + j] -= dot * q[r * d + k] }
            }
            var norm = 0.0
            for r in 0..<d { norm += q[r * d + j] * q[r * d + j] }
            norm = norm.squareRoot()
            for r in 0..<d { q[r * d + j] /= norm }
        }
        return q
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double {
        let d = dimension
        if gradients.count != 1 || gradients[0].count != d { gradients = [Tensor(zeros: [d])] }
        var f = 0.0
        params[0].values.withUnsafeBufferPointer { x in
            gradients[0].values.withUnsafeMutableBufferPointer { g in
                eigenvalues.withUnsafeBufferPointer { h in
                    if rotation.isEmpty {
                        for i in 0..<d {
                            let xi = x[i].double, hx = h[i] * xi
                            f += hx * xi
                            g[i] = Scalar(hx)
                        }
                        return
                    }
                    rotation.withUnsafeBufferPointer { q in
                        // y = Qᵀθ, f = ½Σ hᵢyᵢ², g = Q(h∘y).
                        var y = [Double](repeating: 0, count: d)
                        for r in 0..<d {
                            let xr = x[r].double
                            for c in 0..<d { y[c] += q[r * d + c] * xr }
                        }
                        for c in 0..<d {
                            f += h[c] * y[c] * y[c]
                            y[c] *= h[c]
                        }
                        for r in 0..<d {
                            var s = 0.0
                            for c in 0..<d { s += q[r * d + c] * y[c] }
                            g[r] = Scalar(s)
                        }
                    }
                }
            }
        }
        return 0.5 * f
    }

    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics {
        var g = [Tensor<Scalar>]()
        let f = lossAndGradient(params, batch: 0, seed: 0, batchSize: nil, gradients: &g)
        return Metrics(trainLoss: f, validationLoss: f)
    }

    /// Parameter count and task type; the gradient has no noise, so B_simple = 0.
    public var features: TaskFeatures { ObjectiveCheck.features(kind: kind, count: dimension, noiseScale: 0) }
}
