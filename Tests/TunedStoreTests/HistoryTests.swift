import Foundation
import Testing

@testable import TunedStore

@Suite struct HistoryTests {
    @Test func anExploitRecordsLineageAndRestartsTheRecipientFromTheDonorCheckpoint() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 100) },
                now: t0)
            var checkpoints: [TrialID: CheckpointID] = [:]
            while let lease = try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10) {
                let outcome = try await store.commitSegment(
                    lease.segment.id, metrics: [Metric(step: 100, name: "val_loss", value: Double(lease.trial.member))],
                    checkpoint: NewCheckpoint(
                        step: 100, location: .file(path: "/ck/\(lease.trial.id)"), size: 1, checksum: "c"),
                    now: t0)
                checkpoints[lease.trial.id] = outcome.checkpoint
            }
            let trials = try await store.trials(task: taskID)
            #expect(try await store.trialsAwaitingSchedule(task: taskID).count == 2)
            let (donor, recipient) = (trials[0], trials[1])
            let (_, next) = try await store.addLineageEdge(
                NewLineageEdge(
                    task: taskID, step: 100, generation: 1, donor: donor.id, recipient: recipient.id,
                    donorCheckpoint: checkpoints[donor.id], oldConfigJSON: recipient.configJSON,
                    newConfigJSON: config(9), changesJSON: #"{"lr":{"how":"perturb x1.2"}}"#),
                nextSegmentEnd: 200, now: t0)
            #expect(next != nil)
            let edges = try await store.lineage(task: taskID)
            #expect(edges.count == 1 && edges[0].donorTrialID == donor.id && edges[0].recipientTrialID == recipient.id)
            let lease = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            #expect(lease.trial.id == recipient.id && lease.trial.configJSON == config(9))
            #expect(lease.checkpoint?.id == checkpoints[donor.id])
            // The recipient's own old checkpoint is no longer needed; the donor's is.
            let garbage = try await store.unreferencedCheckpoints().map(\.id)
            #expect(garbage == [checkpoints[recipient.id]!])
            try await store.markCheckpointsReleased(garbage)
            #expect(try await store.unreferencedCheckpoints().isEmpty)
        }
    }

    @Test func eventsAndPoliciesRoundTrip() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(demoTask(), trials: [])
            let first = try await store.addEvent(task: taskID, kind: "submitted", message: "task submitted")
            try await store.addEvent(task: taskID, kind: "started", message: "first lease", dataJSON: "{}")
            #expect(try await store.events(task: taskID).map(\.kind) == ["submitted", "started"])
            #expect(try await store.events(task: taskID, after: first).map(\.kind) == ["started"])

            let v1 = try await store.savePolicy(kind: "recommendation", documentJSON: #"{"v":1}"#)
            let v2 = try await store.savePolicy(kind: "recommendation", documentJSON: #"{"v":2}"#)
            #expect(try await store.activePolicy(kind: "recommendation")?.version == v2)
            try await store.activatePolicy(version: v1)
            #expect(try await store.activePolicy(kind: "recommendation")?.documentJSON == #"{"v":1}"#)
            #expect(try await store.policies(kind: "recommendation").filter(\.active).count == 1)
            #expect(try await store.activePolicy(kind: "batch-size-model") == nil)
        }
    }

    @Test func aNaNMetricIsStoredAndNeverRankedBest() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0)) })
            let trials = try await store.trials(task: taskID)
            try await store.appendMetrics([
                MetricRow(trial: trials[0].id, step: 1, name: "val_loss", value: .nan),
                MetricRow(trial: trials[1].id, step: 1, name: "val_loss", value: 3.0),
            ])
            let results = try await store.results(task: taskID)
            #expect(results.best?.trial == trials[1].id)
            #expect(results.trials.last?.finalMetrics["val_loss"]?.isNaN == true)
            #expect(try await store.metrics(trial: trials[0].id).first?.value.isNaN == true)
        }
    }
}
