import Foundation

/// Schedule-free AdamW and SGD (Defazio et al. 2024), as the `schedulefree` package 1.4.1
/// implements them (`AdamWScheduleFree`, `SGDScheduleFree`, the `foreach=False` path).
///
/// The parameters the caller holds are y, the point where gradients are taken; the state
/// keeps z (the base iterate) and, for AdamW, the second moment. The evaluation point is
/// x = y + (1 − 1/β₁)(z − y) (`enterEvalMode`, the reference's `opt.eval()`), and
/// `enterTrainMode` (`opt.train()`) goes back with y = x + (1 − β₁)(z − x). Per step k (0-based):
///
///     sched = (k+1)/warmup_steps if k < warmup_steps else 1;  lr = group_lr·sched
///     lr_max = max(lr, lr_max);  weight = (k+1)^r · lr_max^weight_lr_power
///     weight_sum += weight;  c = weight/weight_sum   (0 when weight_sum is 0)
///     AdamW: v ← β₂v + (1−β₂)g²;  g ← g / (√(v/(1−β₂^(k+1))) + eps)
///     g ← g + weight_decay·y                               (when weight_decay ≠ 0)
///     y ← lerp(y, z, c);  y ← y + lr·(β₁(1−c) − 1)·g;  z ← z − lr·g
///
/// with β₁ = `momentum` for SGD. The scalars (lr_max, weight_sum, c) are Python floats in
/// the reference, Doubles here. lr_max starts at −1 and weight_sum at 0, as there. The
/// optimizer starts in train mode (the reference starts in eval mode and must be switched
/// with `opt.train()` before its first step; before the first step both switches do nothing
/// because z does not exist yet). `step` in eval mode is a programming error (the reference
/// raises), and traps.
///
/// Names: `adamw_schedulefree` (lr 0.0025, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
/// warmup_steps 0, r 0, weight_lr_power 2) and `sgd_schedulefree` (lr 1.0, momentum 0.9,
/// weight_decay 0, warmup_steps 0, r 0, weight_lr_power 2); both take `foreach` (the
/// foreach path gives identical vectors). Refused where the reference would fail later:
/// β₁ (momentum) must be in (0, 1) — `eval()` divides by it — and lr and weight_lr_power
/// must be ≥ 0 (a negative lr_max to a fractional power is a Python complex number).
public struct ScheduleFree<Scalar: TunedScalar>: Optimizer {
    public enum Kind: String, Sendable { case adamw, sgd }

    public let kind: Kind
    public var name: String { kind == .adamw ? "adamw_schedulefree" : "sgd_schedulefree" }
    /// The group's lr (before the warmup factor).
    public var learningRate: Double
    /// β₁ for AdamW, `momentum` for SGD.
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let warmupSteps: Int
    public let r: Double
    public let weightLRPower: Double
    public private(set) var stepCount = 0
    public private(set) var weightSum = 0.0
    public private(set) var lrMax = -1.0
    public private(set) var trainMode = true
    var z: [[Scalar]]
    /// AdamW's second moment; one empty array per tensor for SGD.
    var expAvgSq: [[Scalar]]
    let counts: [Int]

