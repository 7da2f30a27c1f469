/// Whose semantics, keyword names and defaults a specification uses.
public enum OptimizerLibrary: String, Sendable, CaseIterable {
    /// torch.optim (and the project's own optimizers, which take torch-style keywords).
    case torch
    /// lucidrains/lion-pytorch.
    case lionPytorch = "lion_pytorch"
    /// optax: hyperparameters are a spec `{"name": "optax.x", kwarg: value, …}`.
    case optax
    /// facebookresearch/schedule_free (PyPI `schedulefree`): `adamw_schedulefree`, `sgd_schedulefree`.
    case schedulefree
    /// zyushun/Adam-mini (PyPI `adam-mini`): `adam_mini`.
    case adamMini = "adam_mini"
}

/// Which optimizer, with which hyperparameters, under which reference's conventions.
public struct OptimizerSpec: Sendable, Equatable {
    public var name: String
    public var library: OptimizerLibrary
    public var hyperparameters: Hyperparameters

    public init(name: String, library: OptimizerLibrary = .torch, hyperparameters: Hyperparameters = Hyperparameters([:])) {
        self.name = name
        self.library = library
        self.hyperparameters = hyperparameters
    }
}

/// Builds optimizers from specifications.
public enum OptimizerRegistry {
    /// Every optimizer name `make` accepts with the torch library.
    public static let torchNames: [String] = [
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adafactor",
        "muon", "lion", "tiger", "lars", "lamb", "lookahead", "sam", "sgd_hd", "sgdn_hd", "adam_hd", "hypergradient",
        "scheduled", "adamw_schedulefree", "sgd_schedulefree", "adam_mini",
    ]

    /// Creates the optimizer for parameters of the given shapes, or throws an
    /// `OptimizerError` naming the unknown optimizer or the bad hyperparameter.
    public static func make<S: TunedScalar>(_ spec: OptimizerSpec, shapes: [[Int]], scalar: S.Type = S.self) throws -> any Optimizer<S> {
        for shape in shapes where shape.contains(where: { $0 <= 0 }) {
            throw OptimizerError("\(spec.hyperparameters.context): parameter shape \(shape) has a zero or negative dimension")
        }
        if let o: any Optimizer<S> = try makeElementwise(spec, shapes: shapes) { return o }
        if let o: any Optimizer<S> = try makeStructured(spec, shapes: shapes) { return o }
        throw OptimizerError("unknown optimizer '\(spec.name)' for library '\(spec.library.rawValue)' (known: \(torchNames.joined(separator: ", ")))")
    }
}
