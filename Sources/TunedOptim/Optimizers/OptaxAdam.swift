import Foundation

/// `optax.adam` exactly as optax 0.2.8 computes it (x64): `scale_by_adam` then
/// `scale_by_learning_rate`, applied with `optax.apply_updates`.
///
///     m ← (1−b1)·g + b1·m;  v ← (1−b2)·g² + b2·v
///     m̂ = m/(1 − b1^t)   (nesterov: b1·m/(1 − b1^(t+1)) + (1−b1)·g/(1 − b1^t))
///     v̂ = v/(1 − b2^t);  θ ← θ + (−lr)·m̂/(√(v̂ + eps_root) + eps)
///
/// Keywords: learning_rate (required), b1=0.9, b2=0.999, eps=1e-8, eps_root=0, mu_dtype
/// (null, "float64" or the run's dtype), nesterov=false, and the spec's `name`. It differs
/// from torch's Adam in its op order (bias corrections divide the moments, eps_root).
/// This is the inner optimizer that Lookahead and SAM build with
/// `OptimizerSpec(name: "adam", library: .optax, …)`.
public struct OptaxAdam<Scalar: TunedScalar>: Optimizer {
    public let name = "adam"
    public var learningRate: Double
    public let b1: Double
    public let b2: Double
    public let eps: Double
    public let epsRoot: Double
    public let nesterov: Bool
    /// `mu_dtype = "float32"` in a Double run: b1·m is a float32 product and m is kept rounded
    /// to float32 (this step's m̂ uses the unrounded m, as optax casts after the update).
    let momentInFloat32: Bool
    /// optax.adamw's decoupled decay λ (θ ← θ + (−lr)·(m̂/(√(v̂+eps_root)+eps) + λθ)); 0 for
    /// optax.adam. Set by `Muon`, whose optax flavour sends non-matrix parameters to adamw.
    public let weightDecay: Double
    public private(set) var stepCount = 0
    var mu: [[Scalar]]
    var nu: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> { ["name", "learning_rate", "b1", "b2", "eps", "eps_root", "mu_dtype", "nesterov"] }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        guard let lr = try hp.optionalDouble("learning_rate") else {
            throw OptimizerError("\(hp.context): 'learning_rate' is required for optax.adam")
        }
        try self.init(
            hp, learningRate: lr, b1: hp.double("b1", default: 0.9), b2: hp.double("b2", default: 0.999),
            eps: hp.double("eps", default: 1e-8), epsRoot: hp.double("eps_root", default: 0),
            nesterov: hp.bool("nesterov", default: false), momentInFloat32: hp.momentInFloat32("mu_dtype", Scalar.self),
            weightDecay: 0, shapes: shapes, keys: (lr: "learning_rate", b1: "b1", b2: "b2", epsRoot: "eps_root"))
    }

    /// The checked values; `keys` name them in errors as the caller's spec spells them.
    init(
        _ hp: Hyperparameters, learningRate: Double, b1: Double, b2: Double, eps: Double, epsRoot: Double, nesterov: Bool,
        momentInFloat32: Bool, weightDecay: Double, shapes: [[Int]], keys: (lr: String, b1: String, b2: String, epsRoot: String)
    ) throws {
        (self.learningRate, self.b1, self.b2, self.eps, self.epsRoot) = (learningRate, b1, b2, eps, epsRoot)
        (self.nesterov, self.momentInFloat32, self.weightDecay) = (nesterov, momentInFloat32, weightDecay)
        try hp.require(learningRate >= 0, keys.lr, "must be ≥ 0, got \(learningRate)")
        try hp.require(b1 >= 0 && b1 < 1, keys.b1, "must be in [0, 1), got \(b1)")
        try hp.require(b2 >= 0 && b2 < 1, keys.b2, "must be in [0, 1), got \(b2)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(epsRoot >= 0, keys.epsRoot, "must be ≥ 0, got \(epsRoot)")
        counts = shapes.map { $0.reduce(1, *) }
        mu = counts.map { [Scalar](repeating: 0, count: $0) }
        nu = mu
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = Scalar(1 - pow(b1, t)), bc1Next = Scalar(1 - pow(b1, t + 1)), bc2 = Scalar(1 - pow(b2, t))
        let d1 = Scalar(b1), c1 = Scalar(1 - b1), d2 = Scalar(b2), c2 = Scalar(1 - b2)
        let e = Scalar(eps), er = Scalar(epsRoot), negLr = Scalar(-learningRate), nest = nesterov
        let f32 = momentInFloat32, b1f = Float(b1), wd = Scalar(weightDecay), decay = weightDecay != 0
        for i in params.indices {
            params[i].values.withUnsafeMutableBufferPointer { p in
            gradients[i].values.withUnsafeBufferPointer { g in
            mu[i].withUnsafeMutableBufferPointer { m in
            nu[i].withUnsafeMutableBufferPointer { v in
                for j in 0..<p.count {
                    let mj = c1 * g[j] + (f32 ? Scalar(b1f * Float(m[j])) : d1 * m[j])
                    v[j] = c2 * (g[j] * g[j]) + d2 * v[j]
                    let mHat = nest ? d1 * (mj / bc1Next) + c1 * (g[j] / bc1) : mj / bc1
                    let vHat = v[j] / bc2
                    let u = mHat / ((vHat + er).vectorizableSquareRoot() + e)
                    p[j] = p[j] + negLr * (decay ? u + wd * p[j] : u)
                    m[j] = f32 ? Scalar(Float(mj)) : mj
                }
            }}}}
        }
    }

    public var stateBytes: Int { (mu + nu).reduce(0) { $0 + $1.count } * MemoryLayout<Scalar>.size }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s.set("mu", buffers: mu)
        s.set("nu", buffers: nu)
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let m: [[Scalar]] = try state.buffers("mu", counts: counts)
        let v: [[Scalar]] = try state.buffers("nu", counts: counts)
        (stepCount, learningRate, mu, nu) = (step, lr, m, v)
    }
}
