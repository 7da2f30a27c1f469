import Foundation

/// Adam with hypergradient descent on the learning rate: a port of `AdamHD` from
/// gbaydin/hypergradient-descent (`hypergrad/adam_hd.py`), registered as torch "adam_hd".
/// The reference's Adam form, per parameter tensor in order, t its step:
///
///     g = ∇f + λθ
///     t > 1: h = g·[m/(√v + ε)] · √(1−β2^{t−1}) / (1−β1^{t−1})     (previous m, v)
///            lr ← clamp(lr + β_h·h, lr_min, lr_max)
///     m ← β1m + (1−β1)g;  v ← β2v + (1−β2)g²
///     θ ← θ − (lr·√(1−β2^t)/(1−β1^t)) · m/(√v + ε)
///
/// As in the reference the learning rate is one number updated once per parameter tensor
/// (so with several tensors later ones see the rate their predecessors moved).
/// Keywords: lr (1e-3), betas ((0.9, 0.999)), eps (1e-8), weight_decay (0), hypergrad_lr
/// (β_h, 1e-8 as the reference), lr_min, lr_max (`LearningRateBounds`). The clamp and the
/// non-finite-h rule are ours.
public struct AdamHD<Scalar: TunedScalar>: Optimizer {
    public let name = "adam_hd"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let hypergradLR: Double
    public let bounds: LearningRateBounds
    public private(set) var stepCount = 0
    public private(set) var lastHypergradient = 0.0
    public private(set) var nonFiniteHypergradients = 0
    var m: [[Scalar]]
    var v: [[Scalar]]

    public static var keywords: Set<String> { ["lr", "betas", "eps", "weight_decay", "hypergrad_lr", "lr_min", "lr_max"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        let betas = try hp.doubles("betas", count: 2, default: [0.9, 0.999])
        (beta1, beta2) = (betas[0], betas[1])
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: 0)
        hypergradLR = try hp.double("hypergrad_lr", default: 1e-8)
        try hp.require(learningRate >= 0 && learningRate.isFinite, "lr", "must be a finite number ≥ 0, got \(learningRate)")
        try hp.require(betas.allSatisfy { $0 >= 0 && $0 < 1 }, "betas", "must be two numbers in [0, 1), got \(betas)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(hypergradLR >= 0 && hypergradLR.isFinite, "hypergrad_lr", "must be a finite number ≥ 0, got \(hypergradLR)")
        bounds = try LearningRateBounds(hp, initial: learningRate)
        learningRate = bounds.clamp(learningRate)
        m = shapes.map { [Scalar](repeating: 0, count: $0.reduce(1, *)) }
        v = m
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let b1 = Scalar(beta1), b2 = Scalar(beta2), oneMinusB1 = Scalar(1 - beta1), oneMinusB2 = Scalar(1 - beta2)
        let epsS = Scalar(eps), wd = Scalar(weightDecay)
        let bc1 = 1 - Foundation.pow(beta1, t), bc2 = 1 - Foundation.pow(beta2, t)
        for i in params.indices {
            let grad = gradients[i].values
            params[i].values.withUnsafeMutableBufferPointer { p in
                m[i].withUnsafeMutableBufferPointer { m in
                    v[i].withUnsafeMutableBufferPointer { v in
                        if stepCount > 1 {
                            var dot = 0.0
                            for j in 0..<p.count {
                                let g = weightDecay != 0 ? grad[j] + wd * p[j] : grad[j]
                                dot += Double(g) * Double(m[j] / (v[j].vectorizableSquareRoot() + epsS))
                            }
                            let prevBC1 = 1 - Foundation.pow(beta1, t - 1), prevBC2 = 1 - Foundation.pow(beta2, t - 1)
                            let h = dot * prevBC2.vectorizableSquareRoot() / prevBC1
                            (learningRate, lastHypergradient) = bounds.update(
                                learningRate, hypergradLR: hypergradLR, h: h, nonFinite: &nonFiniteHypergradients)
                        }
                        let minusStep = Scalar(-(learningRate * bc2.vectorizableSquareRoot() / bc1))
                        for j in 0..<p.count {
                            let g = weightDecay != 0 ? grad[j] + wd * p[j] : grad[j]
                            m[j] = m[j] * b1 + oneMinusB1 * g
                            v[j] = v[j] * b2 + oneMinusB2 * g * g
                            p[j] = p[j] + minusStep * m[j] / (v[j].vectorizableSquareRoot() + epsS)
                        }
                    }
                }
            }
        }
    }

    public var stateBytes: Int { (m.reduce(0) { $0 + $1.count } + v.reduce(0) { $0 + $1.count }) * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s["hypergradient"] = .double(lastHypergradient)
        s["non_finite_hypergradients"] = .int(nonFiniteHypergradients)
        for i in m.indices {
            s.set("exp_avg.\(i)", array: m[i])
            s.set("exp_avg_sq.\(i)", array: v[i])
        }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        lastHypergradient = try state.double("hypergradient")
        nonFiniteHypergradients = try state.int("non_finite_hypergradients")
        for i in m.indices {
            m[i] = try state.array("exp_avg.\(i)", count: m[i].count)
            v[i] = try state.array("exp_avg_sq.\(i)", count: v[i].count)
        }
    }
}
