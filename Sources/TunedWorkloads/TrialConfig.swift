import TunedOptim

/// A trial's configuration: one point of a task's search space, as a flat JSON object.
///
///     {"optimizer": "adamw", "lr": 0.003, "weight_decay": 1e-4, "beta1": 0.9,
///      "batch_size": 64, "hypergradient_beta": 1e-7, "schedule": {"kind": "cosine", …}}
///
/// The optimizer keys are mapped to the optimizer's own keywords by
/// `OptimizerSpec.fromTrial` (keys another optimizer uses are dropped, so one search space
/// spans several optimizers). `batch_size` overrides the workload's minibatch size.
/// `hypergradient_beta` (β_h > 0) turns on hypergradient descent of the learning rate,
/// kept in [`hypergradient_lr_min`, `hypergradient_lr_max`] (default [1e-6·lr, 10·lr]);
/// `hypergradient_kind` is its rule, "additive" (the default here: the reference ports'
/// α + β·h) or "multiplicative" (α·(1 + β·cos), `HypergradientRule`).
/// `schedule` multiplies the learning rate per step (`Schedule`). Any other key is an
/// error naming it.
public struct TrialConfig: Sendable, Equatable {
    public var optimizer: OptimizerSpec
    public var batchSize: Int?
    public var hypergradientBeta: Double?
    public var hypergradientBounds: (min: Double?, max: Double?)
    public var hypergradientKind: HypergradientRule = .additive
    public var schedule: Schedule?

    public static let keys: Set<String> = OptimizerSpec.trialKeys.union([
        "batch_size", "hypergradient_beta", "hypergradient_kind", "hypergradient_lr_min", "hypergradient_lr_max", "schedule",
    ])

    public init(json: [String: JSONValue], context: String = "config") throws {
        for key in json.keys.sorted() where !Self.keys.contains(key) {
            throw WorkloadError("\(context): unknown key '\(key)' (accepted: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        let c = ObjectiveConfig(values: json, context: context)
        do {
            optimizer = try OptimizerSpec.fromTrial(json, context: context)
        } catch let e as OptimizerError {
            throw WorkloadError(e.message)
        }
        batchSize = try c.optionalInt("batch_size")
        if let b = batchSize, b < 1 { throw WorkloadError("\(context): 'batch_size' must be ≥ 1, got \(b)") }
        if json["hypergradient_beta"] != nil {
            let beta = try c.double("hypergradient_beta", default: 0)
            guard beta >= 0 else { throw WorkloadError("\(context): 'hypergradient_beta' must be ≥ 0, got \(beta)") }
            hypergradientBeta = beta > 0 ? beta : nil
        }
        if let k = json["hypergradient_kind"], !k.isNull {
            guard let name = k.stringValue, let rule = HypergradientRule(rawValue: name) else {
                throw WorkloadError("\(context): 'hypergradient_kind' must be \"additive\" or \"multiplicative\", got \(k)")
            }
            hypergradientKind = rule
        }
        hypergradientBounds = (
            json["hypergradient_lr_min"] == nil ? nil : try c.double("hypergradient_lr_min", default: 0),
            json["hypergradient_lr_max"] == nil ? nil : try c.double("hypergradient_lr_max", default: 0)
        )
        if let s = json["schedule"], !s.isNull {
            do { schedule = try Schedule(json: s, context: "\(context).schedule") } catch let e as OptimizerError {
                throw WorkloadError(e.message)
            }
        }
    }

    public static func == (a: TrialConfig, b: TrialConfig) -> Bool {
        a.optimizer == b.optimizer && a.batchSize == b.batchSize && a.hypergradientBeta == b.hypergradientBeta
            && a.hypergradientBounds.min == b.hypergradientBounds.min
            && a.hypergradientBounds.max == b.hypergradientBounds.max && a.hypergradientKind == b.hypergradientKind
            && a.schedule == b.schedule
    }

    /// The optimizer stack for `shapes`: the base optimizer (Muon's non-matrix parameters
    /// to AdamW, see `MatrixSplitOptimizer.make`), inside a schedule, inside hypergradient
    /// descent. HD is outermost so that its adapted rate persists from step to step and the
    /// schedule modulates it; HD's d is then the scheduled step's direction.
    public func makeOptimizer<Scalar: TunedScalar>(shapes: [[Int]], scalar: Scalar.Type = Scalar.self) throws -> any Optimizer<Scalar> {
        var opt: any Optimizer<Scalar>
        var spec = optimizer
        if spec.name == "muon", spec.hyperparameters.values["ns_dtype"] == nil {
            // Training runs Newton–Schulz in the parameters' precision; the bfloat16
            // emulation of stock torch is for matching its vectors, and 10× slower.
            spec.hyperparameters.values["ns_dtype"] = .string(Scalar.self == Double.self ? "float64" : "float32")
        }
        do {
            opt = try MatrixSplitOptimizer<Scalar>.make(spec, shapes: shapes, fallback: OptimizerSpec(name: "adamw"))
            if let schedule { opt = Scheduled(inner: opt, schedule: schedule) }
            if let beta = hypergradientBeta {
                let lr = opt.learningRate
                let bounds = LearningRateBounds(
                    min: hypergradientBounds.min ?? 1e-6 * lr, max: hypergradientBounds.max ?? 10 * lr)
                guard bounds.min >= 0, bounds.max >= bounds.min else {
                    throw WorkloadError("config: hypergradient lr range [\(bounds.min), \(bounds.max)] is empty; use 0 ≤ hypergradient_lr_min ≤ hypergradient_lr_max")
                }
                opt = Hypergradient(inner: opt, hypergradLR: beta, bounds: bounds, shapes: shapes, rule: hypergradientKind)
            }
        } catch let e as OptimizerError {
            throw WorkloadError(e.message)
        }
        return opt
    }

    /// A trainer for `workload` with this configuration.
    public func makeTrainer<W: Workload>(workload: W, seed: UInt64, evalEvery: Int) throws -> Trainer<W> {
        try Trainer(
            workload: workload, optimizer: makeOptimizer(shapes: workload.parameterShapes, scalar: W.Scalar.self),
            seed: seed, batchSize: batchSize, evalEvery: evalEvery)
    }
}
