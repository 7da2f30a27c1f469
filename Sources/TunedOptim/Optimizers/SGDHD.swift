/// SGD with hypergradient descent on the learning rate: a port of `SGDHD` from
/// gbaydin/hypergradient-descent (`hypergrad/sgd_hd.py`), registered as torch "sgd_hd" and
/// "sgdn_hd" (Nesterov, momentum 0.9 unless given).
///
///     g = ∇f + λθ                              (all parameters as one flat vector)
///     h = g · d_{t−1}                          (d_0 = 0)
///     lr ← clamp(lr + β_h·h, lr_min, lr_max)   (before the step)
///     b ← g (first step) | μb + (1−τ)g;  d = g + μb (Nesterov) | b (momentum) | g
///     θ ← θ − lr·d;  d_{t−1} ← d
///
/// Keywords: lr (1e-3, the paper's α₀), momentum (0), dampening (0), weight_decay (0),
/// nesterov (false), hypergrad_lr (β_h, 1e-6 as the reference), lr_min, lr_max
/// (`LearningRateBounds`). The clamp and the non-finite-h rule are ours; with bounds that
/// never bind the steps are the reference's to 1e-12.
public struct SGDHD<Scalar: TunedScalar>: Optimizer {
    public let name: String
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    public let hypergradLR: Double
    public let bounds: LearningRateBounds
    public private(set) var stepCount = 0
    public private(set) var lastHypergradient = 0.0
    public private(set) var nonFiniteHypergradients = 0
    var buffers: [[Scalar]]
    /// d_{t−1}: the reference's `grad_prev`.
    var previous: [[Scalar]]

    public static var keywords: Set<String> {
        ["lr", "momentum", "dampening", "weight_decay", "nesterov", "hypergrad_lr", "lr_min", "lr_max"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]], nesterovDefault: Bool = false) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        name = nesterovDefault ? "sgdn_hd" : "sgd_hd"
        learningRate = try hp.double("lr", default: 1e-3)
        momentum = try hp.double("momentum", default: nesterovDefault ? 0.9 : 0)
        dampening = try hp.double("dampening", default: 0)
        weightDecay = try hp.double("weight_decay", default: 0)
        nesterov = try hp.bool("nesterov", default: nesterovDefault)
        hypergradLR = try hp.double("hypergrad_lr", default: 1e-6)
        try hp.require(learningRate >= 0 && learningRate.isFinite, "lr", "must be a finite number ≥ 0, got \(learningRate)")
        try hp.require(momentum >= 0, "momentum", "must be ≥ 0, got \(momentum)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(hypergradLR >= 0 && hypergradLR.isFinite, "hypergrad_lr", "must be a finite number ≥ 0, got \(hypergradLR)")
        try hp.require(!nesterov || (momentum > 0 && dampening == 0), "nesterov", "requires momentum > 0 and dampening = 0")
        bounds = try LearningRateBounds(hp, initial: learningRate)
        learningRate = bounds.clamp(learningRate)
        let counts = shapes.map { $0.reduce(1, *) }
        let withMomentum = momentum != 0
        buffers = counts.map { [Scalar](repeating: 0, count: withMomentum ? $0 : 0) }
        previous = counts.map { [Scalar](repeating: 0, count: $0) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        let first = stepCount == 0
        stepCount += 1
        let wd = Scalar(weightDecay), mu = Scalar(momentum), damp = Scalar(1 - dampening)
        // g with weight decay, kept in `previous` after h is taken (it becomes d below).
        var h = 0.0
        for i in params.indices {
            let grad = gradients[i].values
            params[i].values.withUnsafeBufferPointer { p in
                previous[i].withUnsafeMutableBufferPointer { d in
                    for j in 0..<d.count {
                        let g = weightDecay != 0 ? grad[j] + wd * p[j] : grad[j]
                        h += Double(g) * Double(d[j])
                        d[j] = g
                    }
                }
            }
        }
        (learningRate, lastHypergradient) = bounds.update(learningRate, hypergradLR: hypergradLR, h: h, nonFinite: &nonFiniteHypergradients)
        let minusLR = Scalar(-learningRate)
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
                previous[i].withUnsafeMutableBufferPointer { d in
                    if momentum == 0 {
                        for j in 0..<p.count { p[j] = p[j] + minusLR * d[j] }
                        return
                    }
                    buffers[i].withUnsafeMutableBufferPointer { b in
                        for j in 0..<p.count {
                            let g = d[j]
                            b[j] = first ? g : b[j] * mu + damp * g
                            d[j] = nesterov ? g + mu * b[j] : b[j]
                            p[j] = p[j] + minusLR * d[j]
                        }
                    }
                }
            }
        }
    }

    public var stateBytes: Int {
        (buffers.reduce(0) { $0 + $1.count } + previous.reduce(0) { $0 + $1.count }) * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s["hypergradient"] = .double(lastHypergradient)
        s["non_finite_hypergradients"] = .int(nonFiniteHypergradients)
        for (i, b) in buffers.enumerated() { s.setIfAny("momentum_buffer.\(i)", b) }
        for (i, d) in previous.enumerated() { s.set("grad_prev.\(i)", array: d) }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        lastHypergradient = try state.double("hypergradient")
        nonFiniteHypergradients = try state.int("non_finite_hypergradients")
        for i in buffers.indices { try state.readIfAny("momentum_buffer.\(i)", into: &buffers[i]) }
        for i in previous.indices { previous[i] = try state.array("grad_prev.\(i)", count: previous[i].count) }
    }
}
