import TunedOptim

/// A validated task file: what to train, what to search, how, for how long, and what "best" means.
/// Built by `TaskFile.parse`/`TaskFile.load`; every field here has passed validation.
/// `docs/TASKFILE.md` describes each key with its default.
public struct TaskSpec: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The `[workload]` table as `WorkloadFactory.make` takes it, with `dataset` (and a
    /// command workload's `workdir`) resolved to absolute paths against the task file's folder.
    public var workload: [String: JSONValue]
    public var search: SearchSpace
    public var strategy: StrategySpec
    public var budget: Budget
    public var objective: Objective
    /// The folder relative paths were resolved against.
    public var baseDirectory: String
    /// What validation accepted but the user should see (`file:line: [search] weight_decy:
    /// … did you mean 'weight_decay'?`); the daemon returns them in the submit reply.
    public var warnings: [TaskProblem] = []
    /// The `[features]` table: what the task file says about its model and data (the
    /// features-file schema, docs/META.md); nil without one.
    public var features: TaskDescription?

    public init(
        name: String, description: String? = nil, workload: [String: JSONValue], search: SearchSpace,
        strategy: StrategySpec, budget: Budget, objective: Objective = Objective(), baseDirectory: String = ".",
        features: TaskDescription? = nil
    ) {
        self.features = features
        self.name = name
        self.description = description
        self.workload = workload
        self.search = search
        self.strategy = strategy
        self.budget = budget
        self.objective = objective
        self.baseDirectory = baseDirectory
    }

    /// The workload kind (`mlp`, `rosenbrock`, `command`, …).
    public var workloadKind: String { workload["kind"]?.stringValue ?? "" }
    /// The user's own training (`command` or `external`): its own keys, metrics and features.
    public var isUserWorkload: Bool { TaskFile.userKinds.contains(workloadKind) }

    /// The configuration a trial runs with: the sampled parameters plus the task-wide
    /// hypergradient settings (`[strategy] hypergradient`) as `hypergradient_*` trial keys.
    ///
    /// With `[strategy] hypergradient` and neither `lr_min` nor `lr_max`, HD keeps the lr
    /// inside the range `[search] lr` declares (a range's ends, a choice's smallest and largest
    /// value); only a fixed lr leaves HD its default bounds (1e-6·lr … 10·lr).
    public func trialConfig(_ parameters: [String: JSONValue]) -> [String: JSONValue] {
        var c = parameters
        if var hd = strategy.hypergradient {
            if hd.lrMin == nil, hd.lrMax == nil, let (lo, hi) = search.parameters["lr"].flatMap(Self.range) {
                (hd.lrMin, hd.lrMax) = (lo, hi)
            }
            for (k, v) in hd.trialKeys where c[k] == nil { c[k] = v }
        }
        return c
    }

    /// The smallest and largest value of a searched numeric domain (nil when fixed or one value).
    static func range(_ domain: ParameterDomain) -> (Double, Double)? {
        switch domain {
        case .uniform(let a, let b), .logUniform(let a, let b): return (a, b)
        case .intUniform(let a, let b), .intLogUniform(let a, let b): return (Double(a), Double(b))
        case .choice(let vs):
            let xs = vs.compactMap(\.doubleValue)
            guard xs.count >= 2, let lo = xs.min(), let hi = xs.max(), lo < hi else { return nil }
            return (lo, hi)
        case .fixed: return nil
        }
    }
}

/// `[budget]`.
public struct Budget: Sendable, Equatable {
    /// The largest `steps`: steps travel as JSON numbers, exact up to here.
    public static let maxSteps = 1_000_000_000_000_000
    /// Training steps per trial (random, grid, ASHA's maximum) or per member (PBT). 1 … `maxSteps`.
    public var steps: Int
    /// The task's seed: trial configurations, minibatch order and the strategies' draws derive from it.
    public var seed: UInt64
    /// Steps per segment (a checkpoint at each segment's end); nil = the default.
    public var segmentSteps: Int?

    /// When `segment_steps` is not given: a checkpoint every 500 steps bounds what a crash
    /// loses to 500 steps while keeping the per-segment overhead (lease, checkpoint write,
    /// one transaction) small against 500 training steps.
    public static let defaultSegmentSteps = 500

    public init(steps: Int, seed: UInt64 = 0, segmentSteps: Int? = nil) {
        self.steps = steps
        self.seed = seed
        self.segmentSteps = segmentSteps
    }

    /// The segment length in effect (never more than the budget).
    public var effectiveSegmentSteps: Int { min(steps, segmentSteps ?? Self.defaultSegmentSteps) }