    public static var adamWKeywords: Set<String> {
        ["lr", "betas", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power", "foreach"]
    }
    public static var sgdKeywords: Set<String> {
        ["lr", "momentum", "weight_decay", "warmup_steps", "r", "weight_lr_power", "foreach"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]], kind: Kind) throws {
        self.kind = kind
        switch kind {
        case .adamw:
            try hp.checkNoUnknownKeys(Self.adamWKeywords)
            learningRate = try hp.double("lr", default: 0.0025)
            let b = try hp.doubles("betas", count: 2, default: [0.9, 0.999])
            try hp.require(b[0] > 0 && b[0] < 1, "betas", "[0] must be in (0, 1) (eval() divides by it), got \(b[0])")
            try hp.require(b[1] >= 0 && b[1] < 1, "betas", "[1] must be in [0, 1), got \(b[1])")
            (beta1, beta2) = (b[0], b[1])
            eps = try hp.double("eps", default: 1e-8)
            try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        case .sgd:
            try hp.checkNoUnknownKeys(Self.sgdKeywords)
            learningRate = try hp.double("lr", default: 1.0)
            beta1 = try hp.double("momentum", default: 0.9)
            try hp.require(beta1 > 0 && beta1 < 1, "momentum", "must be between 0 and 1 exclusive, got \(beta1)")
            (beta2, eps) = (0, 0)
        }
        weightDecay = try hp.double("weight_decay", default: 0)
        warmupSteps = try hp.int("warmup_steps", default: 0)
        r = try hp.double("r", default: 0)
        weightLRPower = try hp.double("weight_lr_power", default: 2)
        try hp.checkFlags(["foreach"])
        try hp.require(learningRate >= 0 && learningRate.isFinite, "lr", "must be a finite number ≥ 0, got \(learningRate)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(warmupSteps >= 0, "warmup_steps", "must be ≥ 0, got \(warmupSteps)")
        try hp.require(r.isFinite, "r", "must be finite, got \(r)")
        try hp.require(weightLRPower >= 0 && weightLRPower.isFinite, "weight_lr_power", "must be a finite number ≥ 0, got \(weightLRPower)")
        counts = shapes.map { $0.reduce(1, *) }
        z = counts.map { [Scalar](repeating: 0, count: $0) }
        expAvgSq = kind == .adamw ? z : counts.map { _ in [] }
    }

    /// The lr the next step uses (warmup applied), as the reference's `scheduled_lr`.
    public var scheduledLearningRate: Double {
        stepCount < warmupSteps ? learningRate * (Double(stepCount + 1) / Double(warmupSteps)) : learningRate
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        precondition(trainMode, "\(name): step called in eval mode; call enterTrainMode first (the reference raises here)")
        let k = stepCount
        let lr = scheduledLearningRate
        lrMax = Swift.max(lr, lrMax)
        let weight = pow(Double(k + 1), r) * pow(lrMax, weightLRPower)
        weightSum += weight
        let ckp1 = weightSum == 0 ? 0 : weight / weightSum
        if k == 0 {
            // z = clone(p), into z's own buffer (sharing p's would make the next write copy p).
            for i in params.indices {
                params[i].values.withUnsafeBufferPointer { p in
                    z[i].withUnsafeMutableBufferPointer { zb in
                        for j in 0..<p.count { zb[j] = p[j] }
                    }
                }
            }
        }
        let bc2 = 1 - pow(beta2, Double(k + 1))
        let c = Scalar(ckp1), yStep = Scalar(lr * (beta1 * (1 - ckp1) - 1)), zStep = Scalar(-lr)
        let b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2), bc2s = Scalar(bc2), e = Scalar(eps)
        let wd = Scalar(weightDecay), decay = weightDecay != 0, adam = kind == .adamw
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { yb in
            gradients[i].values.withUnsafeBufferPointer { gb in
            z[i].withUnsafeMutableBufferPointer { zb in
            expAvgSq[i].withUnsafeMutableBufferPointer { vb in
                let n = yb.count
                let (y, g, zp, v) = (yb.baseAddress!, gb.baseAddress!, zb.baseAddress!, vb.baseAddress)
                @inline(__always) func update(_ adam: Bool, _ decay: Bool) {
                    for j in 0..<n {
                        var gj = g[j]
                        if adam {
                            // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)
                            let vj = torchFMA(v![j] * b2, oneMinusB2 * gj, gj)
                            v![j] = vj
                            // exp_avg_sq.div(bc2).sqrt_().add_(eps); grad.div_(denom)
                            gj = gj / ((vj / bc2s).vectorizableSquareRoot() + e)
                        }
                        if decay { gj = torchFMA(gj, wd, y[j]) }  // grad.add_(y, alpha=decay)
                        let yj = torchLerp(y[j], zp[j], c)
                        y[j] = torchFMA(yj, yStep, gj)  // y.add_(grad, alpha=lr·(β₁(1−c)−1))
                        zp[j] = torchFMA(zp[j], zStep, gj)  // z.sub_(grad, alpha=lr)
                    }
                }
                switch (adam, decay) {
                case (true, true): update(true, true)
                case (true, false): update(true, false)
                case (false, true): update(false, true)
                case (false, false): update(false, false)
                }
            }}}}
        }
        stepCount += 1
    }

    public var hasEvaluationParameters: Bool { true }

    /// `p.lerp_(z, 1 − 1/β₁)` (x from y), once z exists.
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) {
        if trainMode { moveToward(&params, weight: 1 - 1 / beta1) }
        trainMode = false
    }

    /// `p.lerp_(z, 1 − β₁)` (y from x), once z exists.
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) {
        if !trainMode { moveToward(&params, weight: 1 - beta1) }
        trainMode = true
    }

    private func moveToward(_ params: inout [Tensor<Scalar>], weight: Double) {
        guard stepCount > 0 else { return }
        let w = Scalar(weight)
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
                z[i].withUnsafeBufferPointer { zb in
                    for j in 0..<p.count { p[j] = torchLerp(p[j], zb[j], w) }
                }
            }
        }
    }

    /// z, plus the second moment for AdamW (the reference's state; its scalars are a few bytes).
    public var stateBytes: Int {
        (z.reduce(0) { $0 + $1.count } + expAvgSq.reduce(0) { $0 + $1.count }) * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s["weight_sum"] = .double(weightSum)
        s["lr_max"] = .double(lrMax)
        s["train_mode"] = .int(trainMode ? 1 : 0)
        for i in counts.indices {
            s.set("z.\(i)", array: z[i])
            if kind == .adamw { s.set("exp_avg_sq.\(i)", array: expAvgSq[i]) }
        }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let ws = try state.double("weight_sum"), lm = try state.double("lr_max"), mode = try state.int("train_mode")
        guard step >= 0 else { throw OptimizerError("state key 'step' is \(step), expected ≥ 0") }
        let zs: [[Scalar]] = try state.buffers("z", counts: counts)
        let v: [[Scalar]] = kind == .adamw ? try state.buffers("exp_avg_sq", counts: counts) : expAvgSq
        (stepCount, learningRate, weightSum, lrMax, trainMode, z, expAvgSq) = (step, lr, ws, lm, mode != 0, zs, v)
    }
}

/// `a + b·c` as torch's CPU kernels compute `addcmul` and `add_(other, alpha=)` on Doubles
/// (one fused multiply-add, `vec::fmadd`); Float rounds twice, as `torchLerp` explains.
@inline(__always)
func torchFMA<S: TunedScalar>(_ a: S, _ b: S, _ c: S) -> S {
    S.self == Double.self ? a.addingProduct(b, c) : a + b * c
}
