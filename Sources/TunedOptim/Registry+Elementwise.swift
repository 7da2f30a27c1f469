extension OptimizerRegistry {
    /// The element-wise optimizers: SGD (and its `momentum`/`nesterov` aliases), Adagrad,
    /// RMSprop, Adam(W), NAdam, RAdam, torch's Adafactor, Lion, Tiger, LARS, LAMB,
    /// schedule-free AdamW and SGD (`schedulefree`), Adam-mini (`adam_mini`); with
    /// lion_pytorch's Lion; and optax's `lion`, `sgd` and `adam` (the inner optimizers of
    /// Lookahead and SAM). Nil when `spec` names another optimizer.
    static func makeElementwise<S: TunedScalar>(_ spec: OptimizerSpec, shapes: [[Int]]) throws -> (any Optimizer<S>)? {
        let hp = spec.hyperparameters
        switch (spec.library, spec.name) {
        case (.torch, "sgd"): return try SGD<S>(hp, shapes: shapes)
        case (.torch, "momentum"):
            return Aliased(name: "momentum", try SGD<S>(hp.withDefaults(["momentum": .number(0.9)]), shapes: shapes))
        case (.torch, "nesterov"):
            let defaults: [String: JSONValue] = ["momentum": .number(0.9), "nesterov": .bool(true)]
            return Aliased(name: "nesterov", try SGD<S>(hp.withDefaults(defaults), shapes: shapes))
        case (.torch, "adagrad"): return try Adagrad<S>(hp, shapes: shapes)
        case (.torch, "rmsprop"): return try RMSprop<S>(hp, shapes: shapes)
        case (.torch, "adam"): return try Adam<S>(hp, shapes: shapes)
        case (.torch, "adamw"): return try Adam<S>(hp, shapes: shapes, adamW: true)
        case (.torch, "nadam"): return try NAdam<S>(hp, shapes: shapes)
        case (.torch, "radam"): return try RAdam<S>(hp, shapes: shapes)
        case (.torch, "adafactor"): return try Adafactor<S>(hp, shapes: shapes)
        case (.torch, "lion"), (.lionPytorch, "lion"): return try Lion<S>(hp, shapes: shapes)
        case (.torch, "tiger"): return try Tiger<S>(hp, shapes: shapes)
        case (.torch, "lars"): return try LARS<S>(hp, shapes: shapes)
        case (.torch, "lamb"): return try LAMB<S>(hp, shapes: shapes)
        case (.torch, "adamw_schedulefree"), (.schedulefree, "adamw_schedulefree"):
            return try ScheduleFree<S>(hp, shapes: shapes, kind: .adamw)
        case (.torch, "sgd_schedulefree"), (.schedulefree, "sgd_schedulefree"):
            return try ScheduleFree<S>(hp, shapes: shapes, kind: .sgd)
        case (.torch, "adam_mini"), (.adamMini, "adam_mini"): return try AdamMini<S>(hp, shapes: shapes)
        case (.optax, "lion"):
            try hp.checkOptaxName("lion")
            return try Lion<S>(hp, shapes: shapes, library: .optax)
        case (.optax, "sgd"):
            try hp.checkOptaxName("sgd")
            return try makeOptaxSGD(hp, shapes: shapes) as SGD<S>
        case (.optax, "adam"):
            try hp.checkOptaxName("adam")
            return try OptaxAdam<S>(hp, shapes: shapes)
        default: return nil
        }
    }

    /// `optax.sgd(learning_rate, momentum=None, nesterov=False, accumulator_dtype=None)` as
    /// torch's SGD: optax's trace `t ← g + μt` from t = 0 gives `t = g` on step 1, then
    /// `μt + g`, which is torch's buffer with dampening 0; Nesterov is `g + μt` in both, and
    /// the update `p + (−lr)·d` is the same expression. Without momentum optax keeps no trace.
    static func makeOptaxSGD<S: TunedScalar>(_ hp: Hyperparameters, shapes: [[Int]]) throws -> SGD<S> {
        try hp.checkNoUnknownKeys(["name", "learning_rate", "momentum", "nesterov", "accumulator_dtype"])
        guard let lr = try hp.optionalDouble("learning_rate") else {
            throw OptimizerError("\(hp.context): 'learning_rate' is required for optax.sgd")
        }
        let momentum = try hp.optionalDouble("momentum") ?? 0
        let nesterov = try hp.bool("nesterov", default: false) && momentum != 0
        try hp.checkDType("accumulator_dtype", S.self)
        try hp.require(lr >= 0, "learning_rate", "must be ≥ 0, got \(lr)")
        try hp.require(momentum >= 0, "momentum", "must be null or ≥ 0, got \(momentum)")
        let torch = Hyperparameters(
            ["lr": .number(lr), "momentum": .number(momentum), "nesterov": .bool(nesterov)], context: hp.context)
        return try SGD<S>(torch, shapes: shapes)
    }
}

