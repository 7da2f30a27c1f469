import Foundation

/// torch.optim.Adam and torch.optim.AdamW (one type: AdamW is Adam with decoupled decay).
///
///     g ← −g (maximize)
///     decoupled: θ ← θ·(1 − lr·λ)      else g ← g + λθ
///     m ← lerp(m, g, 1−β1);  v ← β2·v + (1−β2)·g²
///     amsgrad: v̂ ← max(v̂, v) on the raw v, used in place of v
///     denom = √v/√bc2 + eps;  θ ← θ − (lr/bc1)·m/denom        bc_i = 1 − β_i^t
///
/// Reference: torch 2.15 `torch/optim/adam.py`, `_single_tensor_adam`, in its operation
/// order (`lerp_`, `mul_.addcmul_`, `(sqrt/bc2_sqrt).add_(eps)`, `addcdiv_(value=−lr/bc1)`).
/// The bias corrections are Python floats there, Doubles here, converted once. Matches the
/// reference vectors to 1e-12 relative. `adamw` (torch.optim.AdamW) defaults
/// weight_decay to 1e-2 and has no `decoupled_weight_decay` keyword.
public struct Adam<Scalar: TunedScalar>: Optimizer {
    public let name: String
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let amsgrad: Bool
    public let decoupledWeightDecay: Bool
    public let maximize: Bool
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    var expAvgSq: [[Scalar]]
    /// The running maximum of v (amsgrad only; else one empty array per tensor).
    var maxExpAvgSq: [[Scalar]]
    let counts: [Int]

    /// torch.optim.AdamW's keywords; Adam's add `decoupled_weight_decay`.
    public static var adamWKeywords: Set<String> {
        ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused"]
    }
    public static var keywords: Set<String> { adamWKeywords.union(["decoupled_weight_decay"]) }

    /// torch.optim.Adam.
    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try self.init(hp, shapes: shapes, adamW: false)
    }

    /// torch.optim.AdamW when `adamW`, else torch.optim.Adam.
    public init(_ hp: Hyperparameters, shapes: [[Int]], adamW: Bool) throws {
        try hp.checkNoUnknownKeys(adamW ? Self.adamWKeywords : Self.keywords)
        name = adamW ? "adamw" : "adam"
        learningRate = try hp.double("lr", default: 1e-3)
        (beta1, beta2) = try hp.betas(default: [0.9, 0.999])
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: adamW ? 1e-2 : 0)
        amsgrad = try hp.bool("amsgrad", default: false)
        decoupledWeightDecay = adamW ? true : try hp.bool("decoupled_weight_decay", default: false)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["foreach", "capturable", "differentiable", "fused"])
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        counts = shapes.map { $0.reduce(1, *) }
        let zeros = counts.map { [Scalar](repeating: 0, count: $0) }
        expAvg = zeros
        expAvgSq = zeros
        maxExpAvgSq = amsgrad ? zeros : counts.map { _ in [] }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
        let negStepSize = Scalar(-(learningRate / bc1)), bc2Sqrt = Scalar(bc2.vectorizableSquareRoot())
        let w1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2), e = Scalar(eps)
        let wd = Scalar(weightDecay), shrink = Scalar(1 - learningRate * weightDecay)
        let coupled = weightDecay != 0 && !decoupledWeightDecay, decoupled = weightDecay != 0 && decoupledWeightDecay
        let sign: Scalar = maximize ? -1 : 1
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            expAvg[i].withUnsafeMutableBufferPointer { m in
            expAvgSq[i].withUnsafeMutableBufferPointer { v in
            maxExpAvgSq[i].withUnsafeMutableBufferPointer { vmax in
                let n = p.count
                let (p, g, m, v, vmax) = (p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress, vmax.baseAddress)
                // One loop body, instantiated for each combination of the branch flags so that
                // every instance is a straight-line loop the compiler vectorises.
                @inline(__always) func update(_ coupled: Bool, _ decoupled: Bool, _ ams: Bool) {
                    for j in 0..<n {
                        var gj = sign * g[j]
                        if decoupled { p[j] = p[j] * shrink }
                        if coupled { gj = gj + wd * p[j] }
                        m[j] = torchLerp(m[j], gj, w1)
                        let vj = v![j] * b2 + oneMinusB2 * gj * gj
                        v![j] = vj
                        var vd = vj
                        if ams {
                            vd = nanMaximum(vmax![j], vj)
                            vmax![j] = vd
                        }
                        let denom = vd.vectorizableSquareRoot() / bc2Sqrt + e
                        p[j] = p[j] + negStepSize * m[j] / denom
                    }
                }
                switch (coupled, decoupled, amsgrad) {
                case (false, false, false): update(false, false, false)
                case (false, true, false): update(false, true, false)
                case (true, false, false): update(true, false, false)
                case (false, false, true): update(false, false, true)
                case (false, true, true): update(false, true, true)
                default: update(true, false, true)
                }
            }}}}}
        }
    }

    public var stateBytes: Int {
        (expAvg + expAvgSq + maxExpAvgSq).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for i in counts.indices {
            s.set("exp_avg.\(i)", array: expAvg[i])
            s.set("exp_avg_sq.\(i)", array: expAvgSq[i])
            if amsgrad { s.set("max_exp_avg_sq.\(i)", array: maxExpAvgSq[i]) }
        }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let m: [[Scalar]] = try state.buffers("exp_avg", counts: counts)
        let v: [[Scalar]] = try state.buffers("exp_avg_sq", counts: counts)
        let vmax: [[Scalar]] = amsgrad
            ? try state.buffers("max_exp_avg_sq", counts: counts) : maxExpAvgSq
        (stepCount, learningRate, expAvg, expAvgSq, maxExpAvgSq) = (step, lr, m, v, vmax)
    }
}
