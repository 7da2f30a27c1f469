import TunedOptim

/// The Rosenbrock function, in its chained n-dimensional form:
///
///     f(x) = Σᵢ₌₀ⁿ⁻² (a − xᵢ)² + b(xᵢ₊₁ − xᵢ²)²
///     ∂f/∂xᵢ = −2(a − xᵢ) − 4b·xᵢ(xᵢ₊₁ − xᵢ²)   [i < n−1]   + 2b(xᵢ − xᵢ₋₁²)   [i > 0]
///
/// With n = 2 this is f(x, y) = (a − x)² + b(y − x²)², minimum 0 at (a, a²); the gradient is
/// then `[−2(a−x) − 4b·x(y−x²), 2b(y−x²)]`, which reproduces torch autograd's gradients in the
/// reference vectors (`rosenbrock_*.json`) to ≤ 1e-14 relative. For n > 2 the minimum is at
/// (1, …, 1) when a = 1. Deterministic: `batch`, `seed` and `batchSize` are ignored, and the
/// start point does not depend on the seed.
public struct Rosenbrock<Scalar: TunedScalar>: Workload {
    public let kind = "rosenbrock"
    public let a: Double
    public let b: Double
    public let dimension: Int
    /// Where `initialParameters` starts; default (−1.5, 2.0), repeated for n > 2.
    public let start: [Double]

    public init(a: Double = 1, b: Double = 100, dimension: Int = 2, start: [Double]? = nil) throws {
        try ObjectiveCheck.require(a.isFinite, kind, "a", "must be finite, got \(a)")
        try ObjectiveCheck.require(b.isFinite && b >= 0, kind, "b", "must be finite and ≥ 0, got \(b)")
        try ObjectiveCheck.dimension(dimension, least: 2, kind)
        self.a = a
        self.b = b
        self.dimension = dimension
        self.start = try ObjectiveCheck.start(start, count: dimension, kind: "rosenbrock") {
            (0..<dimension).map { $0 % 2 == 0 ? -1.5 : 2.0 }
        }
    }

    /// The global minimiser: (a, a²) in two dimensions, (1, …, 1) in more when a = 1, and
    /// (0, …, 0) when a = 0 and b > 0; nil where no closed form is given.
    public var minimizer: [Double]? {
        if dimension == 2 { return [a, a * a] }
        if a == 1 || a == 0 { return Array(repeating: a, count: dimension) }
        return nil
    }

    public var parameterShapes: [[Int]] { [[dimension]] }

    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] {
        [Tensor(shape: [dimension], values: start.map { Scalar($0) })]
    }

    /// f at `x` (n values), in `Double`.
    public func value(_ x: [Double]) -> Double {
        var f = 0.0
        for i in 0..<(x.count - 1) {
            let u = a - x[i], v = x[i + 1] - x[i] * x[i]
            f += u * u + b * v * v
        }
        return f
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double {
        let n = dimension
        if gradients.count != 1 || gradients[0].count != n { gradients = [Tensor(zeros: [n])] }
        var f = 0.0
        params[0].values.withUnsafeBufferPointer { x in
            gradients[0].values.withUnsafeMutableBufferPointer { g in
                var previousV = 0.0  // xᵢ − xᵢ₋₁², from the previous term
                for i in 0..<n {
                    let xi = x[i].double
                    var gi = i > 0 ? 2 * b * previousV : 0
                    if i < n - 1 {
                        let u = a - xi, v = x[i + 1].double - xi * xi
                        f += u * u + b * v * v
                        gi += -2 * u - 4 * b * xi * v
                        previousV = v
                    }
                    g[i] = Scalar(gi)
                }
            }
        }
        return f
    }

    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics {
        let f = value(ObjectiveCheck.flat(params))
        return Metrics(trainLoss: f, validationLoss: f)
    }

    /// Parameter count and task type; the gradient has no noise, so B_simple = 0.
    public var features: TaskFeatures { ObjectiveCheck.features(kind: kind, count: dimension, noiseScale: 0) }
}
