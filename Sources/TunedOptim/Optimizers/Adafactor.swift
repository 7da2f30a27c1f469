import Foundation

/// torch.optim.Adafactor (torch's variant: no first moment, `beta2_decay`, relative step
/// size capped by lr), with factored second moments for tensors of two or more dimensions.
///
///     g ← −g (maximize);  β̂_t = t^beta2_decay (the lerp weight, so step 1 replaces the state)
///     ρ_t = min(lr, 1/√t);  α_t = max(eps2, RMS(θ)) · ρ_t            (RMS before the decay)
///     θ ← θ·(1 − lr·λ)
///     matrix (last two dims; leading dims are a batch of independent factorisations):
///         R ← lerp(R, ‖g‖²_row/cols, β̂_t);  C ← lerp(C, ‖g‖²_col/rows, β̂_t)
///         V = (R ⊗ C) / max(mean(R), eps1)
///     vector: V ← lerp(V, g², β̂_t)
///     U = g / √max(V, eps1²);  θ ← θ − α_t / max(1, RMS(U)/d) · U
///
/// eps1 = null (the default) is the machine epsilon of the dtype: 2.2e-16 for Double,
/// 1.2e-7 for Float. Memory is O(rows + cols) per matrix. Reference: torch 2.15
/// `torch/optim/_adafactor.py`, `_single_tensor_adafactor`, in its operation order (the
/// row/column means are `norm(dim).square_().div_(n)`; norms are summed in Double here).
/// Matches the reference vectors to 1e-12 relative.
public struct Adafactor<Scalar: TunedScalar>: Optimizer {
    public let name = "adafactor"
    /// torch's `lr`, from which ρ_t is derived.
    public var learningRate: Double
    public let beta2Decay: Double
    /// nil means the machine epsilon of `Scalar`.
    public let eps1: Double?
    public let eps2: Double
    public let d: Double
    public let weightDecay: Double
    public let maximize: Bool
    public private(set) var stepCount = 0

    /// How one tensor's second moment is kept.
    struct Layout: Sendable {
        var count: Int
        /// batch × rows × cols for a factored tensor, nil for a vector (or scalar).
        var factored: (batch: Int, rows: Int, cols: Int)?
    }
    let layouts: [Layout]
    /// Row statistics R (batch × rows), factored tensors only; else empty.
    var rowVar: [[Scalar]]
    /// Column statistics C (batch × cols), factored tensors only; else empty.
    var colVar: [[Scalar]]
    /// Full second moment V, unfactored tensors only; else empty.
    var variance: [[Scalar]]
    /// Column sums of g² for one matrix of a batch (not state).
    var columnScratch: [Double]

