import Foundation

/// optax 0.2.8 `optax.adafactor` (library `optax`, spec name "optax.adafactor"): the chain
///
///     scale_by_factored_rms → clip_by_block_rms(d) → ×lr (if given) → ×max(RMS(θ), 1e-3)
///       → ema(momentum) (if given) → +λθ (if given) → ×(−1)
///
/// Factored RMS, t counted from 1 (minus `decay_offset`):
///
///     β̂_t = 1 − t^(−decay_rate)     computed in Float32 and widened, as optax does
///     G = g² + ε
///     two largest axes (d1, d0) both ≥ min_dim_size_to_factor (d0 the largest; ties go to
///     the later axis, numpy's argsort order):
///       R ← β̂R + (1−β̂)·mean_d0(G);  C ← β̂C + (1−β̂)·mean_d1(G)
///       u = g · (R / mean_d1(R))^(−½) · C^(−½)
///     otherwise: V ← β̂V + (1−β̂)G;  u = g·V^(−½)
///
/// then u ← u / max(1, RMS(u)/d). The momentum EMA is `(1−μ)u + μ·m` with m stored in
/// `dtype_momentum` ("float32", optax's default, rounds the stored buffer and computes
/// μ·m in Float32; or "float64"). Matches optax's vectors to 1e-12 relative.
public struct OptaxAdafactor<Scalar: TunedScalar>: Optimizer {
    public let name = "adafactor"
    /// The `learning_rate` factor; 1 when the spec gives none (optax then has no factor,
    /// and ×1 is exact).
    public var learningRate: Double
    public let hasLearningRate: Bool
    public let decayRate: Double
    public let decayOffset: Int
    public let eps: Double
    public let clippingThreshold: Double?
    public let multiplyByParameterScale: Bool
    public let momentum: Double?
    public let momentumInFloat32: Bool
    public let weightDecayRate: Double?
    public private(set) var stepCount = 0
    let geometry: [FactoredGeometry?]
    var vRow: [[Scalar]], vCol: [[Scalar]], v: [[Scalar]]
    var momentum32: [[Float]], momentum64: [[Double]]

