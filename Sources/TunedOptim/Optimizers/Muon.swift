import Foundation

/// Muon: momentum orthogonalised by Newton–Schulz, for 2-D parameters only.
///
/// torch 2.15 `torch.optim.Muon` (`_single_tensor_muon`), library `torch`:
///
///     B ← lerp(B, g, 1−μ)                    (an EMA: μB + (1−μ)g)
///     U = lerp(g, B, μ) if nesterov else B
///     O = NS(U)                              (X / max(‖X‖_F, ε), see `NewtonSchulz`)
///     θ ← θ·(1 − lr·λ);  θ ← θ − lr·s·O      (decay uses the unadjusted lr)
///     s = √max(1, rows/cols) (nil, "original") | 0.2·√max(rows, cols) ("match_rms_adamw")
///       | √(rows/cols) ("spectral_unclamped")
///
/// torch 2.15 forms B = b·A + c·(A·A) and a·X + B·X as `addmm`s, each rounded once in
/// bfloat16 (the stock vectors match only this; `use_addmm: false` rounds every operation).
/// `ns_dtype` (ours) picks the Newton–Schulz precision: "bfloat16" (default: stock torch,
/// emulated; ≤ 1e-9 absolute from its vectors), "float64" (torch with the cast patched out:
/// 1e-12 relative) or "float32".
///
/// optax 0.2.8 `optax.contrib.muon`, library `optax` (spec name "optax.contrib.muon"):
///
///     m ← (1−β)g + βm;  m̂ = β·m/(1−β^{t+1}) + (1−β)·g/(1−β^t) (nesterov) | m/(1−β^t)
///     O = NS(m̂) with X / (‖X‖_F + ε), in the parameter dtype (Float or Double)
///     s = √max(1, cols/rows) (the parameter is [fan_in, fan_out]) | r·√max(rows, cols)
///       (consistent_rms = r)
///     θ ← θ + (−lr)·(s·O + λθ)
///
/// Non-2-D parameters are an error at construction (the references send them to AdamW).
public struct Muon<Scalar: TunedScalar>: Optimizer {
    public enum Flavor: Sendable { case torch, optax }

    public let name = "muon"
    public let flavor: Flavor
    public var learningRate: Double
    public let weightDecay: Double
    /// torch `momentum` / optax `beta`.
    public let momentum: Double
    public let nesterov: Bool
    public let adjustLR: String?
    public let consistentRMS: Double?
    public private(set) var stepCount = 0
    let newtonSchulz: NewtonSchulz
    let shapes: [(rows: Int, cols: Int)]
    var buffers: [[Scalar]]

    public static var torchKeywords: Set<String> {
        ["lr", "weight_decay", "momentum", "nesterov", "ns_coefficients", "eps", "ns_steps", "adjust_lr_fn", "use_addmm", "ns_dtype"]
    }
    public static var optaxKeywords: Set<String> {
        ["name", "learning_rate", "ns_coeffs", "ns_steps", "beta", "eps", "weight_decay", "weight_decay_mask", "mu_dtype",
         "nesterov", "adaptive", "preconditioning", "adam_b1", "adam_b2", "adam_eps_root", "adam_weight_decay",
         "adam_learning_rate", "muon_weight_dimension_numbers", "consistent_rms"]
    }

