import Foundation
import Testing
import TunedOptim

@testable import TunedEngine

private func ashaSpec(trials: Int = 5, steps: Int = 9, grace: Int = 1, rf: Int = 3) throws -> TaskSpec {
    try TaskFile.parse("""
        name = "asha"
        [workload]
        kind = "rosenbrock"
        [search]
        optimizer = ["sgd", "adamw"]
        lr = { log_uniform = [1e-4, 1.0] }
        [strategy]
        kind = "asha"
        trials = \(trials)
        reduction_factor = \(rf)
        grace_period = \(grace)
        [budget]
        steps = \(steps)
        """, file: "asha.toml")
}

private func seg(_ t: Int, _ s: Int, _ e: Int) -> Segment {
    Segment(trial: t, start: s, end: e, fromCheckpoint: s == 0 ? nil : CheckpointRef(trial: t, step: s))
}

@Suite struct ASHATests {
    @Test func rungsAreGraceTimesPowersOfTheReductionFactorBelowTheBudget() throws {
        guard case .asha(let a) = try Strategy.make(for: ashaSpec(steps: 100, grace: 4, rf: 3)) else { Issue.record("not asha"); return }
        #expect(a.rungs == [4, 12, 36])
        guard case .asha(let b) = try Strategy.make(for: ashaSpec(steps: 9, grace: 1, rf: 3)) else { return }
        #expect(b.rungs == [1, 3])
    }

    /// Issue 12: without grace_period, the rungs never come within the last ⌈steps/(2·rf)⌉ steps
    /// (the old ⌊steps/rf³⌋ put one at 999 of 1,000), there are at most three, and a task file
    /// without the key gets exactly this default.
    @Test func theDefaultGracePeriodPutsNoRungNearTheEnd() throws {
        #expect(ASHASettings.defaultGracePeriod(steps: 1000, reductionFactor: 3) == 38)
        #expect(ASHASettings.rungs(gracePeriod: 38, reductionFactor: 3, steps: 1000) == [38, 114, 342])
        #expect(ASHASettings.rungs(gracePeriod: 1000 / 27, reductionFactor: 3, steps: 1000).last == 999)  // the old default
        #expect(ASHASettings.defaultGracePeriod(steps: 270, reductionFactor: 3) == 10)
        #expect(ASHASettings.defaultGracePeriod(steps: 10, reductionFactor: 3) == 2)  // 1 would rung at 9
        #expect(ASHASettings.defaultGracePeriod(steps: 1, reductionFactor: 3) == 1)
        for rf in 2...6 {
            for steps in 1...3000 {
                let g = ASHASettings.defaultGracePeriod(steps: steps, reductionFactor: rf)
                let rungs = ASHASettings.rungs(gracePeriod: g, reductionFactor: rf, steps: steps)
                let tail = (steps + 2 * rf - 1) / (2 * rf)
                #expect(g >= 1 && g <= max(1, steps), "steps \(steps) rf \(rf): grace \(g)")
                #expect(rungs.count <= 3, "steps \(steps) rf \(rf): \(rungs)")
                if let top = rungs.last, steps - top < tail { Issue.record("steps \(steps) rf \(rf): rung \(top) in the last \(tail) steps") }
            }
        }
        for (steps, rf, rungs) in [(1000, 3, [38, 114, 342]), (81000, 3, [3000, 9000, 27000]), (1001, 2, [126, 252, 504])] {
            let spec = try TaskFile.parse("""
                name = "asha"
                [workload]
                kind = "rosenbrock"
                [search]
                optimizer = "sgd"
                lr = 0.01
                [strategy]
                kind = "asha"
                reduction_factor = \(rf)
                [budget]
                steps = \(steps)
                """, file: "asha.toml")
            guard case .asha(let a) = try Strategy.make(for: spec) else { Issue.record("not asha"); return }
            #expect(a.rungs == rungs, "steps \(steps) rf \(rf)")
        }
    }

