import TunedMath
import TunedOptim

/// Population-based training (Jaderberg et al. 2017), as a pure state machine.
///
/// - **Members**: `population` configurations spread evenly over the space
///   (`SearchSpace.stratifiedSample`: optimizers dealt round-robin, Latin hypercubes inside).
///   Each member has a seed of its own in its configuration (`memberSeed`: its initial weights
///   and minibatch order), which an exploit copies with the donor's weights and configuration;
///   selection then also picks among initialisations, as in the paper. With `member_seeds =
///   "shared"` every member trains with the task seed, as random and grid trials do, and
///   members differ by configuration only. (Digits, 30 seeds: distinct 0.0376, shared 0.0397
///   mean best final loss, and fewer collapsed populations: docs/PERFORMANCE.md.)
/// - **Segments** are intervals: `[k·K, min((k+1)·K, steps))`, K = `interval`; a member is
///   ranked on its objective metric's value at the end of each interval: the *latest* value
///   with `select = "final"` (the default), or the best value the member has reported itself
///   so far with `select = "best"`. A member's result is that value at `steps`.
/// - **Truncation selection**: ranked best first, ties broken by member index; the bottom
///   n_q = min(⌈q·n⌉, ⌊n/2⌋) members exploit one of the top n_q, drawn uniformly. No exploit
///   before `burn_in` steps. Explore: `PBTExplore`.
/// - **Synchronous** (`synchronous = true`): a generation barrier at every interval end. When
///   every member has finished (or is lost) the decisions are made at once, with one generator
///   per recipient seeded from (seed, generation, member) and the ranking sorted as above —
///   so they depend on the set of results, never on the order they arrived in.
/// - **Asynchronous** (default): a member decides when its own interval ends, ranking the
///   latest results of the members still training; it copies a donor at most one interval
///   behind itself, from the donor's latest checkpoint. (Requiring donors at least as far along
///   starves the members that lead the round-robin queue: they never find one, and a diverging
///   leader was never replaced. Going back one interval costs at most `interval` extra steps
///   per exploit; a member never goes back to a step at or before its last exploit's, so every
///   member progresses.)
/// - **Robustness**: a failed segment is retried from the same checkpoint up to `max_retries`
///   times; then, or on divergence (a NaN/Inf loss or objective), the member is *lost* and is
///   replaced by an exploit of a top member (at the barrier in sync mode, at once in async
///   mode). A donor always has a committed checkpoint: only members whose interval finished
///   (which commits the checkpoint) are ranked. With no donor left, the member fails.
public struct PopulationBasedTraining: TuningStrategy, Equatable {
    enum State: Sendable, Equatable {
        case running(Segment, attempt: Int)
        /// Sync: finished the current generation, waiting at the barrier.
        case waiting
        /// Crashed past its retries or diverged; to be replaced.
        case lost(String)
        case completed
        case failed(String)
    }

    struct Result: Sendable, Equatable {
        var step: Int
        var value: Double
        var metrics: [String: Double]
    }

    public let trials: [Trial]
    public let settings: PBTSettings
    public let space: SearchSpace
    public let steps: Int
    public let maxRetries: Int
    public let objective: Objective
    public let seed: UInt64
    public private(set) var configs: [[String: JSONValue]]
    var states: [State]
    var latest: [Result?]
    /// With `select = "best"`: the best value of the objective each member has reported itself
    /// (its own trial's curve, as the results table shows it; an exploit does not bring the
    /// donor's history along). Unused with `final`.
    var ownBest: [Double?]
    /// The step of the checkpoint each member last exploited (−1: never). Async donors one
    /// interval behind are allowed only past it, so a member cannot go back twice to the same
    /// place and every member makes progress.
    var exploitedFrom: [Int]
    /// Whether a member's `latest` result is its own committed checkpoint, trained with its
    /// current configuration. A recipient takes its donor's result until its next interval
    /// finishes; until then it is no donor (its checkpoint at that step, if any, is an older
    /// one of its own, written with another configuration and seed).
    var ownsLatest: [Bool]
    /// Sync: the index of the generation being trained.
    public private(set) var generation = 0
    public private(set) var best: TrialOutcome?
    public private(set) var isFinished = false
    private var started = false

    public init(spec: TaskSpec, seed: UInt64? = nil) throws(StrategyError) {
        guard let pbt = spec.strategy.pbt else { throw StrategyError("[strategy]: kind 'pbt' needs its settings (population, interval)") }
        guard pbt.population >= 1, pbt.interval >= 1 else {
            throw StrategyError("[strategy]: population and interval must be ≥ 1")
        }
        let s = seed ?? spec.budget.seed
        let trials = spec.search.stratifiedSample(seed: s, count: pbt.population).enumerated().map { i, drawn in
            var config = spec.trialConfig(drawn)
            let seed = pbt.distinctSeeds ? Self.memberSeed(spec.budget.seed, member: i) : spec.budget.seed
            if pbt.distinctSeeds { config["seed"] = .number(Double(seed)) }
            return Trial(index: i, config: config, seed: seed)
        }
        self.init(trials: trials, settings: pbt, space: spec.search, budget: spec.budget,
                  maxRetries: spec.strategy.maxRetries, objective: spec.objective, seed: s)
    }