    /// torch.optim.Muon.
    public init(torch hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.torchKeywords)
        flavor = .torch
        learningRate = try hp.double("lr", default: 1e-3)
        weightDecay = try hp.double("weight_decay", default: 0.1)
        momentum = try hp.double("momentum", default: 0.95)
        nesterov = try hp.bool("nesterov", default: true)
        let abc = try hp.doubles("ns_coefficients", count: 3, default: [3.4445, -4.775, 2.0315])
        let eps = try hp.double("eps", default: 1e-7)
        let steps = try hp.int("ns_steps", default: 5)
        adjustLR = try hp.string("adjust_lr_fn", default: nil)
        let fused = try hp.bool("use_addmm", default: true)
        let dtype = try hp.string("ns_dtype", default: "bfloat16") ?? "bfloat16"
        consistentRMS = nil
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(momentum >= 0, "momentum", "must be ≥ 0, got \(momentum)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require((0..<100).contains(steps), "ns_steps", "must be in 0..<100, got \(steps)")
        try hp.require(abc.allSatisfy(\.isFinite), "ns_coefficients", "must be three finite numbers")
        try hp.require(adjustLR == nil || ["original", "match_rms_adamw", "spectral_unclamped"].contains(adjustLR!),
                       "adjust_lr_fn", "must be null, \"original\", \"match_rms_adamw\" or \"spectral_unclamped\", got \"\(adjustLR ?? "")\"")
        guard let precision = NewtonSchulz.Precision(rawValue: dtype) else {
            throw OptimizerError("\(hp.context): 'ns_dtype' must be \"bfloat16\", \"float32\" or \"float64\", got \"\(dtype)\"")
        }
        newtonSchulz = NewtonSchulz(coefficients: Array(repeating: (abc[0], abc[1], abc[2]), count: steps),
                                    eps: eps, normalization: .clamped, precision: precision, fused: fused)
        self.shapes = try Self.matrixShapes(shapes, context: hp.context)
        buffers = self.shapes.map { [Scalar](repeating: 0, count: $0.rows * $0.cols) }
    }

