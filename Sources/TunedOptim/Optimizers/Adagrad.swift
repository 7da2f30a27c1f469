/// torch.optim.Adagrad: per-coordinate step sizes from the sum of squared gradients.
///
///     g ← −g (maximize);  g ← g + λθ
///     clr = lr / (1 + (t−1)·lr_decay)
///     s ← s + g²;  θ ← θ − clr·g/(√s + eps)
///
/// Reference: torch 2.15 `torch/optim/adagrad.py`, `_single_tensor_adagrad` (dense path), in
/// its operation order (`addcmul_`, then `addcdiv_` as `θ + (−clr·g)/std`). Matches its
/// vectors to 1e-12 relative. The accumulator starts at `initial_accumulator_value`.
public struct Adagrad<Scalar: TunedScalar>: Optimizer {
    public let name = "adagrad"
    public var learningRate: Double
    public let lrDecay: Double
    public let weightDecay: Double
    public let initialAccumulatorValue: Double
    public let eps: Double
    public let maximize: Bool
    public private(set) var stepCount = 0
    /// The running sums of squared gradients, one per tensor.
    var sums: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> {
        ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "foreach", "maximize", "differentiable", "fused"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-2)
        lrDecay = try hp.double("lr_decay", default: 0)
        weightDecay = try hp.double("weight_decay", default: 0)
        initialAccumulatorValue = try hp.double("initial_accumulator_value", default: 0)
        eps = try hp.double("eps", default: 1e-10)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["foreach", "differentiable", "fused"])
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(lrDecay >= 0, "lr_decay", "must be ≥ 0, got \(lrDecay)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(initialAccumulatorValue >= 0, "initial_accumulator_value", "must be ≥ 0, got \(initialAccumulatorValue)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        counts = shapes.map { $0.reduce(1, *) }
        let initial = Scalar(initialAccumulatorValue)
        sums = counts.map { [Scalar](repeating: initial, count: $0) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let clr = learningRate / (1 + Double(stepCount - 1) * lrDecay)
        let negClr = Scalar(-clr), wd = Scalar(weightDecay), e = Scalar(eps)
        let sign: Scalar = maximize ? -1 : 1
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { pb in
            gradients[i].values.withUnsafeBufferPointer { gb in
            sums[i].withUnsafeMutableBufferPointer { sb in
                let n = pb.count
                let (p, g, s) = (pb.baseAddress!, gb.baseAddress!, sb.baseAddress!)
                // Instantiated per flag so that each loop is branch-free and vectorises.
                @inline(__always) func update(_ decay: Bool) {
                    for j in 0..<n {
                        var gj = sign * g[j]
                        if decay { gj = gj + wd * p[j] }
                        let sj = s[j] + gj * gj
                        s[j] = sj
                        let std = sj.vectorizableSquareRoot() + e
                        p[j] = p[j] + negClr * gj / std
                    }
                }
                if weightDecay != 0 { update(true) } else { update(false) }
            }}}
        }
    }

    public var stateBytes: Int { sums.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, b) in sums.enumerated() { s.set("sum.\(i)", array: b) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let restored: [[Scalar]] = try counts.indices.map { try state.array("sum.\($0)", count: counts[$0]) }
        (stepCount, learningRate, sums) = (step, lr, restored)
    }
}