extension Hyperparameters {
    /// These hyperparameters with `defaults` filled in where a key is absent or null.
    func withDefaults(_ defaults: [String: JSONValue]) -> Hyperparameters {
        var out = self
        for (k, v) in defaults where out.values[k] == nil || out.values[k] == .null { out.values[k] = v }
        return out
    }

    /// An optax spec's `name` key, when present, must be `optax.<short>`.
    func checkOptaxName(_ short: String) throws {
        guard let name = try string("name", default: nil) else { return }
        try require(name == "optax.\(short)", "name", "is '\(name)' but the optimizer is optax.\(short)")
    }

    /// An optax dtype keyword (`mu_dtype`, `accumulator_dtype`): null, "float64", or the
    /// dtype the optimizer runs in. State is kept in the run's scalar type.
    func checkDType<S: TunedScalar>(_ key: String, _: S.Type) throws {
        guard let d = try string(key, default: nil) else { return }
        let allowed = S.self == Float.self ? "null, \"float32\" or \"float64\"" : "null or \"float64\""
        try require(d == "float64" || (S.self == Float.self && d == "float32"), key, "must be \(allowed), got '\(d)'")
    }

    /// An optax moment dtype that may also be "float32" in a Double run (the buffer is then
    /// kept rounded to float32): true exactly in that case.
    func momentInFloat32<S: TunedScalar>(_ key: String, _: S.Type) throws -> Bool {
        guard let d = try string(key, default: nil) else { return false }
        try require(d == "float64" || d == "float32", key, "must be null, \"float32\" or \"float64\", got '\(d)'")
        return d == "float32" && S.self == Double.self
    }

    /// `betas` (or another pair) with both entries in [0, 1), torch's check.
    func betas(_ key: String = "betas", default value: [Double]) throws -> (Double, Double) {
        let b = try doubles(key, count: 2, default: value)
        for (i, x) in b.enumerated() {
            try require(x >= 0 && x < 1, key, "[\(i)] must be in [0, 1), got \(x)")
        }
        return (b[0], b[1])
    }

    /// Reads torch's flags that do not change the arithmetic (foreach, fused, …), so a
    /// wrongly typed one is still an error.
    func checkFlags(_ keys: [String]) throws {
        for k in keys { _ = try bool(k, default: false) }
    }
}

/// An optimizer registered under another name (`momentum` and `nesterov` are SGD).
struct Aliased<Base: Optimizer>: Optimizer {
    typealias Scalar = Base.Scalar
    let name: String
    var base: Base

    init(name: String, _ base: Base) {
        self.name = name
        self.base = base
    }

    var learningRate: Double {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }
    var stepCount: Int { base.stepCount }
    var stateBytes: Int { base.stateBytes }
    var hasEvaluationParameters: Bool { base.hasEvaluationParameters }
    mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) { base.enterEvalMode(&params) }
    mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) { base.enterTrainMode(&params) }
    mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        base.step(&params, gradients: gradients)
    }
    func saveState() -> StateDict { base.saveState() }
    mutating func restoreState(_ state: StateDict) throws { try base.restoreState(state) }
}

// MARK: - Element-wise kernels shared by the optimizers, in torch's operation order

/// `torch.lerp(a, b, w)` as torch's CPU kernel computes it: `a + w·(b − a)` when |w| < 0.5,
/// else `b + (w − 1)·(b − a)`, each as one fused multiply-add (the vectorised kernel's
/// `fmadd`). A weight of 1 therefore returns `b` exactly.
@inline(__always)
func torchLerp<S: TunedScalar>(_ a: S, _ b: S, _ w: S) -> S {
    let d = b - a
    // Double (the reference precision) fuses as torch's vectorised kernel does. Float
    // rounds twice (≤ 1 ulp apart): without hardware FMA in the baseline target a fused
    // Float multiply-add is a libm call per element, which keeps the loop from vectorising.
    if S.self == Double.self {
        return abs(w) < 0.5 ? a.addingProduct(w, d) : b.addingProduct(w - 1, d)
    }
    return abs(w) < 0.5 ? a + w * d : b + (w - 1) * d
}

/// torch.sign / jnp.sign: −1, 0 or 1, NaN for NaN.
@inline(__always)
func signum<S: TunedScalar>(_ x: S) -> S {
    x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
}

/// `torch.maximum(a, b)`, which propagates NaN.
@inline(__always)
func nanMaximum<S: TunedScalar>(_ a: S, _ b: S) -> S {
    a.isNaN || a > b ? a : b
}

/// Euclidean norm, accumulated in Double and rounded to the scalar type once (as torch's
/// `.norm().item()` returns a value of the tensor's dtype).
@inline(__always)
func euclideanNorm<S: TunedScalar>(_ x: UnsafeBufferPointer<S>) -> Double {
    var s = 0.0
    for v in x {
        let d = v.double
        s += d * d
    }
    return S(s.squareRoot()).double
}