    public init(
        trials: [Trial], settings: PBTSettings, space: SearchSpace, budget: Budget, maxRetries: Int, objective: Objective,
        seed: UInt64
    ) {
        self.trials = trials
        self.settings = settings
        self.space = space
        steps = budget.steps
        self.maxRetries = maxRetries
        self.objective = objective
        self.seed = seed
        configs = trials.map(\.config)
        let first = min(settings.interval, budget.steps)
        states = trials.map { .running(Segment(trial: $0.index, start: 0, end: first, fromCheckpoint: nil), attempt: 1) }
        latest = Array(repeating: nil, count: trials.count)
        ownBest = Array(repeating: nil, count: trials.count)
        exploitedFrom = Array(repeating: -1, count: trials.count)
        ownsLatest = Array(repeating: false, count: trials.count)
    }

    /// Member i's seed with `member_seeds = "distinct"`: SplitMix64 of (task seed, i), below
    /// 10¹⁵ so that it travels as an exact JSON number in the member's configuration.
    public static func memberSeed(_ seed: UInt64, member: Int) -> UInt64 {
        SearchSpace.trialSeed(seed, index: member) % 1_000_000_000_000_000
    }

    public func currentConfig(_ trial: Int) -> [String: JSONValue] { configs.indices.contains(trial) ? configs[trial] : [:] }

    /// The running segment of `member`, if any.
    public func currentSegment(_ member: Int) -> Segment? {
        guard states.indices.contains(member), case .running(let s, _) = states[member] else { return nil }
        return s
    }

    public mutating func start() -> [StrategyAction] {
        guard !started else { return [] }
        started = true
        if trials.isEmpty {
            isFinished = true
            return [.completeTask(best: nil)]
        }
        return trials.indices.compactMap { m in currentSegment(m).map { .scheduleSegment($0) } }
    }

    public mutating func handle(_ event: StrategyEvent) -> [StrategyAction] {
        guard started, !isFinished else { return [] }
        switch event {
        case .segmentFinished(let m, let step, let metrics):
            guard let seg = currentSegment(m), step == seg.end else { return [] }
            let name = objective.metric.rawValue
            let reported = objective.reported(metrics)
            guard let last = metrics[name] else {
                return lose(m, "the report at step \(step) has no '\(name)' (reported: \(reported.keys.sorted().joined(separator: ", ")))")
            }
            guard last.isFinite else { return lose(m, "diverged: \(name) = \(last) at step \(step)") }
            let value = objective.value(after: metrics, previous: ownBest[m]) ?? last
            if objective.select == .best { ownBest[m] = value }
            latest[m] = Result(step: step, value: value, metrics: reported)
            ownsLatest[m] = true
            if settings.synchronous {
                states[m] = .waiting
                return barrierIfComplete()
            }
            return asyncReady(m)
        case .segmentFailed(let m, let error, let attempt):
            guard let seg = currentSegment(m), case .running(_, let current) = states[m] else { return [] }
            let failed = max(attempt, current)
            if failed <= maxRetries {
                states[m] = .running(seg, attempt: failed + 1)
                return [.retry(seg, attempt: failed + 1)]
            }
            return lose(m, "segment [\(seg.start), \(seg.end)) failed \(failed) time\(failed == 1 ? "" : "s"); last error: \(error)")
        case .trialDiverged(let m, let step):
            guard currentSegment(m) != nil else { return [] }
            return lose(m, "diverged (NaN/Inf loss) at step \(step)")
        }
    }

    // MARK: Ranking

    /// Members best first by value, ties by member index.
    func ranked(_ members: [Int]) -> [Int] {
        members.sorted { a, b in
            let va = latest[a]!.value, vb = latest[b]!.value
            if va != vb { return objective.isBetter(va, than: vb) }
            return a < b
        }
    }

    /// n_q = min(⌈q·n⌉, ⌊n/2⌋): how many members form the top (and the bottom) quantile.
    public static func quantileCount(_ n: Int, _ q: Double) -> Int {
        min(Int((Double(n) * q).rounded(.up)), n / 2)
    }

    /// The generator of one decision: a pure function of (seed, generation/step, member).
    func rng(_ round: Int, _ member: Int) -> RandomSource {
        RandomSource(seed: SearchSpace.trialSeed(SearchSpace.trialSeed(seed, index: round), index: member))
    }

    /// Exploit `donor` (at its latest checkpoint) into `recipient`, explore, and queue the next interval.
    mutating func exploit(_ recipient: Int, donor: Int, rng: RandomSource) -> [StrategyAction] {
        let from = latest[donor]!.step
        let explored = PBTExplore.explore(configs[donor], space: space, settings: settings, rng: rng)
        let e = Exploit(
            recipient: recipient, donor: donor, donorCheckpoint: CheckpointRef(trial: donor, step: from),
            oldConfig: configs[recipient], newConfig: explored.config, changes: explored.changes,
            optimizerReinitialised: explored.optimizerChanged, generation: from / settings.interval, step: from)
        configs[recipient] = explored.config
        latest[recipient] = latest[donor]
        ownsLatest[recipient] = false
        exploitedFrom[recipient] = from
        let seg = Segment(trial: recipient, start: from, end: min(from + settings.interval, steps), fromCheckpoint: e.donorCheckpoint)
        states[recipient] = .running(seg, attempt: 1)
        return [.exploit(e), .scheduleSegment(seg)]
    }

