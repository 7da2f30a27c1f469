import Foundation
import Testing

@testable import TunedStore

@Suite struct StrategyStepTests {
    /// Two members finish generation 0; the second commit carries the barrier: an exploit of
    /// member 0 into member 1 and both members' next segments — all in one transaction.
    @Test func aStrategyStepCommitsTheSegmentTheEventAndEveryEffectTogether() async throws {
        try await withStore { store, _ in
            let task = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 100) }, now: t0)
            let a = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            let b = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            func ck(_ m: Int) -> NewCheckpoint { NewCheckpoint(step: 100, location: .file(path: "/ck/\(m)"), size: 1, checksum: "x") }
            #expect(try await store.commitStrategyStep(StrategyStep(
                task: task, segment: a.segment.id, worker: "w",
                end: .committed(metrics: [Metric(step: 100, name: "val_loss", value: 0.5)], checkpoint: ck(0)),
                eventTrial: a.trial.id, eventJSON: "{\"e\":1}", effects: []), now: t0))
            let effects: [StrategyEffect] = [
                .exploit(recipient: b.trial.id, donor: a.trial.id, donorStep: 100, generation: 1, oldConfigJSON: config(1),
                         newConfigJSON: #"{"optimizer":"adamw","lr":0.0012}"#, changesJSON: #"{"lr":{}}"#),
                .addSegment(trial: a.trial.id, start: 100, end: 200, configJSON: nil, fromTrial: a.trial.id, fromStep: 100),
                .addSegment(trial: b.trial.id, start: 100, end: 200, configJSON: nil, fromTrial: a.trial.id, fromStep: 100),
            ]
            let step = StrategyStep(
                task: task, segment: b.segment.id, worker: "w",
                end: .committed(metrics: [Metric(step: 100, name: "val_loss", value: 0.9)], checkpoint: ck(1)),
                eventTrial: b.trial.id, eventJSON: "{\"e\":2}", effects: effects)
            #expect(try await store.commitStrategyStep(step, now: t0))
            #expect(try await store.commitStrategyStep(step, now: t0) == false)  // a duplicate changes nothing
            #expect(try await store.strategyEvents(task: task) == ["{\"e\":1}", "{\"e\":2}"])
            let edges = try await store.lineage(task: task)
            #expect(edges.count == 1 && edges[0].donorTrialID == a.trial.id && edges[0].recipientTrialID == b.trial.id)
            let donorCk = try #require(edges[0].donorCheckpointID)
            let recipient = try #require(try await store.trial(b.trial.id))
            #expect(recipient.checkpointID == donorCk && recipient.configJSON.contains("0.0012") && recipient.generation == 1)
            // Both next segments start from member 0's checkpoint; the recipient's with its new config.
            let n1 = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            let n2 = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            #expect(n1.checkpoint?.id == donorCk && n2.checkpoint?.id == donorCk)
            #expect(n2.segment.configJSON.contains("0.0012"))
            // GC: member 1's own checkpoint at 100 is needed by nobody; member 0's is (lineage, segments).
            let free = try await store.unreferencedCheckpoints().map(\.path)
            #expect(free == ["/ck/1"])
        }
    }

    /// An effect that cannot be applied (a donor with no checkpoint at that step) rolls the
    /// whole step back: the segment stays leased, no event, no lineage.
    @Test func aFailingEffectRollsTheWholeStepBack() async throws {
        try await withStore { store, _ in
            let task = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 100) }, now: t0)
            let a = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            let b = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            let step = StrategyStep(
                task: task, segment: a.segment.id, worker: "w",
                end: .committed(metrics: [Metric(step: 100, name: "val_loss", value: 0.5)],
                                checkpoint: NewCheckpoint(step: 100, location: .file(path: "/ck/0"), size: 1, checksum: "x")),
                eventTrial: a.trial.id, eventJSON: "{}",
                effects: [.exploit(recipient: a.trial.id, donor: b.trial.id, donorStep: 100, generation: 1, oldConfigJSON: "{}",
                                   newConfigJSON: "{}", changesJSON: "{}")])
            await #expect(throws: StoreError.self) { try await store.commitStrategyStep(step, now: t0) }
            #expect(try await store.strategyEvents(task: task).isEmpty)
            #expect(try await store.lineage(task: task).isEmpty)
            #expect(try await store.metrics(trial: a.trial.id).isEmpty)
            #expect(try await store.trial(a.trial.id)?.status == .running)
        }
    }
}
