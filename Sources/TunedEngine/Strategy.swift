import TunedOptim

// MARK: - Vocabulary shared by every strategy

/// A checkpoint: the state of `trial` after `step` training steps.
public struct CheckpointRef: Sendable, Hashable, Codable {
    public var trial: Int
    public var step: Int

    public init(trial: Int, step: Int) {
        self.trial = trial
        self.step = step
    }
}

/// Work for one worker: train `trial` over steps `[start, end)`, starting from
/// `fromCheckpoint` (nil = fresh initialisation at step 0), and write a checkpoint at `end`.
///
/// `fromCheckpoint` names a trial as well as a step so that PBT's exploit ("continue from
/// member 3's checkpoint at step 400") is the same action as a plain continuation.
public struct Segment: Sendable, Hashable, Codable, CustomStringConvertible {
    public var trial: Int
    public var start: Int
    public var end: Int
    public var fromCheckpoint: CheckpointRef?

    public init(trial: Int, start: Int, end: Int, fromCheckpoint: CheckpointRef?) {
        self.trial = trial
        self.start = start
        self.end = end
        self.fromCheckpoint = fromCheckpoint
    }

    public var steps: Int { end - start }
    public var description: String { "trial \(trial) [\(start), \(end))" }
}

/// A trial (a PBT member): its index, its configuration (a `TrialConfig` JSON object) and
/// the seed of its minibatch order.
public struct Trial: Sendable, Equatable, Codable {
    public var index: Int
    public var config: [String: JSONValue]
    public var seed: UInt64

    public init(index: Int, config: [String: JSONValue], seed: UInt64) {
        self.index = index
        self.config = config
        self.seed = seed
    }
}

/// A finished trial's result: its last reported metrics and the objective's value among them.
public struct TrialOutcome: Sendable, Equatable, Codable {
    public var trial: Int
    public var config: [String: JSONValue]
    public var step: Int
    public var metrics: [String: Double]
    public var objective: Double

    public init(trial: Int, config: [String: JSONValue], step: Int, metrics: [String: Double], objective: Double) {
        self.trial = trial
        self.config = config
        self.step = step
        self.metrics = metrics
        self.objective = objective
    }
}

/// What the daemon tells a strategy.
public enum StrategyEvent: Sendable, Equatable {
    /// A segment of `trial` ended at `step` (its `end`) with its checkpoint committed;
    /// `metrics` are the last values reported (`train_loss`, `val_loss`, `val_accuracy`, …).
    case segmentFinished(trial: Int, step: Int, metrics: [String: Double])
    /// The current segment of `trial` failed (worker crash, lease timeout, command exit ≠ 0).
    /// `attempt` is the 1-based number of the attempt that failed.
    case segmentFailed(trial: Int, error: String, attempt: Int)
    /// The training loss became NaN/Inf at `step`.
    case trialDiverged(trial: Int, step: Int)
}

/// What a strategy asks the daemon to do, in order.
public enum StrategyAction: Sendable, Equatable {
    /// Queue this segment.
    case scheduleSegment(Segment)
    /// Queue this segment again (same start, same checkpoint); `attempt` is the number of the new attempt.
    case retry(Segment, attempt: Int)
    /// The trial reached its budget; `metrics` are its final metrics.
    case completeTrial(trial: Int, metrics: [String: Double])
    /// The trial ends without a result.
    case failTrial(trial: Int, reason: String)
    /// Every trial has ended; `best` is nil when none completed.
    case completeTask(best: TrialOutcome?)
    /// PBT: `recipient` continues from the donor's checkpoint with a perturbed configuration
    /// (followed in the same action list by the recipient's `.scheduleSegment` from that checkpoint).
    case exploit(Exploit)
    /// ASHA: the trial stops at a rung without reaching the budget (store status `pruned`).
    case pruneTrial(trial: Int, step: Int, reason: String)
}

/// One PBT exploit + explore: the recipient copies `donorCheckpoint` (weights, optimizer state
/// unless `optimizerReinitialised`) and continues with `newConfig`.
public struct Exploit: Sendable, Equatable, Codable {
    public var recipient: Int
    public var donor: Int
    public var donorCheckpoint: CheckpointRef
    public var oldConfig: [String: JSONValue]
    public var newConfig: [String: JSONValue]
    /// Per key explore changed: `{"from": …, "to": …, "how": "perturb ×1.2" | "resample" | "neighbour"}`,
    /// `from` being the donor's value (explore perturbs the donor's configuration).
    public var changes: [String: JSONValue]
    /// Explore changed the optimizer: its state starts fresh, the weights are the donor's.
    public var optimizerReinitialised: Bool
    /// The interval index `step / interval` (in synchronous mode: the generation that ended).
    public var generation: Int
    /// The step the recipient continues from (the donor checkpoint's step).
    public var step: Int