    mutating func continueMember(_ m: Int) -> [StrategyAction] {
        let from = latest[m]!.step
        let seg = Segment(trial: m, start: from, end: min(from + settings.interval, steps), fromCheckpoint: CheckpointRef(trial: m, step: from))
        states[m] = .running(seg, attempt: 1)
        return [.scheduleSegment(seg)]
    }

    mutating func complete(_ m: Int) -> [StrategyAction] {
        let r = latest[m]!
        states[m] = .completed
        let outcome = TrialOutcome(trial: m, config: configs[m], step: r.step, metrics: r.metrics, objective: r.value)
        if best == nil || objective.isBetter(r.value, than: best!.objective) || (r.value == best!.objective && m < best!.trial) {
            best = outcome
        }
        return [.completeTrial(trial: m, metrics: r.metrics)]
    }

    mutating func lose(_ m: Int, _ reason: String) -> [StrategyAction] {
        states[m] = .lost(reason)
        if settings.synchronous { return barrierIfComplete() }
        return replaceLost(m) + finishIfDone()
    }

    mutating func finishIfDone() -> [StrategyAction] {
        for s in states {
            switch s {
            case .completed, .failed: continue
            default: return []
            }
        }
        isFinished = true
        return [.completeTask(best: best)]
    }

    // MARK: Synchronous: generation barriers

    mutating func barrierIfComplete() -> [StrategyAction] {
        var waiting: [Int] = [], lost: [Int] = []
        for (m, s) in states.enumerated() {
            switch s {
            case .running: return []
            case .waiting: waiting.append(m)
            case .lost: lost.append(m)
            case .completed, .failed: break
            }
        }
        let end = min((generation + 1) * settings.interval, steps)
        var actions: [StrategyAction] = []
        if end >= steps || waiting.isEmpty {
            for m in states.indices {
                if case .waiting = states[m] { actions += complete(m) }
                if case .lost(let reason) = states[m] {
                    states[m] = .failed(reason)
                    actions.append(.failTrial(trial: m, reason: reason))
                }
            }
            return actions + finishIfDone()
        }
        let order = ranked(waiting)
        let nq = end >= settings.burnIn ? Self.quantileCount(order.count, settings.quantile) : 0
        let top = Array(order.prefix(max(nq, 1)))
        let recipients = Set(order.suffix(nq)).union(lost)
        for m in states.indices {
            guard recipients.contains(m) else {
                if case .waiting = states[m] { actions += continueMember(m) }
                continue
            }
            let r = rng(generation, m)
            let donor = top[top.count == 1 ? 0 : (try? r.integer(below: top.count)) ?? 0]
            actions += exploit(m, donor: donor, rng: r)
        }
        generation += 1
        return actions
    }

    // MARK: Asynchronous

    /// Members still training that have a result: the pool an async decision ranks.
    func activeWithResults() -> [Int] {
        states.indices.filter { m in
            guard latest[m] != nil else { return false }
            switch states[m] {
            case .running, .lost: return true
            default: return false
            }
        }
    }

    mutating func asyncReady(_ m: Int) -> [StrategyAction] {
        let step = latest[m]!.step
        if step >= steps { return complete(m) + finishIfDone() }
        guard step >= settings.burnIn else { return continueMember(m) }
        let order = ranked(activeWithResults())
        let nq = Self.quantileCount(order.count, settings.quantile)
        guard nq > 0, order.suffix(nq).contains(m) else { return continueMember(m) }
        let donors = order.prefix(nq).filter { d in
            d != m && ownsLatest[d] && latest[d]!.step >= step - settings.interval && latest[d]!.step > exploitedFrom[m]
        }
        guard !donors.isEmpty else { return continueMember(m) }
        let r = rng(step / settings.interval, m)
        return exploit(m, donor: donors[donors.count == 1 ? 0 : (try? r.integer(below: donors.count)) ?? 0], rng: r)
    }

    /// Async: a lost member is replaced at once by an exploit of a top member (one at least as far as it).
    mutating func replaceLost(_ m: Int) -> [StrategyAction] {
        guard case .lost(let reason) = states[m] else { return [] }
        let mine = latest[m]?.step ?? 0
        let order = ranked(activeWithResults().filter { m != $0 && ownsLatest[$0] && latest[$0]!.step >= mine && latest[$0]!.step < steps })
        let top = Array(order.prefix(max(Self.quantileCount(order.count, settings.quantile), 1)))
        guard !top.isEmpty else {
            states[m] = .failed(reason)
            return [.failTrial(trial: m, reason: reason + "; no member with a checkpoint to replace it from")]
        }
        let r = rng(mine / settings.interval, m)
        return exploit(m, donor: top[top.count == 1 ? 0 : (try? r.integer(below: top.count)) ?? 0], rng: r)
    }
}