    /// optax.contrib.muon.
    public init(optax hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.optaxKeywords)
        flavor = .optax
        guard let lr = try hp.optionalDouble("learning_rate") else {
            throw OptimizerError("\(hp.context): 'learning_rate' is required for optax.contrib.muon")
        }
        learningRate = lr
        weightDecay = try hp.double("weight_decay", default: 0)
        momentum = try hp.double("beta", default: 0.95)
        nesterov = try hp.bool("nesterov", default: true)
        let eps = try hp.double("eps", default: 1e-8)
        let steps = try hp.int("ns_steps", default: 5)
        consistentRMS = try hp.optionalDouble("consistent_rms")
        adjustLR = nil
        if try hp.bool("adaptive", default: false) {
            throw OptimizerError("\(hp.context): 'adaptive' = true is not implemented; use adaptive = false")
        }
        for key in ["muon_weight_dimension_numbers", "weight_decay_mask", "mu_dtype"] where !(hp.values[key]?.isNull ?? true) {
            throw OptimizerError("\(hp.context): '\(key)' is not implemented; leave it null")
        }
        if let p = try hp.string("preconditioning", default: nil), p != "frobenius" {
            throw OptimizerError("\(hp.context): 'preconditioning' = \"\(p)\" is not implemented; use \"frobenius\"")
        }
        try hp.require((0..<100).contains(steps), "ns_steps", "must be in 0..<100, got \(steps)")
        let coefficients = try Self.optaxCoefficients(hp, steps: steps)
        // optax orthogonalises in the parameter dtype.
        let precision: NewtonSchulz.Precision = Scalar.self == Float.self ? .float32 : .float64
        newtonSchulz = NewtonSchulz(coefficients: coefficients, eps: eps, normalization: .epsilonAdded, precision: precision)
        self.shapes = try Self.matrixShapes(shapes, context: hp.context)
        buffers = self.shapes.map { [Scalar](repeating: 0, count: $0.rows * $0.cols) }
    }

    /// `ns_coeffs`: one (a, b, c) triple used `ns_steps` times, or a list of triples, one per
    /// iteration (then `ns_steps` is ignored, as in optax).
    static func optaxCoefficients(_ hp: Hyperparameters, steps: Int) throws -> [(Double, Double, Double)] {
        let bad = OptimizerError("\(hp.context): 'ns_coeffs' must be [a, b, c] or a list of [a, b, c] triples")
        guard let value = hp.values["ns_coeffs"], !value.isNull else {
            return Array(repeating: (3.4445, -4.775, 2.0315), count: steps)
        }
        guard let list = value.arrayValue, !list.isEmpty else { throw bad }
        if let abc = value.doublesValue {
            guard abc.count == 3 else { throw bad }
            return Array(repeating: (abc[0], abc[1], abc[2]), count: steps)
        }
        return try list.map { row in
            guard let abc = row.doublesValue, abc.count == 3 else { throw bad }
            return (abc[0], abc[1], abc[2])
        }
    }

    static func matrixShapes(_ shapes: [[Int]], context: String) throws -> [(rows: Int, cols: Int)] {
        try shapes.enumerated().map { i, shape in
            guard shape.count == 2 else {
                throw OptimizerError(
                    "\(context): Muon updates 2-D matrices only, but parameter \(i) has shape \(shape); "
                        + "optimise vectors, biases, gains and other non-matrix tensors with AdamW (\"adamw\")")
            }
            return (shape[0], shape[1])
        }
    }

    /// The factor on lr·O for a rows×cols parameter.
    func shapeScale(rows: Int, cols: Int) -> Double {
        let a = Double(rows), b = Double(cols)
        switch flavor {
        case .torch:
            switch adjustLR {
            case "match_rms_adamw": return 0.2 * max(a, b).vectorizableSquareRoot()
            case "spectral_unclamped": return (a / b).vectorizableSquareRoot()
            default: return max(1, a / b).vectorizableSquareRoot()
            }
        case .optax:
            if let r = consistentRMS { return max(a, b).vectorizableSquareRoot() * r }
            return max(1, b / a).vectorizableSquareRoot()
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        for i in params.indices {
            let (rows, cols) = shapes[i]
            let u = flavor == .torch ? torchMomentum(i, gradients[i].values) : optaxMomentum(i, gradients[i].values)
            let o = newtonSchulz.orthogonalize(u, rows: rows, cols: cols)
            let s = shapeScale(rows: rows, cols: cols)
            params[i].values.withUnsafeMutableBufferPointer { p in
                switch flavor {
                case .torch:
                    let decay = Scalar(1 - learningRate * weightDecay)
                    let alpha = Scalar(-(learningRate * s))
                    for j in 0..<p.count {
                        p[j] = p[j] * decay
                        p[j] = p[j] + alpha * Scalar(o[j])
                    }
                case .optax:
                    let scale = Scalar(s), wd = Scalar(weightDecay), minusLR = Scalar(-learningRate)
                    for j in 0..<p.count {
                        let u = scale * Scalar(o[j]) + wd * p[j]
                        p[j] = p[j] + minusLR * u
                    }
                }
            }
        }
    }

    /// torch: `buf.lerp_(g, 1−μ)`, then `g.lerp(buf, μ)` (nesterov) or `buf`, with torch's
    /// lerp: `w < 0.5 ? a + w(b−a) : b − (b−a)(1−w)`.
    private mutating func torchMomentum(_ i: Int, _ g: [Scalar]) -> [Scalar] {
        let w1 = 1 - momentum, w2 = momentum
        var out = g
        buffers[i].withUnsafeMutableBufferPointer { b in
            for j in 0..<b.count {
                b[j] = Self.lerp(b[j], g[j], w1)
                if nesterov { out[j] = Self.lerp(g[j], b[j], w2) }
            }
        }
        return nesterov ? out : buffers[i]
    }

    @inline(__always)
    static func lerp(_ a: Scalar, _ b: Scalar, _ w: Double) -> Scalar {
        abs(w) < 0.5 ? a + Scalar(w) * (b - a) : b - (b - a) * Scalar(1 - w)
    }

    /// optax: `update_moment` then the bias-corrected (Nesterov) estimate.
    private mutating func optaxMomentum(_ i: Int, _ g: [Scalar]) -> [Scalar] {
        let beta = Scalar(momentum), oneMinus = Scalar(1 - momentum)
        let t = Double(stepCount)
        let bc = Scalar(1 - Foundation.pow(momentum, t)), bcNext = Scalar(1 - Foundation.pow(momentum, t + 1))
        var out = g
        buffers[i].withUnsafeMutableBufferPointer { m in
            for j in 0..<m.count {
                m[j] = oneMinus * g[j] + beta * m[j]
                out[j] = nesterov ? beta * (m[j] / bcNext) + oneMinus * (g[j] / bc) : m[j] / bc
            }
        }
        return out
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
        for i in buffers.indices { buffers[i] = try state.array("momentum_buffer.\(i)", count: buffers[i].count) }
    }
}