    public init(
        recipient: Int, donor: Int, donorCheckpoint: CheckpointRef, oldConfig: [String: JSONValue],
        newConfig: [String: JSONValue], changes: [String: JSONValue], optimizerReinitialised: Bool, generation: Int, step: Int
    ) {
        self.recipient = recipient
        self.donor = donor
        self.donorCheckpoint = donorCheckpoint
        self.oldConfig = oldConfig
        self.newConfig = newConfig
        self.changes = changes
        self.optimizerReinitialised = optimizerReinitialised
        self.generation = generation
        self.step = step
    }
}

/// A strategy is a pure, deterministic state machine: no I/O, no clocks, no threads. Given
/// the same task spec and the same events in the same order it returns the same actions, so
/// the daemon can rebuild it after a restart by replaying the events it committed.
///
/// Protocol between the daemon and a strategy:
/// - `start()` once: the trials' first segments.
/// - then `handle(_:)` for each event; events the strategy does not expect (for a trial that
///   has ended, a step that is not the running segment's end, a duplicate) are ignored and
///   return no action, so replaying a committed event twice is harmless.
/// - after `.completeTask`, every event is ignored.
public protocol TuningStrategy: Sendable {
    /// The trials (members), by index.
    var trials: [Trial] { get }
    /// The best finished trial so far under the task's objective.
    var best: TrialOutcome? { get }
    /// True once `.completeTask` has been returned.
    var isFinished: Bool { get }
    /// The configuration `trial` trains with now (PBT members change theirs when exploited).
    func currentConfig(_ trial: Int) -> [String: JSONValue]
    mutating func start() -> [StrategyAction]
    mutating func handle(_ event: StrategyEvent) -> [StrategyAction]
}

extension TuningStrategy {
    public func currentConfig(_ trial: Int) -> [String: JSONValue] {
        trials.indices.contains(trial) ? trials[trial].config : [:]
    }
}

public struct StrategyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The strategy a task's `[strategy] kind` asks for (each case a `TuningStrategy`); batch-sweep
/// joins as a further case, until then `make` refuses it with a clear error.
public enum Strategy: TuningStrategy {
    case random(RandomSearch)
    case grid(GridSearch)
    case pbt(PopulationBasedTraining)
    case asha(ASHA)
    case batchSweep(BatchSweep)

    public static func make(for spec: TaskSpec, seed: UInt64? = nil) throws(StrategyError) -> Strategy {
        switch spec.strategy.kind {
        case .random: return .random(RandomSearch(spec: spec, seed: seed))
        case .grid: return .grid(try GridSearch(spec: spec, seed: seed))
        case .pbt: return .pbt(try PopulationBasedTraining(spec: spec, seed: seed))
        case .asha: return .asha(try ASHA(spec: spec, seed: seed))
        case .batchSweep: return .batchSweep(try BatchSweep(spec: spec, seed: seed))
        }
    }

    private var inner: any TuningStrategy {
        switch self {
        case .random(let s): s
        case .grid(let s): s
        case .pbt(let s): s
        case .asha(let s): s
        case .batchSweep(let s): s
        }
    }

    public var trials: [Trial] { inner.trials }
    public var best: TrialOutcome? { inner.best }
    /// The task's objective, as the strategy ranks by it.
    public var objective: Objective {
        switch self {
        case .random(let s): s.core.objective
        case .grid(let s): s.core.objective
        case .pbt(let s): s.objective
        case .asha(let s): s.objective
        case .batchSweep(let s): s.core.objective
        }
    }
    public var isFinished: Bool { inner.isFinished }
    public func currentConfig(_ trial: Int) -> [String: JSONValue] { inner.currentConfig(trial) }

    public mutating func start() -> [StrategyAction] {
        switch self {
        case .random(var s): defer { self = .random(s) }; return s.start()
        case .grid(var s): defer { self = .grid(s) }; return s.start()
        case .pbt(var s): defer { self = .pbt(s) }; return s.start()
        case .asha(var s): defer { self = .asha(s) }; return s.start()
        case .batchSweep(var s): defer { self = .batchSweep(s) }; return s.start()
        }
    }

    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] {
        switch self {
        case .random(var s): defer { self = .random(s) }; return s.handle(event)
        case .grid(var s): defer { self = .grid(s) }; return s.handle(event)
        case .pbt(var s): defer { self = .pbt(s) }; return s.handle(event)
        case .asha(var s): defer { self = .asha(s) }; return s.handle(event)
        case .batchSweep(var s): defer { self = .batchSweep(s) }; return s.handle(event)
        }
    }
}