    /// `[start, end)` step ranges covering `0..<steps` in chunks of `effectiveSegmentSteps`.
    public var segments: [Range<Int>] {
        stride(from: 0, to: steps, by: effectiveSegmentSteps).map { $0..<min($0 + effectiveSegmentSteps, steps) }
    }
}

/// `[objective]`: which reported metric decides, in which direction, and which of its values
/// along a trial's curve counts (`select`). `docs/TASKFILE.md`, "[objective]".
public struct Objective: Sendable, Equatable {
    /// A metric name: one tuned knows (`val_loss`, `train_loss`, `val_accuracy`) or any key a
    /// command workload reports on its `tuned:` lines.
    public struct Metric: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let valLoss = Metric(rawValue: "val_loss")
        public static let trainLoss = Metric(rawValue: "train_loss")
        public static let valAccuracy = Metric(rawValue: "val_accuracy")
        /// The metrics built-in workloads report, whose direction tuned knows.
        public static let known: [Metric] = [.valLoss, .trainLoss, .valAccuracy]

        /// The direction that makes sense for a known metric; nil for a program's own.
        public var naturalMode: Mode? {
            switch self {
            case .valAccuracy: .max
            case .valLoss, .trainLoss: .min
            default: nil
            }
        }

        public var description: String { rawValue }
    }

    public enum Mode: String, Sendable, CaseIterable {
        case min, max
    }

    /// Which value of the objective along a trial's curve is the trial's value: its value at
    /// the last step reported (`final`, the default) or the best value reported so far (`best`).
    /// One definition for everything: the task's result, the results' ranking, PBT's exploit
    /// decisions and ASHA's rungs.
    public enum Select: String, Sendable, CaseIterable {
        case final, best
    }

    public var metric: Metric
    public var mode: Mode
    public var select: Select

    public init(metric: Metric = .valLoss, mode: Mode? = nil, select: Select = .final) {
        self.metric = metric
        self.mode = mode ?? metric.naturalMode ?? .min
        self.select = select
    }

    /// True when `a` is strictly better than `b` under `mode`. NaN is never better.
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        mode == .min ? a < b : a > b
    }

    /// The key under which a segment's event carries the best value of the objective reported
    /// within the segment (`select = "best"` only). A `:` never appears in a reported metric
    /// name (docs/COMMAND_WORKLOADS.md, "Metric lines"), so it cannot clash with one.
    public var segmentBestKey: String { metric.rawValue + ":best" }

    /// A finished segment's metrics as its strategy event carries them: the last value of
    /// every metric at a step ≤ `end`, and with `select = "best"` the best finite value of the
    /// objective at a step ≤ `end` under `segmentBestKey`.
    public func segmentMetrics(_ points: some Sequence<(step: Int64, name: String, value: Double)>, end: Int64) -> [String: Double] {
        var last: [String: (Int64, Double)] = [:]
        var best: Double?
        for p in points where p.step <= end {
            if select == .best, p.name == metric.rawValue, p.value.isFinite, best.map({ isBetter(p.value, than: $0) }) ?? true {
                best = p.value
            }
            if let l = last[p.name], l.0 > p.step { continue }
            last[p.name] = (p.step, p.value)
        }
        var out = last.mapValues(\.1)
        if let best { out[segmentBestKey] = best }
        return out
    }

    /// The trial's objective value after a segment with `metrics` (an event's), given its value
    /// after the previous segments (`previous`): the last reported value for `final`; for
    /// `best`, the better of `previous`, the segment's best and its last value. nil when the
    /// segment reported no value of the metric and there is no previous one.
    public func value(after metrics: [String: Double], previous: Double?) -> Double? {
        let last = metrics[metric.rawValue]
        guard select == .best else { return last }
        var v = previous
        for x in [metrics[segmentBestKey], last] {
            guard let x, x.isFinite else { continue }
            if v == nil || isBetter(x, than: v!) { v = x }
        }
        return v
    }

    /// `metrics` without the strategy-internal `segmentBestKey` (what a trial reported).
    public func reported(_ metrics: [String: Double]) -> [String: Double] {
        select == .best ? metrics.filter { $0.key != segmentBestKey } : metrics
    }
}

