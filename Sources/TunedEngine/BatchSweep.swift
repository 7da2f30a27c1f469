/// The batch-size sweep (`[strategy] kind = "batch-sweep"`): one configuration — the search
/// space's first sample, so give fixed values — trained at every batch size of
/// `batch_sizes`, each for the whole budget with the task seed. The daemon then measures the
/// steps each run needed to reach `target_loss` and fits McCandlish et al.'s S(B) model
/// (TunedMeta `StepsToTarget`, `BatchSizeFit`; `tunectl batchsize TASK`).
///
/// Trial i runs `batch_sizes[i]`. Its learning rate is the configuration's, rescaled from the
/// reference batch size (`reference_batch_size`, else the workload's `batch_size`, else the
/// smallest swept size) with `LearningRateScaling` — so S(B) is measured near each batch
/// size's good rate, as McCandlish et al.'s model assumes, and "lr ∝ B" is never applied past
/// B_noise (`noise_scale`, when given; unknown, the change is capped at 8×). With
/// `lr_scaling = "none"` the lr is used unchanged. Retries, divergence and completion are
/// those of `IndependentTrials`; `best` is the lowest final objective.
public struct BatchSweep: TuningStrategy, Equatable {
    public private(set) var core: IndependentTrials
    public let settings: BatchSweepSettings

    public init(spec: TaskSpec, seed: UInt64? = nil) throws(StrategyError) {
        guard let settings = spec.strategy.batchSweep, !settings.batchSizes.isEmpty else {
            throw StrategyError("[strategy]: batch-sweep needs batch_sizes and target_loss")
        }
        if let n = spec.strategy.trials, n > 1 {
            throw StrategyError("[strategy] trials = \(n): batch-sweep runs one configuration per batch size for now; remove trials or set it to 1")
        }
        self.settings = settings
        let base = spec.search.sample(seed: seed ?? spec.budget.seed, index: 0)
        let reference = settings.referenceBatchSize ?? spec.workload["batch_size"]?.doubleValue.map { Int($0) }
            ?? settings.batchSizes[0]
        let trials = settings.batchSizes.enumerated().map { i, b in
            var config = base
            config["batch_size"] = .number(Double(b))
            if settings.rescaleLearningRate, let lr = base["lr"]?.doubleValue, let optimizer = base["optimizer"]?.stringValue {
                config["lr"] = .number(
                    LearningRateScaling.rescale(
                        lr, optimizer: optimizer, from: Double(reference), to: Double(b), noiseScale: settings.noiseScale))
            }
            return Trial(index: i, config: spec.trialConfig(config), seed: spec.budget.seed)
        }
        core = IndependentTrials(trials: trials, budget: spec.budget, maxRetries: spec.strategy.maxRetries, objective: spec.objective)
    }

    public var trials: [Trial] { core.trials }
    public var best: TrialOutcome? { core.best }
    public var isFinished: Bool { core.isFinished }
    public mutating func start() -> [StrategyAction] { core.start() }
    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] { core.handle(event) }
}