// MARK: - Independent trials (random and grid search)

/// The state machine of strategies whose trials never interact: every trial runs its own
/// configuration from step 0 to the budget, in segments, and the best final objective wins.
///
/// Decisions:
/// - **All trials start at once.** `start()` queues every trial's first segment, in trial
///   order; the daemon's queue and worker pool decide how many run concurrently. Each
///   finished segment queues the trial's next one (from its own checkpoint), so the queue
///   never holds more than one segment per trial.
/// - **Segments** are `[k·S, min((k+1)·S, steps))` with S = `budget.segment_steps`
///   (default 500): a crash costs at most S steps of one trial.
/// - **Retries.** A failed segment is re-queued unchanged (same start, same checkpoint) up to
///   `max_retries` times (default 2, so 3 attempts); then the trial fails. The attempt count
///   is the larger of the event's `attempt` and the strategy's own count, so a daemon that
///   restarted and lost its count cannot retry forever.
/// - **Divergence** (a NaN/Inf loss, reported as `trialDiverged`, or a non-finite objective
///   metric in a finished segment) fails the trial at once, without retry: training is
///   deterministic for a (config, seed), so a retry would diverge again.
/// - **Objective**: a trial's result is its objective metric at its final step (the final
///   validation loss, as the peers report it) with `select = "final"` (the default), or the
///   best value it reported along the way with `select = "best"`. A trial whose final
///   report lacks the metric (and, for `best`, that never reported it) fails (a command workload that never prints
///   `val_loss` is a mistake to surface, not a trial to rank).
/// - **Best**: the best objective under `mode`; ties go to the lower trial index.
/// - **Seeds**: every trial trains with the task seed (common random numbers: trials differ
///   by configuration, not by minibatch order); configurations come from the search seed.
/// - **The task completes** when every trial has completed or failed; `best` is nil if none completed.
public struct IndependentTrials: Sendable, Equatable {
    enum State: Sendable, Equatable {
        case running(Segment, attempt: Int)
        case completed
        case failed(String)
    }

    public let trials: [Trial]
    public let steps: Int
    public let segmentSteps: Int
    public let maxRetries: Int
    public let objective: Objective
    private(set) var states: [State]
    private var lastMetrics: [[String: Double]]
    /// Each trial's objective value so far (`Objective.value(after:previous:)`).
    private var values: [Double?]
    public private(set) var best: TrialOutcome?
    public private(set) var outcomes: [TrialOutcome] = []
    public private(set) var isFinished = false
    private var started = false

    public init(trials: [Trial], budget: Budget, maxRetries: Int, objective: Objective) {
        self.trials = trials
        steps = budget.steps
        segmentSteps = budget.effectiveSegmentSteps
        self.maxRetries = maxRetries
        self.objective = objective
        states = trials.map { t in .running(Segment(trial: t.index, start: 0, end: min(budget.effectiveSegmentSteps, budget.steps), fromCheckpoint: nil), attempt: 1) }
        lastMetrics = Array(repeating: [:], count: trials.count)
        values = Array(repeating: nil, count: trials.count)
    }

    /// How many trials have completed, failed, or are still running.
    public var counts: (completed: Int, failed: Int, running: Int) {
        states.reduce(into: (0, 0, 0)) { c, s in
            switch s {
            case .completed: c.0 += 1
            case .failed: c.1 += 1
            case .running: c.2 += 1
            }
        }
    }

    /// The running segment of `trial`, if it is running.
    public func currentSegment(_ trial: Int) -> Segment? {
        guard states.indices.contains(trial), case .running(let s, _) = states[trial] else { return nil }
        return s
    }