/// Which strategy, with its settings. Exactly the settings of `kind` are non-nil.
public struct StrategySpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case random, grid, pbt, asha
        case batchSweep = "batch-sweep"
    }

    public var kind: Kind
    /// random: how many configurations; grid: the cap on the grid (nil = the whole grid);
    /// asha: how many configurations enter the bottom rung; batch-sweep: configurations per batch size.
    public var trials: Int?
    /// grid: points per continuous range (`grid_points`, default 3).
    public var gridPoints: Int
    /// How often a failed segment is re-run (from the trial's last checkpoint) before the
    /// trial fails (`max_retries`, default 2, i.e. 3 attempts).
    public var maxRetries: Int
    /// Hypergradient descent inside every trial/member (`hypergradient = { beta = … }`).
    public var hypergradient: HypergradientSettings?
    /// Steps between online measurements of the gradient noise scale B_simple in built-in
    /// workloads (`noise_scale_every`; nil = `defaultNoiseScaleEvery`, 0 = off). Command
    /// workloads report their own metrics and ignore it.
    public var noiseScaleEvery: Int?
    public var pbt: PBTSettings?
    public var asha: ASHASettings?
    public var batchSweep: BatchSweepSettings?

    public static let defaultTrials = 10
    /// The most configurations a task may ask for: every trial is created (and stored) at submit.
    public static let maxTrials = 100_000
    public static let defaultGridPoints = 3
    /// The most points a continuous range may be cut into (its values are listed to count the grid).
    public static let maxGridPoints = 1_000
    public static let defaultMaxRetries = 2
    /// Every 500 steps, stretched by the worker so that a measurement's B_big = 128 examples
    /// stay within 2 % of the training's gradients (`NoiseScaleSettings.maxOverhead`).
    public static let defaultNoiseScaleEvery = 500

    public init(
        kind: Kind, trials: Int? = nil, gridPoints: Int = StrategySpec.defaultGridPoints,
        maxRetries: Int = StrategySpec.defaultMaxRetries, hypergradient: HypergradientSettings? = nil,
        pbt: PBTSettings? = nil, asha: ASHASettings? = nil, batchSweep: BatchSweepSettings? = nil
    ) {
        self.kind = kind
        self.trials = trials
        self.gridPoints = gridPoints
        self.maxRetries = maxRetries
        self.hypergradient = hypergradient
        self.pbt = pbt
        self.asha = asha
        self.batchSweep = batchSweep
    }
}

/// `hypergradient = { kind = …, beta = 1e-4, lr_min = …, lr_max = … }` (Baydin et al. 2018).
public struct HypergradientSettings: Sendable, Equatable {
    /// The rule a task file gets when `hypergradient` has no `kind` (docs/TASKFILE.md says why).
    public static let defaultKind: HypergradientRule = .additive
    /// β of `kind = "multiplicative"` when `beta` is not given (docs/PERFORMANCE.md, "Hypergradient β_h").
    public static let defaultMultiplicativeBeta = 0.02
    public var beta: Double
    public var lrMin: Double?
    public var lrMax: Double?
    public var kind: HypergradientRule

    public init(beta: Double, lrMin: Double? = nil, lrMax: Double? = nil, kind: HypergradientRule = .additive) {
        self.beta = beta
        self.lrMin = lrMin
        self.lrMax = lrMax
        self.kind = kind
    }

    /// As trial-configuration keys (`TrialConfig`). `hypergradient_kind` only when it is not
    /// additive (`TrialConfig`'s default), so additive configurations are what they always were.
    public var trialKeys: [String: JSONValue] {
        var c: [String: JSONValue] = ["hypergradient_beta": .number(beta)]
        if kind != .additive { c["hypergradient_kind"] = .string(kind.rawValue) }
        if let lrMin { c["hypergradient_lr_min"] = .number(lrMin) }
        if let lrMax { c["hypergradient_lr_max"] = .number(lrMax) }
        return c
    }
}

/// `kind = "pbt"` (Jaderberg et al. 2017; defaults as Ray Tune's `PopulationBasedTraining`).
public struct PBTSettings: Sendable, Equatable {
    /// The largest population a task may ask for (every member is created at submit).
    public static let maxPopulation = 10_000
    public var population: Int
    public var interval: Int
    public var quantile: Double
    public var resampleProbability: Double
    public var perturbationFactors: [Double]
    public var synchronous: Bool
    /// Steps before the first exploit.
    public var burnIn: Int
    /// Whether explore may change the optimizer itself (its state is then re-initialised).
    public var exploreOptimizer: Bool
    /// `member_seeds = "distinct"` (default): member i starts from initial weights and a
    /// minibatch order of its own (`PopulationBasedTraining.memberSeed`), as in Jaderberg et
    /// al.; an exploit copies the donor's seed with its weights. `"shared"`: every member uses
    /// the task seed, so members differ by configuration only.
    public var distinctSeeds: Bool
    /// `mutate = [...]`: the `[search]` keys explore may change (Ray Tune's
    /// `hyperparam_mutations`); nil = the default, every key tuned knows (optimizer
    /// hyperparameters, `batch_size`, `schedule`, `hypergradient_*`) and none of a command
    /// workload's own keys. Every other key is copied from the donor with its checkpoint.
    public var mutate: [String]?

