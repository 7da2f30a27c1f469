import Foundation
import TunedEngine
import TunedOptim
import TunedStore

/// The glue between a task's strategy (a pure state machine) and the store.
///
/// Every event the strategy is told is committed together with its cause (the segment's
/// commit or failure) and with the store effects of the actions it returned, in ONE
/// transaction (`Store.commitStrategyStep`); the event itself is appended to the task's
/// `events` (kind `strategy_event`). So:
/// - a daemon killed at any point leaves either the whole step or none of it (the segment is
///   then still leased and is re-run after the restart, reaching the same result);
/// - after a restart, `rebuildStrategy` replays the recorded events in commit order and gets
///   the very state the strategy had — no effect needs re-applying, since all were committed.
enum StrategyDriver {
    /// The segment-config key that tells a worker a segment starts from another member's
    /// checkpoint (a PBT exploit): its value says whether the optimizer state is kept
    /// (`keep_optimizer_state`; the learning rate is then the new config's) or starts fresh
    /// (`reset_optimizer_state`, after explore changed the optimizer). Stripped by the worker.
    static let exploitKey = "pbt_exploit"

    /// The store effects of `actions`, and whether a failed segment is re-queued.
    static func effects(
        _ actions: [StrategyAction], trialByMember: [Int: TrialID]
    ) -> (effects: [StrategyEffect], retry: Bool) {
        var out: [StrategyEffect] = []
        var retry = false
        var exploits: [Int: Exploit] = [:]
        for a in actions {
            switch a {
            case .scheduleSegment(let s):
                guard let trial = trialByMember[s.trial] else { continue }
                var config: String?
                if let e = exploits[s.trial] {
                    var c = e.newConfig
                    c[exploitKey] = .string(e.optimizerReinitialised ? "reset_optimizer_state" : "keep_optimizer_state")
                    config = jsonText(c)
                }
                out.append(.addSegment(
                    trial: trial, start: s.start, end: s.end, configJSON: config,
                    fromTrial: s.fromCheckpoint.flatMap { trialByMember[$0.trial] }, fromStep: s.fromCheckpoint?.step))
            case .retry:
                retry = true
            case .exploit(let e):
                guard let r = trialByMember[e.recipient], let d = trialByMember[e.donor] else { continue }
                exploits[e.recipient] = e
                var changes = e.changes
                if e.optimizerReinitialised { changes["optimizer_state"] = .string("re-initialised") }
                out.append(.exploit(
                    recipient: r, donor: d, donorStep: e.donorCheckpoint.step, generation: e.generation,
                    oldConfigJSON: jsonText(e.oldConfig), newConfigJSON: jsonText(e.newConfig), changesJSON: jsonText(changes)))
            case .completeTrial(let t, _):
                if let trial = trialByMember[t] { out.append(.trialStatus(trial, .succeeded, error: nil)) }
            case .failTrial(let t, let reason):
                if let trial = trialByMember[t] {
                    out.append(.trialStatus(trial, reason.contains("diverged") ? .diverged : .failed, error: reason))
                }
            case .pruneTrial(let t, _, let reason):
                if let trial = trialByMember[t] { out.append(.trialStatus(trial, .pruned, error: reason)) }
            case .completeTask(let best):
                out.append(.taskStatus(best == nil ? .failed : .succeeded, error: best == nil ? "no trial completed" : nil))
            }
        }
        return (out, retry)
    }

    /// Rebuilds a strategy from the store: its recorded events replayed in commit order.
    /// A task written by an older daemon (no recorded events, random or grid only) is
    /// replayed from its committed segments instead.
    static func rebuild(_ strategy: inout Strategy, spec: TaskSpec, store: Store, task: TaskID, trials: [TrialRecord])
        async throws
    {
        _ = strategy.start()
        let events = try await store.strategyEvents(task: task)
        if events.isEmpty, spec.strategy.kind == .random || spec.strategy.kind == .grid {
            try await replaySegments(&strategy, spec: spec, store: store, trials: trials)
            return
        }
        for (i, text) in events.enumerated() {
            guard let e = StrategyEvent(recordJSON: text) else {
                throw StrategyError("task \(task): strategy event \(i + 1) cannot be read: \(text)")
            }
            _ = strategy.handle(e)
        }
    }

    /// The replay of tasks without an event log: each trial's committed segments in turn.
    static func replaySegments(_ strategy: inout Strategy, spec: TaskSpec, store: Store, trials: [TrialRecord]) async throws {
        for t in trials.sorted(by: { $0.member < $1.member }) {
            let rows = try await store.metrics(trial: t.id)
            for r in spec.budget.segments where r.upperBound <= t.stepsDone {
                let points = rows.lazy.map { (step: Int64($0.step), name: $0.name, value: $0.value) }
                let metrics = spec.objective.segmentMetrics(points, end: Int64(r.upperBound))
                _ = strategy.handle(.segmentFinished(trial: t.member, step: r.upperBound, metrics: metrics))
            }
            if t.status == .failed || t.status == .diverged {
                _ = strategy.handle(.trialDiverged(trial: t.member, step: t.stepsDone))
            }
        }
    }
}
