/// torch.optim.RMSprop, plain, centered and with momentum.
///
///     g ← −g (maximize);  g ← g + λθ
///     v ← αv + (1−α)g²
///     centered: ḡ ← lerp(ḡ, g, 1−α);  d = √(v − ḡ²) + eps     else d = √v + eps
///     μ > 0: b ← μb + g/d, θ ← θ − lr·b                        else θ ← θ − lr·g/d
///
/// Reference: torch 2.15 `torch/optim/rmsprop.py`, `_single_tensor_rmsprop`, in its
/// operation order (`mul_(α).addcmul_`, `lerp_`, `addcmul(ḡ, ḡ, value=−1).sqrt_()`,
/// `addcdiv_`). Matches its vectors to 1e-12 relative.
public struct RMSprop<Scalar: TunedScalar>: Optimizer {
    public let name = "rmsprop"
    public var learningRate: Double
    public let alpha: Double
    public let eps: Double
    public let weightDecay: Double
    public let momentum: Double
    public let centered: Bool
    public let maximize: Bool
    public private(set) var stepCount = 0
    /// v, the EMA of g².
    var squareAvg: [[Scalar]]
    /// ḡ, the EMA of g (centered only; else one empty array per tensor).
    var gradAvg: [[Scalar]]
    /// b (momentum > 0 only; else one empty array per tensor).
    var momentumBuffer: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> {
        ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "capturable", "foreach", "maximize", "differentiable"]
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-2)
        alpha = try hp.double("alpha", default: 0.99)
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: 0)
        momentum = try hp.double("momentum", default: 0)
        centered = try hp.bool("centered", default: false)
        maximize = try hp.bool("maximize", default: false)
        try hp.checkFlags(["capturable", "foreach", "differentiable"])
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(momentum >= 0, "momentum", "must be ≥ 0, got \(momentum)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(alpha >= 0, "alpha", "must be ≥ 0, got \(alpha)")
        counts = shapes.map { $0.reduce(1, *) }
        let zeros = counts.map { [Scalar](repeating: 0, count: $0) }
        squareAvg = zeros
        let empty = counts.map { _ in [Scalar]() }
        gradAvg = centered ? zeros : empty
        momentumBuffer = momentum > 0 ? zeros : empty
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let a = Scalar(alpha), oneMinusA = Scalar(1 - alpha), e = Scalar(eps), wd = Scalar(weightDecay)
        let mu = Scalar(momentum), negLr = Scalar(-learningRate)
        let sign: Scalar = maximize ? -1 : 1
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { pb in
            gradients[i].values.withUnsafeBufferPointer { gb in
            squareAvg[i].withUnsafeMutableBufferPointer { vb in
            gradAvg[i].withUnsafeMutableBufferPointer { gab in
            momentumBuffer[i].withUnsafeMutableBufferPointer { bb in
                let n = pb.count
                let (p, g, v, ga, b) = (pb.baseAddress!, gb.baseAddress!, vb.baseAddress!, gab.baseAddress, bb.baseAddress)
                // Instantiated per flag combination so that each loop is branch-free and vectorises.
                @inline(__always) func update(_ decay: Bool, _ centered: Bool, _ useMomentum: Bool) {
                    for j in 0..<n {
                        var gj = sign * g[j]
                        if decay { gj = gj + wd * p[j] }
                        let vj = Self.addcmul(v[j] * a, oneMinusA * gj, gj)
                        v[j] = vj
                        var avg: Scalar
                        if centered {
                            let gaj = torchLerp(ga![j], gj, oneMinusA)
                            ga![j] = gaj
                            avg = Self.addcmul(vj, -gaj, gaj).vectorizableSquareRoot()
                        } else {
                            avg = vj.vectorizableSquareRoot()
                        }
                        avg = avg + e
                        if useMomentum {
                            let bj = b![j] * mu + gj / avg
                            b![j] = bj
                            p[j] = p[j] + negLr * bj
                        } else {
                            p[j] = p[j] + negLr * gj / avg
                        }
                    }
                }
                switch (weightDecay != 0, centered, momentum > 0) {
                case (true, true, true): update(true, true, true)
                case (true, true, false): update(true, true, false)
                case (true, false, true): update(true, false, true)
                case (true, false, false): update(true, false, false)
                case (false, true, true): update(false, true, true)
                case (false, true, false): update(false, true, false)
                case (false, false, true): update(false, false, true)
                case (false, false, false): update(false, false, false)
                }
            }}}}}
        }
    }

    /// torch's CPU `addcmul` (z + value·t1·t2), which the compiler contracts to one fused
    /// multiply-add of (value·t1)·t2 + z: fused in Double, where the reference vectors see it
    /// (centered RMSprop with a small α cancels v − ḡ² almost entirely and shows the second
    /// rounding at 1e-11); two roundings in Float, which keeps the loop vectorised.
    @inline(__always)
    static func addcmul(_ z: Scalar, _ valueTimesT1: Scalar, _ t2: Scalar) -> Scalar {
        Scalar.self == Double.self ? z.addingProduct(valueTimesT1, t2) : z + valueTimesT1 * t2
    }

    public var stateBytes: Int {
        (squareAvg + gradAvg + momentumBuffer).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, b) in squareAvg.enumerated() { s.set("square_avg.\(i)", array: b) }
        if centered { for (i, b) in gradAvg.enumerated() { s.set("grad_avg.\(i)", array: b) } }
        if momentum > 0 { for (i, b) in momentumBuffer.enumerated() { s.set("momentum_buffer.\(i)", array: b) } }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        func read(_ key: String, _ used: Bool, _ current: [[Scalar]]) throws -> [[Scalar]] {
            guard used else { return current }
            return try counts.indices.map { try state.array("\(key).\($0)", count: counts[$0]) }
        }
        let v = try read("square_avg", true, squareAvg), ga = try read("grad_avg", centered, gradAvg)
        let b = try read("momentum_buffer", momentum > 0, momentumBuffer)
        (stepCount, learningRate, squareAvg, gradAvg, momentumBuffer) = (step, lr, v, ga, b)
    }
}
