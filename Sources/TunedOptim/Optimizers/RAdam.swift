import Foundation

/// torch.optim.RAdam: Adam with the variance rectification of Liu et al. (2020).
///
///     g ← −g (maximize);  decoupled: θ ← θ·(1 − lr·λ)   else g ← g + λθ
///     m ← lerp(m, g, 1−β1);  v ← β2·v + (1−β2)·g²;  m̂ = m/bc1
///     ρ∞ = 2/(1−β2) − 1;  ρ_t = ρ∞ − 2t·β2^t/bc2
///     ρ_t > 5: r = √[(ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)],  θ ← θ − m̂·lr·(√bc2/(√v + eps))·r
///     else:    θ ← θ − m̂·lr
///
/// Reference: torch 2.15 `torch/optim/radam.py`, `_single_tensor_radam` (non-capturable
/// path), in its operation order (eps is added to the raw √v). Matches the reference
/// vectors to 1e-12 relative.
public struct RAdam<Scalar: TunedScalar>: Optimizer {
    public let name = "radam"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let decoupledWeightDecay: Bool
    public let maximize: Bool
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    var expAvgSq: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> {
        ["lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "foreach", "maximize", "capturable", "differentiable"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        (beta1, beta2) = try hp.betas(default: [0.9, 0.999])
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: 0)
        decoupledWeightDecay = try hp.bool("decoupled_weight_decay", default: false)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["foreach", "capturable", "differentiable"])
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
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
        let rhoInf = 2 / (1 - beta2) - 1
        let rhoT = rhoInf - 2 * t * pow(beta2, t) / bc2
        let rectified = rhoT > 5.0
        let rect = rectified ? ((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)).vectorizableSquareRoot() : 0
        let rectS = Scalar(rect), bc2Sqrt = Scalar(bc2.vectorizableSquareRoot()), bc1s = Scalar(bc1), lr = Scalar(learningRate)
        let w1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2), e = Scalar(eps)
        let wd = Scalar(weightDecay), shrink = Scalar(1 - learningRate * weightDecay)
        let coupled = weightDecay != 0 && !decoupledWeightDecay, decoupled = weightDecay != 0 && decoupledWeightDecay
        let sign: Scalar = maximize ? -1 : 1
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { pb in
            gradients[i].values.withUnsafeBufferPointer { gb in
            expAvg[i].withUnsafeMutableBufferPointer { mb in
            expAvgSq[i].withUnsafeMutableBufferPointer { vb in
                let n = pb.count
                let (p, g, m, v) = (pb.baseAddress!, gb.baseAddress!, mb.baseAddress!, vb.baseAddress!)
                // Instantiated per flag combination so that each loop is branch-free and vectorises.
                @inline(__always) func update(_ coupled: Bool, _ decoupled: Bool, _ rectified: Bool) {
                    for j in 0..<n {
                        var gj = sign * g[j]
                        if decoupled { p[j] = p[j] * shrink }
                        if coupled { gj = gj + wd * p[j] }
                        let mj = torchLerp(m[j], gj, w1)
                        m[j] = mj
                        let vj = v[j] * b2 + oneMinusB2 * gj * gj
                        v[j] = vj
                        let mHat = mj / bc1s
                        if rectified {
                            let adaptive = bc2Sqrt / (vj.vectorizableSquareRoot() + e)
                            p[j] = p[j] - mHat * lr * adaptive * rectS
                        } else {
                            p[j] = p[j] - mHat * lr
                        }
                    }
                }
                switch (coupled, decoupled, rectified) {
                case (true, _, true): update(true, false, true)
                case (true, _, false): update(true, false, false)
                case (false, true, true): update(false, true, true)
                case (false, true, false): update(false, true, false)
                case (false, false, true): update(false, false, true)
                case (false, false, false): update(false, false, false)
                }
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