    public mutating func start() -> [StrategyAction] {
        guard !started else { return [] }
        started = true
        if trials.isEmpty {
            isFinished = true
            return [.completeTask(best: nil)]
        }
        return states.compactMap { s in
            if case .running(let seg, _) = s { return .scheduleSegment(seg) }
            return nil
        }
    }

    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] {
        guard started, !isFinished else { return [] }
        switch event {
        case .segmentFinished(let trial, let step, let metrics):
            guard let seg = currentSegment(trial), step == seg.end else { return [] }
            let reported = objective.reported(metrics)
            lastMetrics[trial] = reported
            let name = objective.metric.rawValue
            if let v = metrics[name], !v.isFinite {
                return fail(trial, "diverged: \(name) = \(v) at step \(step)")
            }
            values[trial] = objective.value(after: metrics, previous: values[trial])
            if step < steps {
                let next = Segment(
                    trial: trial, start: step, end: min(step + segmentSteps, steps),
                    fromCheckpoint: CheckpointRef(trial: trial, step: step))
                states[trial] = .running(next, attempt: 1)
                return [.scheduleSegment(next)]
            }
            guard let value = values[trial] else {
                return fail(trial, "the final report at step \(step) has no '\(name)' (reported: \(reported.keys.sorted().joined(separator: ", ")))")
            }
            states[trial] = .completed
            let outcome = TrialOutcome(trial: trial, config: trials[trial].config, step: step, metrics: reported, objective: value)
            outcomes.append(outcome)
            if best == nil || objective.isBetter(value, than: best!.objective)
                || (value == best!.objective && trial < best!.trial)
            {
                best = outcome
            }
            return [.completeTrial(trial: trial, metrics: reported)] + finishIfDone()
        case .segmentFailed(let trial, let error, let attempt):
            guard case .running(let seg, let current)? = states.indices.contains(trial) ? states[trial] : nil else { return [] }
            let failed = max(attempt, current)
            if failed <= maxRetries {
                states[trial] = .running(seg, attempt: failed + 1)
                return [.retry(seg, attempt: failed + 1)]
            }
            return fail(trial, "segment [\(seg.start), \(seg.end)) failed \(failed) time\(failed == 1 ? "" : "s"); last error: \(error)")
        case .trialDiverged(let trial, let step):
            guard currentSegment(trial) != nil else { return [] }
            return fail(trial, "diverged (NaN/Inf loss) at step \(step); not retried, the same configuration and seed would diverge again")
        }
    }

    private mutating func fail(_ trial: Int, _ reason: String) -> [StrategyAction] {
        states[trial] = .failed(reason)
        return [.failTrial(trial: trial, reason: reason)] + finishIfDone()
    }

    private mutating func finishIfDone() -> [StrategyAction] {
        guard counts.running == 0 else { return [] }
        isFinished = true
        return [.completeTask(best: best)]
    }
}

/// Random search: `trials` configurations, configuration i = `SearchSpace.sample(seed:index:)`
/// (a pure function of the seed and i), each trained for the whole budget.
public struct RandomSearch: TuningStrategy, Equatable {
    public private(set) var core: IndependentTrials

    /// `seed` defaults to `budget.seed`.
    public init(spec: TaskSpec, seed: UInt64? = nil) {
        let s = seed ?? spec.budget.seed
        let n = spec.strategy.trials ?? StrategySpec.defaultTrials
        let trials = (0..<n).map { i in
            Trial(index: i, config: spec.trialConfig(spec.search.sample(seed: s, index: i)), seed: spec.budget.seed)
        }
        core = IndependentTrials(trials: trials, budget: spec.budget, maxRetries: spec.strategy.maxRetries, objective: spec.objective)
    }

    public var trials: [Trial] { core.trials }
    public var best: TrialOutcome? { core.best }
    public var isFinished: Bool { core.isFinished }
    public mutating func start() -> [StrategyAction] { core.start() }
    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] { core.handle(event) }
}

/// Grid search: the configurations of `SearchSpace.grid(points:cap:)` (`grid_points` per
/// continuous range, capped at `trials` by evenly spaced indices), each trained for the
/// whole budget. Throws when the grid is empty.
public struct GridSearch: TuningStrategy, Equatable {
    public private(set) var core: IndependentTrials

    /// `seed` is accepted for symmetry with `RandomSearch`; a grid draws nothing.
    public init(spec: TaskSpec, seed: UInt64? = nil) throws(StrategyError) {
        let configs = spec.search.grid(points: spec.strategy.gridPoints, cap: spec.strategy.trials)
        guard !configs.isEmpty else { throw StrategyError("[strategy]: the grid is empty; give [search] at least one optimizer") }
        let trials = configs.enumerated().map { i, c in Trial(index: i, config: spec.trialConfig(c), seed: spec.budget.seed) }
        core = IndependentTrials(trials: trials, budget: spec.budget, maxRetries: spec.strategy.maxRetries, objective: spec.objective)
    }

    public var trials: [Trial] { core.trials }
    public var best: TrialOutcome? { core.best }
    public var isFinished: Bool { core.isFinished }
    public mutating func start() -> [StrategyAction] { core.start() }
    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] { core.handle(event) }
}
