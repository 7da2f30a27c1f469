import Foundation
import Testing
import TunedOptim

@testable import TunedEngine

private func spec(trials: Int = 2, steps: Int = 1000, segment: Int? = 400, retries: Int? = nil, metric: String = "val_loss") throws -> TaskSpec {
    try TaskFile.parse("""
        name = "st"
        [workload]
        kind = "rosenbrock"
        [search]
        optimizer = ["sgd", "adamw"]
        lr = { log_uniform = [1e-4, 1.0] }
        [strategy]
        kind = "random"
        trials = \(trials)
        \(retries.map { "max_retries = \($0)" } ?? "")
        [budget]
        steps = \(steps)
        \(segment.map { "segment_steps = \($0)" } ?? "")
        [objective]
        metric = "\(metric)"
        """, file: "st.toml")
}

private func seg(_ t: Int, _ s: Int, _ e: Int) -> Segment {
    Segment(trial: t, start: s, end: e, fromCheckpoint: s == 0 ? nil : CheckpointRef(trial: t, step: s))
}

@Suite struct StrategyTests {
    @Test func segmentsCoverTheBudget() {
        #expect(Budget(steps: 1000, segmentSteps: 400).segments == [0..<400, 400..<800, 800..<1000])
        #expect(Budget(steps: 2000).segments.count == 4)
        #expect(Budget(steps: 300).segments == [0..<300])
    }

    @Test func successRunsEverySegmentThenCompletesTheTaskWithTheBest() throws {
        var s = try Strategy.make(for: spec())
        #expect(s.start() == [.scheduleSegment(seg(0, 0, 400)), .scheduleSegment(seg(1, 0, 400))])
        #expect(s.start() == [])  // once
        #expect(s.handle(.segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 2])) == [.scheduleSegment(seg(0, 400, 800))])
        #expect(s.handle(.segmentFinished(trial: 1, step: 400, metrics: ["val_loss": 3])) == [.scheduleSegment(seg(1, 400, 800))])
        #expect(s.handle(.segmentFinished(trial: 0, step: 800, metrics: ["val_loss": 1.5])) == [.scheduleSegment(seg(0, 800, 1000))])
        #expect(s.handle(.segmentFinished(trial: 0, step: 1000, metrics: ["val_loss": 1.2, "train_loss": 1.0])) == [.completeTrial(trial: 0, metrics: ["val_loss": 1.2, "train_loss": 1.0])])
        #expect(!s.isFinished)
        _ = s.handle(.segmentFinished(trial: 1, step: 800, metrics: ["val_loss": 1.0]))
        let end = s.handle(.segmentFinished(trial: 1, step: 1000, metrics: ["val_loss": 0.9]))
        let best = TrialOutcome(trial: 1, config: s.trials[1].config, step: 1000, metrics: ["val_loss": 0.9], objective: 0.9)
        #expect(end == [.completeTrial(trial: 1, metrics: ["val_loss": 0.9]), .completeTask(best: best)])
        #expect(s.isFinished && s.best == best)
        #expect(s.handle(.segmentFinished(trial: 1, step: 1000, metrics: ["val_loss": 0.1])) == [])
    }