    public static var keywords: Set<String> { ["lr", "beta2_decay", "eps", "d", "weight_decay", "foreach", "maximize"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-2)
        beta2Decay = try hp.double("beta2_decay", default: -0.8)
        let eps = try hp.doubles("eps", count: 2, default: [.nan, 1e-3])
        eps1 = eps[0].isNaN ? nil : eps[0]
        eps2 = eps[1]
        d = try hp.double("d", default: 1.0)
        weightDecay = try hp.double("weight_decay", default: 0.0)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["foreach"])
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(beta2Decay <= 0, "beta2_decay", "must be ≤ 0, got \(beta2Decay)")
        try hp.require(eps1.map { $0 >= 0 } ?? true, "eps", "[0] must be null or ≥ 0, got \(eps[0])")
        try hp.require(eps2 >= 0, "eps", "[1] must be ≥ 0, got \(eps2)")
        try hp.require(d >= 1, "d", "(the clipping threshold) must be ≥ 1, got \(d)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        layouts = shapes.map { shape in
            let n = shape.reduce(1, *)
            guard shape.count >= 2 else { return Layout(count: n, factored: nil) }
            let rows = shape[shape.count - 2], cols = shape[shape.count - 1]
            return Layout(count: n, factored: (n / (rows * cols), rows, cols))
        }
        rowVar = layouts.map { [Scalar](repeating: 0, count: $0.factored.map { $0.batch * $0.rows } ?? 0) }
        colVar = layouts.map { [Scalar](repeating: 0, count: $0.factored.map { $0.batch * $0.cols } ?? 0) }
        variance = layouts.map { [Scalar](repeating: 0, count: $0.factored == nil ? $0.count : 0) }
        columnScratch = [Double](repeating: 0, count: layouts.compactMap { $0.factored?.cols }.max() ?? 0)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let weight = Scalar(pow(t, beta2Decay))
        let rho = min(learningRate, 1 / t.vectorizableSquareRoot())
        let e1 = eps1 ?? Scalar.machineEpsilon.double
        let e1s = Scalar(e1), e1sq = Scalar(e1 * e1)
        let shrink = Scalar(1 - learningRate * weightDecay), decay = weightDecay != 0
        let sign: Scalar = maximize ? -1 : 1, eps2 = eps2
        for i in params.indices {
            let layout = layouts[i]
            let n = layout.count
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { gRaw in
            rowVar[i].withUnsafeMutableBufferPointer { rowV in
            colVar[i].withUnsafeMutableBufferPointer { colV in
            variance[i].withUnsafeMutableBufferPointer { v in
            columnScratch.withUnsafeMutableBufferPointer { colSum in
                let rmsP = euclideanNorm(UnsafeBufferPointer(p)) / Double(n).vectorizableSquareRoot()
                let alpha = (rmsP > eps2 ? rmsP : eps2) * rho
                if decay { for j in 0..<n { p[j] = p[j] * shrink } }

                // The second-moment statistics, then U = g/√max(V, eps1²) in two passes:
                // its norm first, then the update (U is recomputed, never stored).
                var uSquares = 0.0
                func pass(apply: Bool, _ scale: Scalar) {
                    if let f = layout.factored {
                        let (rows, cols) = (f.rows, f.cols)
                        for b in 0..<f.batch {
                            var meanR = 0.0
                            for r in 0..<rows { meanR += rowV[b * rows + r].double }
                            let m = Scalar(meanR / Double(rows))
                            let denom = m < e1s ? e1s : m
                            for r in 0..<rows {
                                let base = (b * rows + r) * cols
                                let rv = rowV[b * rows + r]
                                for c in 0..<cols {
                                    let vEst = rv * colV[b * cols + c] / denom
                                    let u = 1 / (vEst < e1sq ? e1sq : vEst).vectorizableSquareRoot() * (sign * gRaw[base + c])
                                    if apply { p[base + c] = p[base + c] + scale * u } else { uSquares += u.double * u.double }
                                }
                            }
                        }
                    } else {
                        for j in 0..<n {
                            let vEst = v[j]
                            let u = 1 / (vEst < e1sq ? e1sq : vEst).vectorizableSquareRoot() * (sign * gRaw[j])
                            if apply { p[j] = p[j] + scale * u } else { uSquares += u.double * u.double }
                        }
                    }
                }

                if let f = layout.factored {
                    let (rows, cols) = (f.rows, f.cols)
                    for b in 0..<f.batch {
                        for c in 0..<cols { colSum[c] = 0 }
                        for r in 0..<rows {
                            let base = (b * rows + r) * cols
                            var rowSum = 0.0
                            for c in 0..<cols {
                                let g = gRaw[base + c].double
                                rowSum += g * g
                                colSum[c] += g * g
                            }
                            let norm = Scalar(rowSum.vectorizableSquareRoot())
                            rowV[b * rows + r] = torchLerp(rowV[b * rows + r], norm * norm / Scalar(cols), weight)
                        }
                        for c in 0..<cols {
                            let norm = Scalar(colSum[c].vectorizableSquareRoot())
                            colV[b * cols + c] = torchLerp(colV[b * cols + c], norm * norm / Scalar(rows), weight)
                        }
                    }
                } else {
                    for j in 0..<n {
                        let g = sign * gRaw[j]
                        v[j] = torchLerp(v[j], g * g, weight)
                    }
                }
                pass(apply: false, 0)
                let rmsU = Scalar(uSquares.vectorizableSquareRoot()).double / (Double(n).vectorizableSquareRoot() * d)
                let denom = rmsU > 1.0 ? rmsU : 1.0
                pass(apply: true, Scalar(-alpha / denom))
            }}}}}}
        }
    }

    public var stateBytes: Int {
        (rowVar + colVar + variance).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, layout) in layouts.enumerated() {
            if layout.factored != nil {
                s.set("row_var.\(i)", array: rowVar[i])
                s.set("col_var.\(i)", array: colVar[i])
            } else {
                s.set("variance.\(i)", array: variance[i])
            }
        }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        var (r, c, v) = (rowVar, colVar, variance)
        for i in layouts.indices {
            if layouts[i].factored != nil {
                r[i] = try state.array("row_var.\(i)", count: rowVar[i].count)
                c[i] = try state.array("col_var.\(i)", count: colVar[i].count)
            } else {
                v[i] = try state.array("variance.\(i)", count: variance[i].count)
            }
        }
        (stepCount, learningRate, rowVar, colVar, variance) = (step, lr, r, c, v)
    }
}