    public static var keywords: Set<String> {
        ["name", "learning_rate", "min_dim_size_to_factor", "decay_rate", "decay_offset", "multiply_by_parameter_scale",
         "clipping_threshold", "momentum", "dtype_momentum", "weight_decay_rate", "eps", "factored", "weight_decay_mask"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        let lr = try hp.optionalDouble("learning_rate")
        learningRate = lr ?? 1
        hasLearningRate = lr != nil
        let minDim = try hp.int("min_dim_size_to_factor", default: 128)
        decayRate = try hp.double("decay_rate", default: 0.8)
        decayOffset = try hp.int("decay_offset", default: 0)
        multiplyByParameterScale = try hp.bool("multiply_by_parameter_scale", default: true)
        clippingThreshold = try hp.values["clipping_threshold"] == nil ? 1.0 : hp.optionalDouble("clipping_threshold")
        momentum = try hp.optionalDouble("momentum")
        let dtype = try hp.string("dtype_momentum", default: "float32") ?? "float32"
        weightDecayRate = try hp.optionalDouble("weight_decay_rate")
        eps = try hp.double("eps", default: 1e-30)
        let factored = try hp.bool("factored", default: true)
        if let mask = hp.values["weight_decay_mask"], !mask.isNull {
            throw OptimizerError("\(hp.context): 'weight_decay_mask' is not implemented; leave it null")
        }
        guard dtype == "float32" || dtype == "float64" else {
            throw OptimizerError("\(hp.context): 'dtype_momentum' must be \"float32\" or \"float64\", got \"\(dtype)\"")
        }
        momentumInFloat32 = dtype == "float32"
        try hp.require(decayRate.isFinite, "decay_rate", "must be a finite number")
        try hp.require(clippingThreshold.map { $0 > 0 } ?? true, "clipping_threshold", "must be > 0 or null")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        let geo = shapes.map { FactoredGeometry(shape: $0, factored: factored, minDimSize: minDim) }
        let counts = shapes.map { $0.reduce(1, *) }
        geometry = geo
        vRow = geo.map { [Scalar](repeating: 0, count: $0?.rowCount ?? 0) }
        vCol = geo.map { [Scalar](repeating: 0, count: $0?.colCount ?? 0) }
        v = zip(geo, counts).map { [Scalar](repeating: 0, count: $0 == nil ? $1 : 0) }
        let withMomentum = momentum != nil
        momentum32 = counts.map { [Float](repeating: 0, count: withMomentum && dtype == "float32" ? $0 : 0) }
        momentum64 = counts.map { [Double](repeating: 0, count: withMomentum && dtype == "float64" ? $0 : 0) }
    }

    /// β̂_t and 1 − β̂_t for the step about to run, in Float32 as optax computes them.
    var decay: (Double, Double) {
        let t = Float(stepCount - decayOffset) + 1
        let d = 1 - powf(t, -Float(decayRate))
        return (Double(d), Double(1 - d))
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        let (d, oneMinusD) = decay
        stepCount += 1
        let decayS = Scalar(d), oneMinusS = Scalar(oneMinusD), epsS = Scalar(eps)
        for i in params.indices {
            let g = gradients[i].values
            var u: [Scalar]
            if let geo = geometry[i] {
                u = geo.update(g, vRow: &vRow[i], vCol: &vCol[i], decay: decayS, oneMinus: oneMinusS, eps: epsS)
            } else {
                u = g
                v[i].withUnsafeMutableBufferPointer { v in
                    for j in 0..<u.count {
                        let gsq = g[j] * g[j] + epsS
                        v[j] = decayS * v[j] + oneMinusS * gsq
                        u[j] = g[j] * (1 / v[j].vectorizableSquareRoot())
                    }
                }
            }
            if let threshold = clippingThreshold {
                let denom = max(1, Self.rms(u) / Scalar(threshold))
                for j in u.indices { u[j] = u[j] / denom }
            }
            let lr = Scalar(learningRate)
            for j in u.indices { u[j] = lr * u[j] }
            if multiplyByParameterScale {
                let r = Self.rms(params[i].values)
                let scale = r <= Scalar(1e-3) ? Scalar(1e-3) : r
                for j in u.indices { u[j] = u[j] * scale }
            }
            if let mu = momentum { applyMomentum(mu, &u, i) }
            params[i].values.withUnsafeMutableBufferPointer { p in
                let wd = Scalar(weightDecayRate ?? 0)
                for j in 0..<p.count {
                    let uj = weightDecayRate == nil ? u[j] : u[j] + wd * p[j]
                    p[j] = p[j] + -uj
                }
            }
        }
    }

    /// optax `ema(μ, debias=False)`: `(1−μ)·u + μ·m`; with a float32 buffer the product μ·m
    /// is a Float32 product, and the buffer keeps the result rounded to Float32.
    private mutating func applyMomentum(_ mu: Double, _ u: inout [Scalar], _ i: Int) {
        let oneMinus = Scalar(1 - mu)
        if momentumInFloat32 {
            let muF = Float(mu)
            momentum32[i].withUnsafeMutableBufferPointer { m in
                for j in 0..<m.count {
                    let e = oneMinus * u[j] + Scalar(muF * m[j])
                    m[j] = Float(e)
                    u[j] = e
                }
            }
        } else {
            momentum64[i].withUnsafeMutableBufferPointer { m in
                for j in 0..<m.count {
                    let e = Double(oneMinus * u[j]) + mu * m[j]
                    m[j] = e
                    u[j] = Scalar(e)
                }
            }
        }
    }

    /// √(mean(x²)).
    static func rms(_ x: [Scalar]) -> Scalar {
        var s: Scalar = 0
        for v in x { s += v * v }
        return (s / Scalar(max(x.count, 1))).vectorizableSquareRoot()
    }

    public var stateBytes: Int {
        let n = vRow.reduce(0) { $0 + $1.count } + vCol.reduce(0) { $0 + $1.count } + v.reduce(0) { $0 + $1.count }
        return n * MemoryLayout<Scalar>.size + momentum32.reduce(0) { $0 + $1.count } * 4
            + momentum64.reduce(0) { $0 + $1.count } * 8
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for i in geometry.indices {
            s.setIfAny("v_row.\(i)", vRow[i])
            s.setIfAny("v_col.\(i)", vCol[i])
            s.setIfAny("v.\(i)", v[i])
            s.setIfAny("momentum.\(i)", momentum32[i])
            s.setIfAny("momentum.\(i)", momentum64[i])
        }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        for i in geometry.indices {
            try state.readIfAny("v_row.\(i)", into: &vRow[i])
            try state.readIfAny("v_col.\(i)", into: &vCol[i])
            try state.readIfAny("v.\(i)", into: &v[i])
            try state.readIfAny("momentum.\(i)", into: &momentum32[i])
            try state.readIfAny("momentum.\(i)", into: &momentum64[i])
        }
    }
}

/// Where optax's `_factored_dims` factors a tensor: its two largest axes, seen as the 5-D
/// view [P, A, Q, B, R] (a < b the two axes, A and B their sizes).
struct FactoredGeometry: Sendable {
    let p: Int, a: Int, q: Int, b: Int, r: Int
    /// True when the largest axis (d0, averaged away in the row statistics) is the first of
    /// the two.
    let largestFirst: Bool

