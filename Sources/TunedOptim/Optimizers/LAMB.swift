import Foundation

/// LAMB, layer-wise adaptive moments (You et al. 2020, "Large Batch Optimization for Deep
/// Learning: Training BERT in 76 minutes", Algorithm 2, with bias correction), per tensor:
///
///     m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
///     r = (m/bc1) / (√v/√bc2 + eps) + λθ                     bc_i = 1 − β_i^t
///     ratio = ‖θ‖/‖r‖ (1 when either norm is 0);  θ ← θ − lr·ratio·r
///
/// Operation order as in timm's `timm/optim/lamb.py` (itself after NVIDIA's FusedLAMB),
/// with the trust ratio always applied (the paper's φ = identity; timm's
/// `always_adapt=True`) and without timm's global gradient-norm clipping. Keywords:
/// lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01 (the paper's λ and timm's
/// default), bias_correction=true.
public struct LAMB<Scalar: TunedScalar>: Optimizer {
    public let name = "lamb"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let biasCorrection: Bool
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    var expAvgSq: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> { ["lr", "betas", "eps", "weight_decay", "bias_correction"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        (beta1, beta2) = try hp.betas(default: [0.9, 0.999])
        eps = try hp.double("eps", default: 1e-6)
        weightDecay = try hp.double("weight_decay", default: 0.01)
        biasCorrection = try hp.bool("bias_correction", default: true)
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        counts = shapes.map { $0.reduce(1, *) }
        expAvg = counts.map { [Scalar](repeating: 0, count: $0) }
        expAvgSq = expAvg
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = biasCorrection ? 1 - pow(beta1, t) : 1, bc2 = biasCorrection ? 1 - pow(beta2, t) : 1
        let b1 = Scalar(beta1), oneMinusB1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2)
        let bc1s = Scalar(bc1), bc2Sqrt = Scalar(bc2.vectorizableSquareRoot()), e = Scalar(eps), wd = Scalar(weightDecay)
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            expAvg[i].withUnsafeMutableBufferPointer { m in
            expAvgSq[i].withUnsafeMutableBufferPointer { v in
                @inline(__always) func r(_ j: Int) -> Scalar {
                    m[j] / bc1s / (v[j].vectorizableSquareRoot() / bc2Sqrt + e) + wd * p[j]
                }
                // Pass 1: the moments and ‖r‖; pass 2 recomputes r (same inputs, same bits).
                var rSquares = 0.0, wSquares = 0.0
                for j in 0..<p.count {
                    m[j] = m[j] * b1 + oneMinusB1 * g[j]
                    v[j] = v[j] * b2 + oneMinusB2 * g[j] * g[j]
                    let rj = r(j).double, wj = p[j].double
                    rSquares += rj * rj
                    wSquares += wj * wj
                }
                let wNorm = Scalar(wSquares.vectorizableSquareRoot()).double, rNorm = Scalar(rSquares.vectorizableSquareRoot()).double
                let ratio = wNorm > 0 && rNorm > 0 ? wNorm / rNorm : 1
                let scale = Scalar(-learningRate * ratio)
                for j in 0..<p.count { p[j] = p[j] + scale * r(j) }
            }}}}
        }
    }

    public var stateBytes: Int { (expAvg + expAvgSq).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s.set("exp_avg", buffers: expAvg)
        s.set("exp_avg_sq", buffers: expAvgSq)
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let m: [[Scalar]] = try state.buffers("exp_avg", counts: counts)
        let v: [[Scalar]] = try state.buffers("exp_avg_sq", counts: counts)
        (stepCount, learningRate, expAvg, expAvgSq) = (step, lr, m, v)
    }
}
