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
///     adaptive: O ← ⟨m̂, O⟩·O;  ns_coeffs may name a preset ("standard", "dion")
///     mu_dtype "float32" (in a Double run): β·m is a float32 product and m is stored
///       rounded to float32, as jax does with a float32 buffer
///
/// Non-2-D parameters: torch refuses them (an error at construction); optax sends them to
/// `optax.adamw(adam_learning_rate ?? learning_rate, adam_b1, adam_b2, eps, adam_eps_root,
/// adam_weight_decay, mu_dtype, nesterov)`, and so does this (an `OptaxAdam` with the
/// decoupled decay for those parameters).
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
    /// nil for a parameter that is not a matrix (optax: updated by its AdamW).
    let shapes: [(rows: Int, cols: Int)?]
    /// Muon's momentum of each matrix (empty for the other parameters).
    var buffers: [[Scalar]]
    let adaptive: Bool
    /// optax `mu_dtype = "float32"` in a Double run.
    let momentInFloat32: Bool
    /// optax: the AdamW of the non-matrix parameters (at `adamIndices`), and its fixed
    /// `adam_learning_rate` (nil: it follows `learningRate`, schedules included).
    var adam: OptaxAdam<Scalar>?
    let adamIndices: [Int]
    let adamLearningRate: Double?

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
        buffers = shapes.map { [Scalar](repeating: 0, count: $0.reduce(1, *)) }
        adaptive = false
        momentInFloat32 = false
        (adam, adamIndices, adamLearningRate) = (nil, [], nil)
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
        adaptive = try hp.bool("adaptive", default: false)
        momentInFloat32 = try hp.momentInFloat32("mu_dtype", Scalar.self)
        for key in ["muon_weight_dimension_numbers", "weight_decay_mask"] where !(hp.values[key]?.isNull ?? true) {
            throw OptimizerError("\(hp.context): '\(key)' is not implemented; leave it null")
        }
        adamIndices = shapes.indices.filter { shapes[$0].count != 2 }
        adamLearningRate = try hp.optionalDouble("adam_learning_rate")
        adam = try OptaxAdam<Scalar>(
            hp, learningRate: adamLearningRate ?? lr, b1: hp.double("adam_b1", default: 0.9),
            b2: hp.double("adam_b2", default: 0.999), eps: eps, epsRoot: hp.double("adam_eps_root", default: 0),
            nesterov: nesterov, momentInFloat32: momentInFloat32, weightDecay: hp.double("adam_weight_decay", default: 0),
            shapes: adamIndices.map { shapes[$0] },
            keys: (lr: "adam_learning_rate", b1: "adam_b1", b2: "adam_b2", epsRoot: "adam_eps_root"))
        let normalization: NewtonSchulz.Normalization
        switch try hp.string("preconditioning", default: nil) ?? "frobenius" {
        case "frobenius": normalization = .epsilonAdded
        case "spectral": normalization = .spectral
        case "aol": normalization = .aol
        case "schatten": normalization = .schatten
        case let p:
            throw OptimizerError("\(hp.context): 'preconditioning' must be \"frobenius\", \"spectral\", \"aol\" or \"schatten\", got \"\(p)\"")
        }
        try hp.require((0..<100).contains(steps), "ns_steps", "must be in 0..<100, got \(steps)")
        let coefficients = try Self.optaxCoefficients(hp, steps: steps)
        // optax orthogonalises in the parameter dtype.
        let precision: NewtonSchulz.Precision = Scalar.self == Float.self ? .float32 : .float64
        newtonSchulz = NewtonSchulz(coefficients: coefficients, eps: eps, normalization: normalization, precision: precision)
        self.shapes = shapes.map { $0.count == 2 ? ($0[0], $0[1]) : nil }
        buffers = shapes.map { [Scalar](repeating: 0, count: $0.count == 2 ? $0.reduce(1, *) : 0) }
    }

    /// optax's named `ns_coeffs` presets.
    static var optaxPresets: [String: [(Double, Double, Double)]] { [
        "standard": [(3.4445, -4.7750, 2.0315)],
        "dion": [
            (4.0848, -6.8946, 2.9270), (3.9505, -6.3029, 2.6377), (3.7418, -5.5913, 2.3037),
            (2.8769, -3.1427, 1.2046), (2.8366, -3.0525, 1.2012),
        ],
    ] }

    /// `ns_coeffs`: one (a, b, c) triple used `ns_steps` times, a list of triples, one per
    /// iteration (then `ns_steps` is ignored, as in optax), or a preset's name.
    static func optaxCoefficients(_ hp: Hyperparameters, steps: Int) throws -> [(Double, Double, Double)] {
        let bad = OptimizerError(
            "\(hp.context): 'ns_coeffs' must be [a, b, c], a list of [a, b, c] triples or a preset (\(optaxPresets.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
        guard let value = hp.values["ns_coeffs"], !value.isNull else {
            return Array(repeating: (3.4445, -4.775, 2.0315), count: steps)
        }
        if let name = value.stringValue {
            guard let rows = optaxPresets[name] else { throw bad }
            return rows.count == 1 ? Array(repeating: rows[0], count: steps) : rows
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
        if var adam, !adamIndices.isEmpty {
            adam.learningRate = adamLearningRate ?? learningRate
            var sub = adamIndices.map { params[$0] }
            adam.step(&sub, gradients: adamIndices.map { gradients[$0] })
            for (k, i) in adamIndices.enumerated() { params[i] = sub[k] }
            self.adam = adam
        }
        for i in params.indices {
            guard let (rows, cols) = shapes[i] else { continue }
            let u = flavor == .torch ? torchMomentum(i, gradients[i].values) : optaxMomentum(i, gradients[i].values)
            var o = newtonSchulz.orthogonalize(u, rows: rows, cols: cols)
            if adaptive {
                // optax: jnp.sum(m̂ · O) · O
                var dot = Scalar(0)
                for j in 0..<o.count { dot += u[j] * Scalar(o[j]) }
                for j in 0..<o.count { o[j] = Double(dot * Scalar(o[j])) }
            }
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
        let f32 = momentInFloat32, beta32 = Float(momentum)
        var out = g
        buffers[i].withUnsafeMutableBufferPointer { m in
            for j in 0..<m.count {
                let mj = oneMinus * g[j] + (f32 ? Scalar(beta32 * Float(m[j])) : beta * m[j])
                out[j] = nesterov ? beta * (mj / bcNext) + oneMinus * (g[j] / bc) : mj / bc
                m[j] = f32 ? Scalar(Float(mj)) : mj
            }
        }
        return out
    }

    public var stateBytes: Int { buffers.reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size + (adam?.stateBytes ?? 0) }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        for (i, b) in buffers.enumerated() { s.set("momentum_buffer.\(i)", array: b) }
        if let adam, !adamIndices.isEmpty { s.merge(adam.saveState(), prefix: "adam.") }
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        stepCount = try state.int("step")
        learningRate = try state.double("lr")
        for i in buffers.indices { buffers[i] = try state.array("momentum_buffer.\(i)", count: buffers[i].count) }
        if adam != nil, !adamIndices.isEmpty { try adam!.restoreState(state.extract(prefix: "adam.")) }
    }
}
