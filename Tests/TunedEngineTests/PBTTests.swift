import Foundation
import Testing
import TunedMath
import TunedOptim

@testable import TunedEngine

func pbtSpec(
    population: Int = 4, steps: Int = 300, interval: Int = 100, quantile: Double = 0.25, sync: Bool = true,
    burnIn: Int = 0, retries: Int = 1, resample: Double = 0.25, exploreOptimizer: Bool = false, extraSearch: String = "",
    extraStrategy: String = ""
) throws -> TaskSpec {
    try TaskFile.parse("""
        name = "pbt"
        [workload]
        kind = "rosenbrock"
        [search]
        optimizer = ["sgd", "adamw", "lion"]
        lr = { log_uniform = [1e-4, 1.0] }
        weight_decay = { uniform = [0.0, 0.1] }
        batch_size = { choice = [16, 32, 64, 128] }
        \(extraSearch)
        [strategy]
        kind = "pbt"
        population = \(population)
        interval = \(interval)
        quantile = \(quantile)
        resample_probability = \(resample)
        synchronous = \(sync)
        burn_in = \(burnIn)
        explore_optimizer = \(exploreOptimizer)
        max_retries = \(retries)
        hypergradient = { beta = 1e-4 }
        \(extraStrategy)
        [budget]
        steps = \(steps)
        seed = 7
        """, file: "pbt.toml")
}

private func pbt(_ spec: TaskSpec) throws -> PopulationBasedTraining {
    guard case .pbt(let p) = try Strategy.make(for: spec) else { throw StrategyError("not pbt") }
    return p
}

private func exploits(_ actions: [StrategyAction]) -> [Exploit] {
    actions.compactMap { if case .exploit(let e) = $0 { e } else { nil } }
}

private func scheduled(_ actions: [StrategyAction]) -> [Segment] {
    actions.compactMap { if case .scheduleSegment(let s) = $0 { s } else { nil } }
}

@Suite struct PBTTests {
    @Test func quantileCountRoundsUpButNeverPassesHalf() {
        #expect(PopulationBasedTraining.quantileCount(4, 0.25) == 1)
        #expect(PopulationBasedTraining.quantileCount(8, 0.25) == 2)
        #expect(PopulationBasedTraining.quantileCount(5, 0.25) == 2)
        #expect(PopulationBasedTraining.quantileCount(3, 0.5) == 1)
        #expect(PopulationBasedTraining.quantileCount(1, 0.25) == 0)
    }