    /// Hand-worked: rungs 1 and 3, rf = 3, minimise. The cut-off is the 1/3-quantile (linear
    /// interpolation) of the values recorded at the rung before the arriving trial.
    @Test func promotionAndPruningOnAHandWorkedExample() throws {
        var s = try Strategy.make(for: ashaSpec())
        #expect(s.start() == (0..<5).map { .scheduleSegment(seg($0, 0, 1)) })
        func at(_ t: Int, _ step: Int, _ v: Double) -> [StrategyAction] {
            s.handle(.segmentFinished(trial: t, step: step, metrics: ["val_loss": v]))
        }
        #expect(at(0, 1, 5) == [.scheduleSegment(seg(0, 1, 3))])  // first at the rung: promoted
        #expect(at(1, 1, 3) == [.scheduleSegment(seg(1, 1, 3))])  // cut-off 5
        let p2 = at(2, 1, 4)  // prior [3, 5] → cut-off 3 + 2·(1/3) = 3.667; 4 is worse
        guard case .pruneTrial(2, 1, _)? = p2.first else { Issue.record("trial 2 not pruned: \(p2)"); return }
        #expect(at(3, 1, 1) == [.scheduleSegment(seg(3, 1, 3))])  // prior [3, 4, 5] → 3.667
        guard case .pruneTrial(4, 1, _)? = at(4, 1, 3.5).first else { Issue.record("trial 4 not pruned"); return }  // prior [1,3,4,5] → 3
        #expect(at(0, 3, 2) == [.scheduleSegment(seg(0, 3, 9))])
        guard case .pruneTrial(1, 3, _)? = at(1, 3, 2.5).first else { Issue.record("trial 1 not pruned at rung 3"); return }
        #expect(at(3, 3, 0.5) == [.scheduleSegment(seg(3, 3, 9))])  // prior [2, 2.5] → 2.167
        #expect(at(0, 9, 1.5) == [.completeTrial(trial: 0, metrics: ["val_loss": 1.5])])
        let end = at(3, 9, 0.4)
        guard case .completeTask(let best)? = end.last else { Issue.record("no completeTask: \(end)"); return }
        #expect(best?.trial == 3 && best?.objective == 0.4 && s.isFinished)
    }

    @Test func maximisedObjectiveUsesTheUpperQuantile() throws {
        guard case .asha(var a) = try Strategy.make(for: ashaSpec()) else { return }
        _ = a
        let spec = try TaskFile.parse("""
            name = "asha"
            [workload]
            kind = "rosenbrock"
            [search]
            optimizer = "sgd"
            [strategy]
            kind = "asha"
            trials = 3
            reduction_factor = 2
            grace_period = 1
            [budget]
            steps = 4
            [objective]
            metric = "val_accuracy"
            """, file: "a.toml")
        guard case .asha(let b) = try Strategy.make(for: spec) else { return }
        a = b
        #expect(a.cutoff([0.2, 0.8]) == 0.5)
        #expect(a.cutoff([0.1, 0.2, 0.9]) == 0.2)
        #expect(a.cutoff([]) == nil)
    }

    @Test func segmentsStopAtRungsAndAtSegmentSteps() throws {
        let spec = try TaskFile.parse("""
            name = "asha"
            [workload]
            kind = "rosenbrock"
            [search]
            optimizer = "sgd"
            [strategy]
            kind = "asha"
            trials = 1
            reduction_factor = 3
            grace_period = 100
            [budget]
            steps = 1000
            segment_steps = 250
            """, file: "a.toml")
        var s = try Strategy.make(for: spec)
        #expect(s.start() == [.scheduleSegment(seg(0, 0, 100))])
        var ends: [Int] = []
        var step = 100
        while true {
            let a = s.handle(.segmentFinished(trial: 0, step: step, metrics: ["val_loss": 1]))
            guard case .scheduleSegment(let next)? = a.first else { break }
            ends.append(next.end)
            step = next.end
        }
        #expect(ends == [300, 550, 800, 900, 1000])  // rungs 100, 300, 900; segments ≤ 250 steps
        #expect(s.isFinished)
    }

    @Test func theExampleASHATaskHasItsDocumentedRungs() throws {
        let spec = try TaskFile.load(path: Fixtures.repository.appendingPathComponent("examples/digits-asha.toml").path)
        guard case .asha(var a) = try Strategy.make(for: spec) else { Issue.record("not asha"); return }
        #expect(a.rungs == [50, 150, 450, 1350] && a.trials.count == 27)
        #expect(a.start().count == 27)
    }
}