    /// Whether explore may change `key`.
    public func mutates(_ key: String) -> Bool {
        mutate.map { $0.contains(key) } ?? SearchSpace.knownKeys.contains(key)
    }

    public init(
        population: Int = 8, interval: Int, quantile: Double = 0.25, resampleProbability: Double = 0.25,
        perturbationFactors: [Double] = [0.8, 1.2], synchronous: Bool = false, burnIn: Int = 0,
        exploreOptimizer: Bool = false, distinctSeeds: Bool = true, mutate: [String]? = nil
    ) {
        self.mutate = mutate
        self.population = population
        self.interval = interval
        self.quantile = quantile
        self.resampleProbability = resampleProbability
        self.perturbationFactors = perturbationFactors
        self.synchronous = synchronous
        self.burnIn = burnIn
        self.exploreOptimizer = exploreOptimizer
        self.distinctSeeds = distinctSeeds
    }
}

/// `kind = "asha"` (Li et al. 2020): rungs at grace_period·rf^k steps up to `budget.steps`.
public struct ASHASettings: Sendable, Equatable {
    public var reductionFactor: Int
    public var gracePeriod: Int

    public init(reductionFactor: Int = 3, gracePeriod: Int) {
        self.reductionFactor = reductionFactor
        self.gracePeriod = gracePeriod
    }

    /// The rungs: grace·rf^k for every k with grace·rf^k < `steps`, ascending.
    public static func rungs(gracePeriod: Int, reductionFactor: Int, steps: Int) -> [Int] {
        var r: [Int] = []
        var k = gracePeriod
        while k >= 1, k < steps {
            r.append(k)
            let (next, overflow) = k.multipliedReportingOverflow(by: reductionFactor)
            if overflow { break }
            k = next
        }
        return r
    }

    /// The grace period when the task file gives none: ⌈steps/rf³⌉, so that at most three rungs
    /// lie below the budget (Hyperband's s_max = 3) and the top one near steps/rf; raised, for
    /// small budgets, until the top rung leaves at least ⌈steps/(2·rf)⌉ steps after it. The old
    /// ⌊steps/rf³⌋ could put a rung just before the end (37·27 = 999 of 1,000 steps), where a
    /// promotion decides nothing.
    public static func defaultGracePeriod(steps: Int, reductionFactor rf: Int) -> Int {
        guard steps > 1, rf >= 2 else { return 1 }
        let (square, o1) = rf.multipliedReportingOverflow(by: rf)
        let (cube, o2) = square.multipliedReportingOverflow(by: rf)
        var g = o1 || o2 ? 1 : max(1, steps / cube + (steps % cube == 0 ? 0 : 1))
        let tail = steps / (2 * rf) + (steps % (2 * rf) == 0 ? 0 : 1)
        while g < steps, let top = rungs(gracePeriod: g, reductionFactor: rf, steps: steps).last, steps - top < tail { g += 1 }
        return g
    }
}

/// `kind = "batch-sweep"`: train at each batch size until `target_loss`, to fit the critical
/// batch size (McCandlish et al. 2018: S = S_min(1 + B_noise/B), E = E_min(1 + B/B_noise)).
public struct BatchSweepSettings: Sendable, Equatable {
    /// Ascending, distinct.
    public var batchSizes: [Int]
    /// The objective's level at which steps and examples-to-target are measured.
    public var targetLoss: Double
    /// `lr_scaling = "noise-scale"` (default): the configuration's lr belongs to
    /// `referenceBatchSize` and every other batch size gets it rescaled by
    /// `LearningRateScaling` (ε_opt(B) = ε_max/(1 + B_noise/B) for SGD-like optimizers, …);
    /// `"none"`: the same lr at every batch size.
    public var rescaleLearningRate: Bool
    /// The batch size the configuration's lr was chosen for (`reference_batch_size`; nil =
    /// the workload's `batch_size`, else the smallest of `batchSizes`).
    public var referenceBatchSize: Int?
    /// B_noise for the rescaling (`noise_scale`); nil = unknown, and the rule's small-batch
    /// limit is applied capped at 8× (`LearningRateScaling.rescale`).
    public var noiseScale: Double?

    public init(
        batchSizes: [Int], targetLoss: Double, rescaleLearningRate: Bool = true, referenceBatchSize: Int? = nil,
        noiseScale: Double? = nil
    ) {
        self.batchSizes = batchSizes
        self.targetLoss = targetLoss
        self.rescaleLearningRate = rescaleLearningRate
        self.referenceBatchSize = referenceBatchSize
        self.noiseScale = noiseScale
    }
}