    @Test func truncationSelectionBottomQuantileExploitsTopQuantileTiesByMemberIndex() throws {
        var s = try pbt(pbtSpec(population: 8, steps: 300))
        #expect(scheduled(s.start()).map(\.end) == Array(repeating: 100, count: 8))
        // Members 2 and 5 tie for best; 6 and 1 tie for worst: the lower index ranks first in a tie.
        let values: [Double] = [3, 9, 1, 4, 5, 1, 9, 2]
        var last: [StrategyAction] = []
        for m in 0..<8 { last = s.handle(.segmentFinished(trial: m, step: 100, metrics: ["val_loss": values[m]])) }
        let e = exploits(last)
        // ranking: 2, 5, 7, 0, 3, 4, 1, 6 → top 2 = {2, 5}, bottom 2 = {1, 6}
        #expect(e.map(\.recipient) == [1, 6])
        #expect(e.allSatisfy { [2, 5].contains($0.donor) && $0.donorCheckpoint == CheckpointRef(trial: $0.donor, step: 100) })
        #expect(e.allSatisfy { $0.generation == 1 && $0.step == 100 && $0.newConfig != $0.oldConfig })
        // Everyone gets the next interval; recipients from the donor's checkpoint, with the explored config.
        let next = scheduled(last)
        #expect(next.map(\.trial) == Array(0..<8) && next.allSatisfy { $0.start == 100 && $0.end == 200 })
        for e in e { #expect(next[e.recipient].fromCheckpoint == e.donorCheckpoint && s.currentConfig(e.recipient) == e.newConfig) }
        #expect(next[0].fromCheckpoint == CheckpointRef(trial: 0, step: 100))
        // Nothing happens before the barrier: the first 7 events returned no action.
        var t = try pbt(pbtSpec(population: 8, steps: 300))
        _ = t.start()
        for m in 0..<7 { #expect(t.handle(.segmentFinished(trial: m, step: 100, metrics: ["val_loss": values[m]])) == []) }
    }

    /// Members have seeds of their own (default) that an exploit copies with the weights;
    /// `member_seeds = "shared"` gives every member the task seed and no `seed` key.
    @Test func membersHaveTheirOwnSeedsAndAnExploitCopiesTheDonors() throws {
        var s = try pbt(pbtSpec(population: 8, steps: 300))
        let seeds = (0..<8).map { s.currentConfig($0)["seed"]?.doubleValue }
        #expect(seeds.allSatisfy { $0 != nil } && Set(seeds).count == 8)
        #expect(s.trials.map(\.seed) == (0..<8).map { PopulationBasedTraining.memberSeed(7, member: $0) })
        _ = s.start()
        var last: [StrategyAction] = []
        for m in 0..<8 { last = s.handle(.segmentFinished(trial: m, step: 100, metrics: ["val_loss": Double(m)])) }
        let e = exploits(last)
        #expect(!e.isEmpty)
        for e in e { #expect(s.currentConfig(e.recipient)["seed"] == seeds[e.donor].map(JSONValue.number)) }

        let shared = try pbt(pbtSpec(population: 4, steps: 300, extraStrategy: "member_seeds = \"shared\""))
        #expect((0..<4).allSatisfy { shared.currentConfig($0)["seed"] == nil } && shared.trials.allSatisfy { $0.seed == 7 })
        #expect(throws: TaskFileError.self) { try pbtSpec(extraStrategy: "member_seeds = \"same\"") }
    }

    @Test func syncDecisionsDoNotDependOnArrivalOrder() throws {
        let values: [Double] = [0.5, 0.2, 0.9, 0.4, 0.7, 0.3]
        func run(_ order: [Int]) throws -> [[StrategyAction]] {
            var s = try pbt(pbtSpec(population: 6, steps: 300, quantile: 0.34))
            _ = s.start()
            var barriers: [[StrategyAction]] = []
            for gen in 1...3 {
                var out: [StrategyAction] = []
                for m in order { out += s.handle(.segmentFinished(trial: m, step: gen * 100, metrics: ["val_loss": values[m] / Double(gen)])) }
                barriers.append(out)
            }
            #expect(s.isFinished)
            return barriers
        }
        let a = try run([0, 1, 2, 3, 4, 5])
        let b = try run([5, 3, 1, 0, 4, 2])
        let c = try run([2, 4, 0, 5, 1, 3])
        #expect(a == b && b == c)
        #expect(!exploits(a[0]).isEmpty)
        guard case .completeTask(let best)? = a[2].last else { Issue.record("no completeTask"); return }
        #expect(best?.trial == 1)
    }

    @Test func exploreStaysInsideRangesLogScaleAwareAndMovesCategoricalsToNeighbours() throws {
        let spec = try pbtSpec(resample: 0)
        let settings = spec.strategy.pbt!
        let space = spec.search
        for i in 0..<200 {
            let rng = RandomSource(seed: UInt64(i))
            let base: [String: JSONValue] = [
                "optimizer": .string("adamw"), "lr": .number(i % 2 == 0 ? 0.9 : 1.5e-4), "weight_decay": .number(i % 3 == 0 ? 0 : 0.095),
                "batch_size": .number([16, 32, 64, 128][i % 4]), "hypergradient_beta": .number(1e-4),
            ]
            let r = PBTExplore.explore(base, space: space, settings: settings, rng: rng)
            let lr = r.config["lr"]!.doubleValue!, wd = r.config["weight_decay"]!.doubleValue!
            #expect(lr >= 1e-4 && lr <= 1.0)
            let oldLR = base["lr"]!.doubleValue!
            #expect([oldLR * 0.8, oldLR * 1.2, 1.0].contains(where: { abs($0 - lr) <= 1e-15 }))  // ×factor, clipped
            #expect(wd >= 0 && wd <= 0.1)
            // uniform domain: moved by (f − 1)·range, so 0 can move (×f alone would keep it at 0)
            #expect(abs(abs(wd - base["weight_decay"]!.doubleValue!) - 0.02) < 1e-12 || wd == 0.1 || wd == 0)
            let sizes: [Double] = [16, 32, 64, 128]
            let before = sizes.firstIndex(of: base["batch_size"]!.doubleValue!)!
            let after = sizes.firstIndex(of: r.config["batch_size"]!.doubleValue!)!
            #expect(abs(after - before) == 1)
            let beta = r.config["hypergradient_beta"]!.doubleValue!
            #expect(abs(beta - 0.8e-4) < 1e-18 || abs(beta - 1.2e-4) < 1e-18)
            #expect(r.config["optimizer"] == .string("adamw") && !r.optimizerChanged)
        }
        // Resampling with p = 1 draws from the domain.
        var always = settings
        always.resampleProbability = 1
        let r = PBTExplore.explore(["optimizer": .string("adamw"), "lr": .number(0.5), "weight_decay": .number(0.05), "batch_size": .number(16)], space: space, settings: always, rng: RandomSource(seed: 3))
        #expect(r.changes.values.allSatisfy { $0["how"] == .string("resample") })
    }

    @Test func exploreOptimizerChangesItOnlyWhenAllowedAndRecordsIt() throws {
        let spec = try pbtSpec(exploreOptimizer: true)
        var changed = 0
        for i in 0..<50 {
            let base: [String: JSONValue] = ["optimizer": .string("sgd"), "lr": .number(0.1), "weight_decay": .number(0.01), "batch_size": .number(32)]
            let r = PBTExplore.explore(base, space: spec.search, settings: spec.strategy.pbt!, rng: RandomSource(seed: UInt64(i)))
            if r.optimizerChanged {
                changed += 1
                #expect(r.config["optimizer"] != .string("sgd") && r.changes["optimizer"] != nil)
            }
        }
        #expect(changed > 0)
        let fixed = try pbtSpec(exploreOptimizer: false)
        for i in 0..<50 {
            let r = PBTExplore.explore(["optimizer": .string("sgd"), "lr": .number(0.1)], space: fixed.search, settings: fixed.strategy.pbt!, rng: RandomSource(seed: UInt64(i)))
            #expect(!r.optimizerChanged && r.config["optimizer"] == .string("sgd"))
        }
    }

    /// Async: a member that has just exploited carries its donor's result until its own next
    /// interval finishes; it is no donor meanwhile — its own checkpoint at that step (if any)
    /// was written with its old configuration and seed, which a copy of its new one cannot
    /// restore (found by the e2e async test: "checkpoint belongs to … seed …").
    @Test func aRecipientIsNoDonorUntilItsOwnIntervalFinishes() throws {
        var s = try pbt(pbtSpec(population: 3, steps: 400, sync: false))
        _ = s.start()
        _ = s.handle(.segmentFinished(trial: 1, step: 100, metrics: ["val_loss": 1]))
        let a = s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["val_loss": 5]))
        #expect(exploits(a).map(\.donor) == [1])  // member 0 now ranks with member 1's value
        let b = s.handle(.segmentFinished(trial: 2, step: 100, metrics: ["val_loss": 9]))
        #expect(!exploits(b).contains { $0.donor == 0 }, "\(b)")
        // Once member 0's own interval has finished, it may be a donor again.
        _ = s.handle(.segmentFinished(trial: 0, step: 200, metrics: ["val_loss": 0.5]))
        #expect(s.ownsLatest[0])
    }

    @Test func aMemberWithoutACommittedCheckpointIsNeverADonor() throws {
        // Async: member 0 reports at step 100 while members 1–3 have not finished anything: no donor.
        var s = try pbt(pbtSpec(population: 4, steps: 400, sync: false))
        _ = s.start()
        #expect(s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["val_loss": 5])) == [.scheduleSegment(Segment(trial: 0, start: 100, end: 200, fromCheckpoint: CheckpointRef(trial: 0, step: 100)))])
        // Member 1 is better; member 0's next result is the worst of two → quantile count ⌊2/2⌋=1: 0 exploits 1,
        // from member 1's committed checkpoint at step 100 (one interval behind member 0 is allowed).
        _ = s.handle(.segmentFinished(trial: 1, step: 100, metrics: ["val_loss": 1]))
        let a = s.handle(.segmentFinished(trial: 0, step: 200, metrics: ["val_loss": 4]))
        #expect(exploits(a).map(\.donorCheckpoint) == [CheckpointRef(trial: 1, step: 100)])
        #expect(a.contains(.scheduleSegment(Segment(trial: 0, start: 100, end: 200, fromCheckpoint: CheckpointRef(trial: 1, step: 100)))))
        // Progress: member 0 cannot go back to step 100 again while member 1 is still there.
        let again = s.handle(.segmentFinished(trial: 0, step: 200, metrics: ["val_loss": 4]))
        #expect(exploits(again).isEmpty)
        // Member 2 has no committed checkpoint: never a donor; member 1 at 200 is, past member 0's last exploit.
        _ = s.handle(.segmentFinished(trial: 1, step: 200, metrics: ["val_loss": 1]))
        let b = s.handle(.segmentFinished(trial: 0, step: 300, metrics: ["val_loss": 4]))
        #expect(exploits(b).map(\.donorCheckpoint) == [CheckpointRef(trial: 1, step: 200)])
        // Sync: a crashed member (no checkpoint this generation) is replaced and never chosen as donor.
        var t = try pbt(pbtSpec(population: 4, steps: 300, quantile: 0.5, retries: 0))
        _ = t.start()
        _ = t.handle(.segmentFailed(trial: 0, error: "boom", attempt: 1))
        var out: [StrategyAction] = []
        for m in 1..<4 { out += t.handle(.segmentFinished(trial: m, step: 100, metrics: ["val_loss": Double(m)])) }
        let e = exploits(out)
        #expect(e.contains { $0.recipient == 0 } && !e.contains { $0.donor == 0 })
    }

    @Test func aGenerationCompletesWhenAMemberCrashesPastItsRetriesOrDiverges() throws {
        var s = try pbt(pbtSpec(population: 4, steps: 300, retries: 1))
        _ = s.start()
        let retry = s.handle(.segmentFailed(trial: 1, error: "killed", attempt: 1))
        #expect(retry == [.retry(Segment(trial: 1, start: 0, end: 100, fromCheckpoint: nil), attempt: 2)])
        #expect(s.handle(.segmentFailed(trial: 1, error: "killed", attempt: 2)) == [])  // lost, waits for the barrier
        #expect(s.handle(.trialDiverged(trial: 2, step: 57)) == [])
        _ = s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["val_loss": 2]))
        let barrier = s.handle(.segmentFinished(trial: 3, step: 100, metrics: ["val_loss": 1]))
        let e = exploits(barrier)
        // ranked [3, 0]: the bottom member 0 and the lost members 1 and 2 all copy the top member 3
        #expect(Set(e.map(\.recipient)) == [0, 1, 2])
        #expect(e.allSatisfy { $0.donor == 3 })
        #expect(scheduled(barrier).count == 4)
        // A NaN objective also marks the member lost (replaced at the next barrier).
        _ = s.handle(.segmentFinished(trial: 0, step: 200, metrics: ["val_loss": .nan]))
        var next: [StrategyAction] = []
        for m in 1...3 { next += s.handle(.segmentFinished(trial: m, step: 200, metrics: ["val_loss": Double(m)])) }
        #expect(exploits(next).contains { $0.recipient == 0 })
        var end: [StrategyAction] = []
        for m in 0...3 { end += s.handle(.segmentFinished(trial: m, step: 300, metrics: ["val_loss": Double(4 - m)])) }
        guard case .completeTask(let best)? = end.last else { Issue.record("no completeTask: \(end)"); return }
        #expect(best?.trial == 3 && best?.objective == 1)
    }

    @Test func burnInDelaysTheFirstExploit() throws {
        var s = try pbt(pbtSpec(population: 4, steps: 400, burnIn: 200))
        _ = s.start()
        var out: [StrategyAction] = []
        for m in 0..<4 { out += s.handle(.segmentFinished(trial: m, step: 100, metrics: ["val_loss": Double(m)])) }
        #expect(exploits(out).isEmpty && scheduled(out).count == 4)
        out = []
        for m in 0..<4 { out += s.handle(.segmentFinished(trial: m, step: 200, metrics: ["val_loss": Double(m)])) }
        #expect(exploits(out).map(\.recipient) == [3])
    }

    @Test func asyncExploitTakesTheDonorsLatestCheckpointAndMayJumpAhead() throws {
        var s = try pbt(pbtSpec(population: 4, steps: 400, quantile: 0.5, sync: false))
        _ = s.start()
        _ = s.handle(.segmentFinished(trial: 0, step: 100, metrics: ["val_loss": 1]))
        let a = s.handle(.segmentFinished(trial: 1, step: 100, metrics: ["val_loss": 5]))
        #expect(exploits(a).map { [$0.recipient, $0.donor, $0.donorCheckpoint.step] } == [[1, 0, 100]])
        #expect(s.handle(.segmentFinished(trial: 0, step: 200, metrics: ["val_loss": 1])).count == 1)  // top: continues
        let b = s.handle(.segmentFinished(trial: 2, step: 100, metrics: ["val_loss": 9]))
        let e = try #require(exploits(b).first)
        #expect(e.recipient == 2 && e.donor == 0 && e.donorCheckpoint == CheckpointRef(trial: 0, step: 200))
        #expect(scheduled(b) == [Segment(trial: 2, start: 200, end: 300, fromCheckpoint: CheckpointRef(trial: 0, step: 200))])
    }

    @Test func exploreMovesIntegersByAtLeastOneInsideTheirRange() throws {
        let spec = try pbtSpec(resample: 0)
        let domain = ParameterDomain.intUniform(1, 4)
        for i in 0..<50 {
            let rng = RandomSource(seed: UInt64(i))
            let (v, _) = PBTExplore.perturb(.number(Double(1 + i % 4)), domain, spec.strategy.pbt!, rng)
            let x = try #require(v.doubleValue)
            #expect(x >= 1 && x <= 4 && x == x.rounded())
            #expect(x != Double(1 + i % 4) || i % 4 == 0 || i % 4 == 3)  // moved unless clipped at an end
        }
    }

    @Test func asyncRunsToCompletionWithExploits() throws {
        var s = try pbt(pbtSpec(population: 4, steps: 400, quantile: 0.5, sync: false))
        var queue = scheduled(s.start())
        var exploitCount = 0
        var done = false
        while let seg = queue.first {
            queue.removeFirst()
            let v = Double(seg.trial + 1) * 1000 / Double(seg.end)
            let a = s.handle(.segmentFinished(trial: seg.trial, step: seg.end, metrics: ["val_loss": v]))
            exploitCount += exploits(a).count
            queue += scheduled(a)
            if case .completeTask? = a.last { done = true }
        }
        #expect(done && s.isFinished && exploitCount > 0)
    }

    /// What a restarted daemon does: replay the recorded events (through their JSON form) into
    /// a fresh strategy — it reaches the very same state, async decisions included.
    @Test func replayingTheRecordedEventsRebuildsTheSameState() throws {
        let spec = try pbtSpec(population: 4, steps: 400, quantile: 0.5, sync: false)
        var live = try Strategy.make(for: spec)
        var queue = scheduled(live.start())
        var log: [String] = []
        var step = 0
        while let seg = queue.first {
            queue.removeFirst()
            step += 1
            let e: StrategyEvent = step % 7 == 3
                ? .segmentFailed(trial: seg.trial, error: "crash", attempt: 1)
                : .segmentFinished(trial: seg.trial, step: seg.end, metrics: ["val_loss": sin(Double(step)) + 2])
            log.append(e.recordJSON)
            let a = live.handle(e)
            queue += scheduled(a) + a.compactMap { if case .retry(let s, _) = $0 { s } else { nil } }
        }
        #expect(live.isFinished)
        var rebuilt = try Strategy.make(for: spec)
        _ = rebuilt.start()
        for text in log { _ = rebuilt.handle(try #require(StrategyEvent(recordJSON: text))) }
        guard case .pbt(let a) = live, case .pbt(let b) = rebuilt else { Issue.record("not pbt"); return }
        #expect(a == b)
    }

    @Test func strategyEventsRoundTripBitForBit() {
        let events: [StrategyEvent] = [
            .segmentFinished(trial: 3, step: 200, metrics: ["val_loss": 0.1 + 0.2, "lr": .nan, "x": -.infinity]),
            .segmentFailed(trial: 1, error: "boom \"quoted\"", attempt: 2),
            .trialDiverged(trial: 0, step: 17),
        ]
        for e in events {
            let back = StrategyEvent(recordJSON: e.recordJSON)
            if case .segmentFinished(_, _, let m)? = back, case .segmentFinished(_, _, let orig) = e {
                #expect(m.mapValues(\.bitPattern) == orig.mapValues(\.bitPattern))
            } else {
                #expect(back == e)
            }
        }
        #expect(StrategyEvent(recordJSON: "{}") == nil)
    }
}
