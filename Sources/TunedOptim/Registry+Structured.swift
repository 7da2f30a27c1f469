extension OptimizerRegistry {
    /// Muon, optax's Adafactor, the wrappers (Lookahead, SAM, hypergradient descent, a
    /// learning-rate schedule) and the hypergradient optimizers. Nil when `spec` names
    /// another optimizer.
    ///
    /// Names: torch `muon`, `lookahead`, `sam`, `sgd_hd`, `sgdn_hd`, `adam_hd`,
    /// `hypergradient` (`{"optimizer": {...}, "hypergrad_lr": …}`), `scheduled`
    /// (`{"optimizer": {...}, "schedule": {...}}`); optax `muon`, `adafactor`, `lookahead`,
    /// `sam` (spec names `optax.contrib.muon`, `optax.adafactor`, `optax.lookahead`,
    /// `optax.contrib.sam`).
    static func makeStructured<S: TunedScalar>(_ spec: OptimizerSpec, shapes: [[Int]]) throws -> (any Optimizer<S>)? {
        let hp = spec.hyperparameters
        switch (spec.library, spec.name) {
        case (.torch, "muon"): return try Muon<S>(torch: hp, shapes: shapes)
        case (.optax, "muon"):
            try hp.requireOptaxName("optax.contrib.muon")
            return try Muon<S>(optax: hp, shapes: shapes)
        case (.optax, "adafactor"):
            try hp.requireOptaxName("optax.adafactor")
            return try OptaxAdafactor<S>(hp, shapes: shapes)
        case (.optax, "lookahead"):
            try hp.requireOptaxName("optax.lookahead")
            return try Lookahead<S>(hp, library: .optax, shapes: shapes)
        case (.torch, "lookahead"): return try Lookahead<S>(hp, library: .torch, shapes: shapes)
        case (.optax, "sam"):
            try hp.requireOptaxName("optax.contrib.sam")
            return try SAM<S>(optax: hp, shapes: shapes)
        case (.torch, "sam"): return try SAM<S>(torch: hp, shapes: shapes)
        case (.torch, "sgd_hd"): return try SGDHD<S>(hp, shapes: shapes)
        case (.torch, "sgdn_hd"): return try SGDHD<S>(hp, shapes: shapes, nesterovDefault: true)
        case (.torch, "adam_hd"): return try AdamHD<S>(hp, shapes: shapes)
        case (.torch, "hypergradient"): return try Hypergradient<S>(hp, shapes: shapes)
        case (.torch, "scheduled"): return try Scheduled<S>(hp, shapes: shapes)
        default: return nil
        }
    }
}

extension OptimizerSpec {
    /// The optimizer spec nested under `key` of a wrapper's hyperparameters.
    ///
    /// optax: the nested object is an optax spec, `{"name": "optax.sgd", "learning_rate": …}`;
    /// the short name ("sgd") selects the optimizer and the object, `name` included, is its
    /// hyperparameters. torch: `{"name": "adam", "lr": …}` (optionally `"library":
    /// "lion_pytorch"`); the other keys are the optimizer's keywords.
    public static func nested(_ hp: Hyperparameters, _ key: String, library: OptimizerLibrary) throws -> OptimizerSpec {
        guard let inner = try hp.nested(key) else {
            throw OptimizerError("\(hp.context): '\(key)' is required: an object naming the wrapped optimizer")
        }
        guard let fullName = try inner.string("name", default: nil) else {
            throw OptimizerError("\(inner.context): 'name' is required (the wrapped optimizer, e.g. \"adam\")")
        }
        if library == .optax {
            let short = fullName.split(separator: ".").last.map(String.init) ?? fullName
            return OptimizerSpec(name: short, library: .optax, hyperparameters: inner)
        }
        var values = inner.values
        values["name"] = nil
        var lib = library
        if let l = try inner.string("library", default: nil) {
            guard let parsed = OptimizerLibrary(rawValue: l) else {
                throw OptimizerError("\(inner.context): unknown 'library' '\(l)' (expected torch, lion_pytorch, optax, schedulefree or adam_mini)")
            }
            lib = parsed
            values["library"] = nil
        }
        return OptimizerSpec(name: fullName, library: lib, hyperparameters: Hyperparameters(values, context: inner.context))
    }
}

extension Hyperparameters {
    /// An optax spec's `name`, when present, must be `expected`.
    func requireOptaxName(_ expected: String) throws {
        guard let name = try string("name", default: nil) else { return }
        try require(name == expected, "name", "is '\(name)' but the optimizer is \(expected)")
    }
}
