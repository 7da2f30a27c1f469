import Foundation

/// torch.optim.NAdam: Adam with Nesterov momentum and Dozat's momentum-decay schedule.
///
///     g ← −g (maximize);  decoupled: θ ← θ·(1 − lr·λ)   else g ← g + λθ
///     μ_t = β1·(1 − ½·0.96^(t·ψ)),  μ_{t+1} likewise;  Π_t = Π_{t−1}·μ_t,  Π_0 = 1
///     m ← lerp(m, g, 1−β1);  v ← β2·v + (1−β2)·g²;  denom = √(v/bc2) + eps
///     θ ← θ − lr(1−μ_t)/(1−Π_t) · g/denom
///     θ ← θ − lr·μ_{t+1}/(1−Π_t·μ_{t+1}) · m/denom
///
/// Reference: torch 2.15 `torch/optim/nadam.py`, `_single_tensor_nadam` (non-capturable
/// path), in its operation order; ψ is `momentum_decay`. Π_t (`mu_product`) is kept in
/// Double and saved with the state. Matches the reference vectors to 1e-12 relative.
public struct NAdam<Scalar: TunedScalar>: Optimizer {
    public let name = "nadam"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let momentumDecay: Double
    public let decoupledWeightDecay: Bool
    public let maximize: Bool
    public private(set) var stepCount = 0
    /// Π_t, the product of the μ's so far.
    public private(set) var muProduct = 1.0
    var expAvg: [[Scalar]]
    var expAvgSq: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> {
        ["lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay",
         "foreach", "maximize", "capturable", "differentiable"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 2e-3)
        (beta1, beta2) = try hp.betas(default: [0.9, 0.999])
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: 0)
        momentumDecay = try hp.double("momentum_decay", default: 4e-3)
        decoupledWeightDecay = try hp.bool("decoupled_weight_decay", default: false)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["foreach", "capturable", "differentiable"])
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(momentumDecay >= 0, "momentum_decay", "must be ≥ 0, got \(momentumDecay)")
        counts = shapes.map { $0.reduce(1, *) }
        expAvg = counts.map { [Scalar](repeating: 0, count: $0) }
        expAvgSq = expAvg
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let bc2 = 1 - pow(beta2, t)
        let mu = beta1 * (1.0 - 0.5 * pow(0.96, t * momentumDecay))
        let muNext = beta1 * (1.0 - 0.5 * pow(0.96, (t + 1) * momentumDecay))
        muProduct *= mu
        let muProductNext = muProduct * muNext
        let gradCoef = Scalar(-learningRate * (1.0 - mu) / (1.0 - muProduct))
        let momentumCoef = Scalar((-learningRate * muNext) / (1.0 - muProductNext))
        let w1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2)
        let bc2s = Scalar(bc2), e = Scalar(eps)
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
                @inline(__always) func update(_ coupled: Bool, _ decoupled: Bool) {
                    for j in 0..<n {
                        var gj = sign * g[j]
                        if decoupled { p[j] = p[j] * shrink }
                        if coupled { gj = gj + wd * p[j] }
                        let mj = torchLerp(m[j], gj, w1)
                        m[j] = mj
                        let vj = v[j] * b2 + oneMinusB2 * gj * gj
                        v[j] = vj
                        let denom = (vj / bc2s).vectorizableSquareRoot() + e
                        p[j] = (p[j] + gradCoef * gj / denom) + momentumCoef * mj / denom
                    }
                }
                switch (coupled, decoupled) {
                case (true, _): update(true, false)
                case (false, true): update(false, true)
                case (false, false): update(false, false)
                }
            }}}}
        }
    }

    public var stateBytes: Int { (expAvg + expAvgSq).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s["mu_product"] = .double(muProduct)
        s.set("exp_avg", buffers: expAvg)
        s.set("exp_avg_sq", buffers: expAvgSq)
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr"), product = try state.double("mu_product")
        let m: [[Scalar]] = try state.buffers("exp_avg", counts: counts)
        let v: [[Scalar]] = try state.buffers("exp_avg_sq", counts: counts)
        (stepCount, learningRate, muProduct, expAvg, expAvgSq) = (step, lr, product, m, v)
    }
}
