extension OptimizerRegistry {
    /// Muon, optax's Adafactor and Lion, and the wrappers (Lookahead, SAM).
    /// Nil when `spec` names another optimizer.
    static func makeStructured<S: TunedScalar>(_ spec: OptimizerSpec, shapes: [[Int]]) throws -> (any Optimizer<S>)? {
        nil
    }
}
