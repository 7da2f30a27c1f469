/// torch.optim.SGD: momentum, dampening, Nesterov and L2 weight decay.
///
///     g ← g + λθ
///     b ← g (first step)  |  b ← μb + (1−τ)g
///     d = g + μb (Nesterov) | b (momentum) | g (plain);  θ ← θ − lr·d
///
/// Reference: torch 2.15 `torch/optim/sgd.py`, `_single_tensor_sgd`. Matches its vectors to
/// 1e-12 relative.
public struct SGD<Scalar: TunedScalar>: Optimizer {
    public let name = "sgd"
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    /// torch's `maximize`: step along +g (the gradient is negated first).
    public let maximize: Bool
    public private(set) var stepCount = 0
    /// Momentum buffers, allocated only when momentum ≠ 0.
    var buffers: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> { ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach", "differentiable", "fused"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        momentum = try hp.double("momentum", default: 0)
        dampening = try hp.double("dampening", default: 0)
        weightDecay = try hp.double("weight_decay", default: 0)
        nesterov = try hp.bool("nesterov", default: false)
        maximize = try hp.bool("maximize", default: false)
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(momentum >= 0, "momentum", "must be ≥ 0, got \(momentum)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(!nesterov || (momentum > 0 && dampening == 0), "nesterov", "requires momentum > 0 and dampening = 0")
        counts = shapes.map { $0.reduce(1, *) }
        buffers = momentum != 0 ? counts.map { [Scalar](repeating: 0, count: $0) } : []
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        let first = stepCount == 0
        stepCount += 1
        let lr = Scalar(learningRate), wd = Scalar(weightDecay), mu = Scalar(momentum)
        let damp = Scalar(1 - dampening)
        let sign: Scalar = maximize ? -1 : 1
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { pb in
                gradients[i].values.withUnsafeBufferPointer { gb in
                    let n = pb.count
                    let (p, g) = (pb.baseAddress!, gb.baseAddress!)
                    if momentum == 0 {
                        if wd != 0 {
                            for j in 0..<n { p[j] -= lr * (sign * g[j] + wd * p[j]) }
                        } else {
                            for j in 0..<n { p[j] -= lr * (sign * g[j]) }
                        }
                        return
                    }
                    buffers[i].withUnsafeMutableBufferPointer { bb in
                        let b = bb.baseAddress!
                        // One body, instantiated per flag combination so each loop is
                        // branch-free and vectorises.
                        @inline(__always) func update(_ first: Bool, _ nesterov: Bool, _ decay: Bool) {
                            for j in 0..<n {
                                let gj = decay ? sign * g[j] + wd * p[j] : sign * g[j]
                                let bj = first ? gj : mu * b[j] + damp * gj
                                b[j] = bj
                                p[j] -= lr * (nesterov ? gj + mu * bj : bj)
                            }
                        }
                        switch (first, nesterov, wd != 0) {
                        case (true, true, true): update(true, true, true)
                        case (true, false, true): update(true, false, true)
                        case (false, true, true): update(false, true, true)
                        case (false, false, true): update(false, false, true)
                        case (true, true, false): update(true, true, false)
                        case (true, false, false): update(true, false, false)
                        case (false, true, false): update(false, true, false)
                        case (false, false, false): update(false, false, false)
                        }
                    }
                }
            }
        }
    }

    public var stateBytes: Int { buffers.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, b) in buffers.enumerated() { s.set("momentum_buffer.\(i)", array: b) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        for i in buffers.indices { buffers[i] = try state.array("momentum_buffer.\(i)", count: counts[i]) }
    }
}
