import TunedOptim

/// Asynchronous successive halving (Li et al. 2020, "A System for Massively Parallel
/// Hyperparameter Tuning"; the rule of Ray Tune's `ASHAScheduler`), as a pure state machine.
///
/// - `trials` configurations (default 10), configuration i = `SearchSpace.sample(seed:index: i)`,
///   every trial with the task seed (as random search).
/// - **Rungs** at r_k = grace_period·rf^k for every r_k < `budget.steps`; a trial trains rung
///   to rung, in segments of at most `segment_steps` (a crash loses at most that many steps;
///   decisions are only taken at rungs).
/// - **Promotion**: a trial reaching rung k with objective value v is compared with the values
///   recorded at that rung *before* it (in the order they arrived — this is the asynchronous
///   part). With none it is promoted; otherwise the cut-off is the (1 − 1/rf) quantile of
///   those values in the objective's direction (linear interpolation, numpy's default: for
///   `min`, the 1/rf-quantile), and the trial is promoted when v is at least as good as the
///   cut-off, else pruned (store status `pruned`). Its value is then recorded at the rung.
/// - A trial's value is its objective's latest value (`select = "final"`) or the best it has
///   reported so far (`select = "best"`), at rungs and at the end alike.
/// - A trial reaching `steps` completes; the best completed trial (by that value, ties by the
///   lower index) is the task's result. Failures and divergence as in `IndependentTrials`.
public struct ASHA: TuningStrategy, Equatable {
    enum State: Sendable, Equatable {
        case running(Segment, attempt: Int)
        case completed
        case pruned
        case failed(String)
    }

    public let trials: [Trial]
    public let rungs: [Int]
    public let reductionFactor: Int
    public let steps: Int
    public let segmentSteps: Int
    public let maxRetries: Int
    public let objective: Objective
    var states: [State]
    /// The values recorded at each rung, in arrival order.
    public private(set) var recorded: [[Double]]
    /// Each trial's objective value so far (`Objective.value(after:previous:)`): with
    /// `select = "best"` a rung compares the best values reached by then.
    private var values: [Double?]
    public private(set) var best: TrialOutcome?
    public private(set) var isFinished = false
    private var started = false

    public init(spec: TaskSpec, seed: UInt64? = nil) throws(StrategyError) {
        guard let asha = spec.strategy.asha else { throw StrategyError("[strategy]: kind 'asha' needs grace_period") }
        let s = seed ?? spec.budget.seed
        let n = spec.strategy.trials ?? StrategySpec.defaultTrials
        let trials = (0..<n).map { i in
            Trial(index: i, config: spec.trialConfig(spec.search.sample(seed: s, index: i)), seed: spec.budget.seed)
        }
        try self.init(trials: trials, settings: asha, budget: spec.budget, maxRetries: spec.strategy.maxRetries, objective: spec.objective)
    }

    public init(trials: [Trial], settings: ASHASettings, budget: Budget, maxRetries: Int, objective: Objective) throws(StrategyError) {
        guard settings.reductionFactor >= 2, settings.gracePeriod >= 1 else {
            throw StrategyError("[strategy]: asha needs reduction_factor ≥ 2 and grace_period ≥ 1")
        }
        self.trials = trials
        reductionFactor = settings.reductionFactor
        steps = budget.steps
        segmentSteps = budget.effectiveSegmentSteps
        self.maxRetries = maxRetries
        self.objective = objective
        let r = ASHASettings.rungs(gracePeriod: settings.gracePeriod, reductionFactor: settings.reductionFactor, steps: budget.steps)
        rungs = r
        recorded = Array(repeating: [], count: r.count)
        values = Array(repeating: nil, count: trials.count)
        let first = min(r.first ?? budget.steps, budget.effectiveSegmentSteps)
        states = trials.map { .running(Segment(trial: $0.index, start: 0, end: first, fromCheckpoint: nil), attempt: 1) }
    }

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
        return trials.indices.compactMap { t in currentSegment(t).map { .scheduleSegment($0) } }
    }

    /// The promotion cut-off of a rung with `values` recorded: nil when there are none.
    public func cutoff(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let q = objective.mode == .min ? 1 / Double(reductionFactor) : 1 - 1 / Double(reductionFactor)
        let v = values.sorted()
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, v.count - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - Double(lo))
    }

    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] {
        guard started, !isFinished else { return [] }
        switch event {
        case .segmentFinished(let t, let step, let metrics):
            guard let seg = currentSegment(t), step == seg.end else { return [] }
            let name = objective.metric.rawValue
            let reported = objective.reported(metrics)
            guard let last = metrics[name] else {
                return fail(t, "the report at step \(step) has no '\(name)' (reported: \(reported.keys.sorted().joined(separator: ", ")))")
            }
            guard last.isFinite else { return fail(t, "diverged: \(name) = \(last) at step \(step)") }
            let value = objective.value(after: metrics, previous: values[t]) ?? last
            values[t] = value
            if step >= steps {
                states[t] = .completed
                if best == nil || objective.isBetter(value, than: best!.objective) || (value == best!.objective && t < best!.trial) {
                    best = TrialOutcome(trial: t, config: trials[t].config, step: step, metrics: reported, objective: value)
                }
                return [.completeTrial(trial: t, metrics: reported)] + finishIfDone()
            }
            guard let k = rungs.firstIndex(of: step) else { return [next(t, from: step)] }
            let cut = cutoff(recorded[k])
            recorded[k].append(value)
            if let cut, objective.isBetter(cut, than: value) {
                states[t] = .pruned
                return [.pruneTrial(trial: t, step: step, reason: "pruned at rung \(step): \(name) \(value) is outside the top 1/\(reductionFactor) (cut-off \(cut))")]
                    + finishIfDone()
            }
            return [next(t, from: step)]
        case .segmentFailed(let t, let error, let attempt):
            guard let seg = currentSegment(t), case .running(_, let current) = states[t] else { return [] }
            let failed = max(attempt, current)
            if failed <= maxRetries {
                states[t] = .running(seg, attempt: failed + 1)
                return [.retry(seg, attempt: failed + 1)]
            }
            return fail(t, "segment [\(seg.start), \(seg.end)) failed \(failed) time\(failed == 1 ? "" : "s"); last error: \(error)")
        case .trialDiverged(let t, let step):
            guard currentSegment(t) != nil else { return [] }
            return fail(t, "diverged (NaN/Inf loss) at step \(step)")
        }
    }

    /// The next segment of `t` from `step`: to the next rung (or the budget), at most `segmentSteps`.
    mutating func next(_ t: Int, from step: Int) -> StrategyAction {
        let boundary = rungs.first { $0 > step } ?? steps
        let seg = Segment(trial: t, start: step, end: min(boundary, step + segmentSteps), fromCheckpoint: CheckpointRef(trial: t, step: step))
        states[t] = .running(seg, attempt: 1)
        return .scheduleSegment(seg)
    }

    mutating func fail(_ t: Int, _ reason: String) -> [StrategyAction] {
        states[t] = .failed(reason)
        return [.failTrial(trial: t, reason: reason)] + finishIfDone()
    }

    mutating func finishIfDone() -> [StrategyAction] {
        for s in states { if case .running = s { return [] } }
        isFinished = true
        return [.completeTask(best: best)]
    }
}
