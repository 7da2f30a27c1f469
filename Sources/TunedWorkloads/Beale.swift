import TunedOptim

/// Beale's function:
///
///     f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²
///     ∂f/∂x = 2t₁(y − 1) + 2t₂(y² − 1) + 2t₃(y³ − 1)
///     ∂f/∂y = 2t₁x + 4t₂xy + 6t₃xy²          (tₖ the k-th bracket)
///
/// Minimum 0 at (3, 0.5), where every bracket is exactly zero in binary floating point.
/// Deterministic: `batch`, `seed` and `batchSize` are ignored.
public struct Beale<Scalar: TunedScalar>: Workload {
    public let kind = "beale"
    /// Where `initialParameters` starts; default (1, 1).
    public let start: [Double]
    public static var minimizer: [Double] { [3, 0.5] }

    public init(start: [Double] = [1, 1]) throws {
        self.start = try ObjectiveCheck.start(start, count: 2, kind: "beale") { [1, 1] }
    }

    public var parameterShapes: [[Int]] { [[2]] }

    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] {
        [Tensor(shape: [2], values: start.map { Scalar($0) })]
    }

    /// f and its gradient at (x, y), in `Double`.
    @inlinable
    public static func valueAndGradient(_ x: Double, _ y: Double) -> (value: Double, dx: Double, dy: Double) {
        let y2 = y * y, y3 = y2 * y
        let t1 = 1.5 - x + x * y
        let t2 = 2.25 - x + x * y2
        let t3 = 2.625 - x + x * y3
        let f = t1 * t1 + t2 * t2 + t3 * t3
        let dx = 2 * t1 * (y - 1) + 2 * t2 * (y2 - 1) + 2 * t3 * (y3 - 1)
        let dy = 2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y2
        return (f, dx, dy)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double {
        let p = params[0].values
        let r = Self.valueAndGradient(p[0].double, p[1].double)
        if gradients.count != 1 || gradients[0].count != 2 { gradients = [Tensor(zeros: [2])] }
        gradients[0].values[0] = Scalar(r.dx)
        gradients[0].values[1] = Scalar(r.dy)
        return r.value
    }

    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics {
        let p = params[0].values
        let f = Self.valueAndGradient(p[0].double, p[1].double).value
        return Metrics(trainLoss: f, validationLoss: f)
    }

    /// Parameter count and task type; the gradient has no noise, so B_simple = 0.
    public var features: TaskFeatures { ObjectiveCheck.features(kind: kind, count: 2, noiseScale: 0) }
}