    /// Nil when the tensor is not factored: `factored` false, rank < 2, or the second-largest
    /// dimension below `minDimSize`.
    init?(shape: [Int], factored: Bool, minDimSize: Int) {
        guard factored, shape.count >= 2 else { return nil }
        // numpy argsort of a short array is stable: ascending size, ties by index.
        let sorted = shape.indices.sorted { (shape[$0], $0) < (shape[$1], $1) }
        let d0 = sorted[sorted.count - 1], d1 = sorted[sorted.count - 2]
        guard shape[d1] >= minDimSize else { return nil }
        let lo = min(d0, d1), hi = max(d0, d1)
        p = shape[..<lo].reduce(1, *)
        a = shape[lo]
        q = shape[(lo + 1)..<hi].reduce(1, *)
        b = shape[hi]
        r = shape[(hi + 1)...].reduce(1, *)
        largestFirst = d0 == lo
    }

    /// Elements of the row statistics (the shape without d0) and column statistics (without d1).
    var rowCount: Int { p * q * r * (largestFirst ? b : a) }
    var colCount: Int { p * q * r * (largestFirst ? a : b) }

    /// Updates R and C with G = g² + ε and returns g·(R/mean_d1(R))^(−½)·C^(−½).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func update<Scalar: TunedScalar>(
        _ g: [Scalar], vRow: inout [Scalar], vCol: inout [Scalar], decay: Scalar, oneMinus: Scalar, eps: Scalar
    ) -> [Scalar] {
        // Sums over axis a (layout without a: [P, Q, B, R]) and over axis b ([P, A, Q, R]).
        var sumA = [Scalar](repeating: 0, count: p * q * b * r)
        var sumB = [Scalar](repeating: 0, count: p * a * q * r)
        forEach { flat, dropA, dropB, _ in
            let gsq = g[flat] * g[flat] + eps
            sumA[dropA] += gsq
            sumB[dropB] += gsq
        }
        // Row statistics average away d0, column statistics d1.
        let (rowSum, rowN, colSum, colN) = largestFirst ? (sumA, a, sumB, b) : (sumB, b, sumA, a)
        for k in vRow.indices { vRow[k] = decay * vRow[k] + oneMinus * (rowSum[k] / Scalar(rowN)) }
        for k in vCol.indices { vCol[k] = decay * vCol[k] + oneMinus * (colSum[k] / Scalar(colN)) }
        // mean of R over d1: R is laid out without d0, so d1 is the remaining one of a, b.
        var rowMean = [Scalar](repeating: 0, count: p * q * r)
        let d1Size = largestFirst ? b : a
        for pi in 0..<p {
            for qi in 0..<q {
                for ri in 0..<r {
                    var s: Scalar = 0
                    for k in 0..<d1Size {
                        // R index with the d1 coordinate k.
                        let idx = largestFirst ? ((pi * q + qi) * b + k) * r + ri : ((pi * a + k) * q + qi) * r + ri
                        s += vRow[idx]
                    }
                    rowMean[(pi * q + qi) * r + ri] = s / Scalar(d1Size)
                }
            }
        }
        var u = g
        forEach { flat, dropA, dropB, both in
            let (rowIdx, colIdx) = largestFirst ? (dropA, dropB) : (dropB, dropA)
            let rowFactor = 1 / (vRow[rowIdx] / rowMean[both]).vectorizableSquareRoot()
            let colFactor = 1 / vCol[colIdx].vectorizableSquareRoot()
            u[flat] = g[flat] * rowFactor * colFactor
        }
        return u
    }

    /// Calls `body(flat, indexWithoutA, indexWithoutB, indexWithoutBoth)` for every element.
    @inline(__always)
    private func forEach(_ body: (Int, Int, Int, Int) -> Void) {
        var flat = 0
        for pi in 0..<p {
            for ai in 0..<a {
                for qi in 0..<q {
                    for bi in 0..<b {
                        for ri in 0..<r {
                            body(flat, ((pi * q + qi) * b + bi) * r + ri, ((pi * a + ai) * q + qi) * r + ri, (pi * q + qi) * r + ri)
                            flat += 1
                        }
                    }
                }
            }
        }
    }
}

extension StateDict {
    /// Stores `array` unless it is empty (state an optimizer does not keep, e.g. the
    /// unfactored second moment of a factored tensor): an empty array has no element type.
    mutating func setIfAny<S: TunedScalar>(_ key: String, _ array: [S]) {
        if !array.isEmpty { set(key, array: array) }
    }

    /// Reads `key` into `array` when `array` has elements (the counterpart of `setIfAny`).
    func readIfAny<S: TunedScalar>(_ key: String, into array: inout [S]) throws {
        if !array.isEmpty { array = try self.array(key, count: array.count) }
    }
}