    @Test func maximisedObjectivePicksTheLargest() throws {
        var s = try Strategy.make(for: spec(steps: 100, metric: "val_accuracy"))
        _ = s.start()
        _ = s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["val_accuracy": 0.9]))
        let a = s.handle(.segmentFinished(trial: 1, step: 100, metrics: ["val_accuracy": 0.8]))
        guard case .completeTask(let best)? = a.last else { Issue.record("no completeTask: \(a)"); return }
        #expect(best?.trial == 0)
    }

    @Test func staleAndDuplicateEventsAreIgnored() throws {
        var s = try Strategy.make(for: spec())
        #expect(s.handle(.segmentFinished(trial: 0, step: 400, metrics: [:])) == [])  // before start
        _ = s.start()
        #expect(s.handle(.segmentFinished(trial: 0, step: 800, metrics: ["val_loss": 1])) == [])  // not the running segment's end
        #expect(s.handle(.segmentFinished(trial: 7, step: 400, metrics: ["val_loss": 1])) == [])  // no such trial
        #expect(s.handle(.segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 1])).count == 1)
        #expect(s.handle(.segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 1])) == [])  // replayed
    }

    @Test func failedSegmentsAreRetriedUpToTheLimitThenTheTrialFails() throws {
        var s = try Strategy.make(for: spec(retries: 2))
        _ = s.start()
        _ = s.handle(.segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 2]))
        #expect(s.handle(.segmentFailed(trial: 0, error: "worker died", attempt: 1)) == [.retry(seg(0, 400, 800), attempt: 2)])
        #expect(s.handle(.segmentFailed(trial: 0, error: "lease timeout", attempt: 2)) == [.retry(seg(0, 400, 800), attempt: 3)])
        #expect(s.handle(.segmentFailed(trial: 0, error: "exit 1", attempt: 3)) == [
            .failTrial(trial: 0, reason: "segment [400, 800) failed 3 times; last error: exit 1"),
        ])
        // A retried segment that then succeeds continues normally.
        #expect(s.handle(.segmentFailed(trial: 1, error: "x", attempt: 1)) == [.retry(seg(1, 0, 400), attempt: 2)])
        #expect(s.handle(.segmentFinished(trial: 1, step: 400, metrics: ["val_loss": 1])) == [.scheduleSegment(seg(1, 400, 800))])
        // A restarted daemon that reports attempt 1 again does not reset the count.
        #expect(s.handle(.segmentFailed(trial: 1, error: "x", attempt: 1)) == [.retry(seg(1, 400, 800), attempt: 2)])
        #expect(s.handle(.segmentFailed(trial: 1, error: "x", attempt: 1)) == [.retry(seg(1, 400, 800), attempt: 3)])
        let last = s.handle(.segmentFailed(trial: 1, error: "x", attempt: 1))
        #expect(last == [.failTrial(trial: 1, reason: "segment [400, 800) failed 3 times; last error: x"), .completeTask(best: nil)])
    }

    @Test func zeroRetriesFailsAtOnce() throws {
        var s = try Strategy.make(for: spec(trials: 1, retries: 0))
        _ = s.start()
        #expect(s.handle(.segmentFailed(trial: 0, error: "boom", attempt: 1)) == [
            .failTrial(trial: 0, reason: "segment [0, 400) failed 1 time; last error: boom"), .completeTask(best: nil),
        ])
    }

    @Test func divergenceFailsTheTrialWithoutRetry() throws {
        var s = try Strategy.make(for: spec())
        _ = s.start()
        #expect(s.handle(.trialDiverged(trial: 0, step: 123)) == [
            .failTrial(trial: 0, reason: "diverged (NaN/Inf loss) at step 123; not retried, the same configuration and seed would diverge again"),
        ])
        #expect(s.handle(.segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 1])) == [])
        // A non-finite objective in a report is divergence too.
        let a = s.handle(.segmentFinished(trial: 1, step: 400, metrics: ["val_loss": .nan]))
        #expect(a.count == 2)
        #expect(a.first.map { if case .failTrial(1, let r) = $0 { r.hasPrefix("diverged: val_loss = nan") } else { false } } == true)
        #expect(a.last == .completeTask(best: nil))
    }

    @Test func aFinalReportWithoutTheObjectiveFailsTheTrial() throws {
        var s = try Strategy.make(for: spec(trials: 1, steps: 100))
        _ = s.start()
        #expect(s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["train_loss": 1])) == [
            .failTrial(trial: 0, reason: "the final report at step 100 has no 'val_loss' (reported: train_loss)"), .completeTask(best: nil),
        ])
    }

    @Test func sameSpecAndEventsGiveTheSameActions() throws {
        let events: [StrategyEvent] = [
            .segmentFinished(trial: 0, step: 400, metrics: ["val_loss": 2]), .segmentFailed(trial: 1, error: "e", attempt: 1),
            .trialDiverged(trial: 1, step: 10), .segmentFinished(trial: 0, step: 800, metrics: ["val_loss": 1]),
            .segmentFinished(trial: 0, step: 1000, metrics: ["val_loss": 0.5]),
        ]
        func run() throws -> [StrategyAction] {
            var s = try Strategy.make(for: spec())
            return s.start() + events.flatMap { s.handle($0) }
        }
        let a = try run()
        #expect(a == (try run()))
        #expect(a.last.map { if case .completeTask(let b) = $0 { b?.trial == 0 } else { false } } == true)
    }

    @Test func theExamplePBTTaskBuildsItsPopulation() throws {
        let text = try String(contentsOfFile: Fixtures.repository.appendingPathComponent("examples/digits-pbt.toml").path, encoding: .utf8)
        let pbt = try TaskFile.parse(text, file: "p.toml", baseDirectory: Fixtures.repository.appendingPathComponent("examples").path)
        var s = try Strategy.make(for: pbt)
        guard case .pbt = s else { Issue.record("not a PBT strategy"); return }
        #expect(s.trials.count == pbt.strategy.pbt!.population && s.start().count == s.trials.count)
    }

    @Test func randomSearchUsesTheSeedGivenOrTheBudgetSeed() throws {
        let sp = try spec(trials: 3)
        #expect(RandomSearch(spec: sp).trials == RandomSearch(spec: sp, seed: sp.budget.seed).trials)
        #expect(RandomSearch(spec: sp).trials.map(\.config) != RandomSearch(spec: sp, seed: 99).trials.map(\.config))
        #expect(RandomSearch(spec: sp).trials.map(\.config) == (0..<3).map { sp.search.sample(seed: sp.budget.seed, index: $0) })
    }
}
