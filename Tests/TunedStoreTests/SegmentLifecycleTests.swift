import Foundation
import Testing

@testable import TunedStore

@Suite struct SegmentLifecycleTests {
    @Test func createLeaseCommitResultsRoundTrip() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: (0..<3).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 100) },
                now: t0)
            #expect(try await store.task(taskID)?.status == .queued)
            var leases: [SegmentLease] = []
            while let lease = try await store.leaseNextSegment(worker: "w1", now: t0, leaseDuration: 10) {
                #expect(lease.segment.status == .leased)
                #expect(lease.trial.status == .pending || lease.trial.status == .running)
                #expect(lease.checkpoint == nil)
                #expect(lease.taskSpecJSON.contains("mlp"))
                leases.append(lease)
            }
            #expect(leases.count == 3)
            #expect(try await store.task(taskID)?.status == .running)
            #expect(try await store.trials(task: taskID).allSatisfy { $0.status == .running })

            // Member m's val_loss ends at 0.5 - 0.1 m: member 2 is best.
            for (m, lease) in leases.enumerated() {
                let metrics = (1...100).flatMap { step in
                    [
                        Metric(step: step, name: "val_loss", value: 1.0 - 0.1 * Double(m) - 0.005 * Double(step)),
                        Metric(step: step, name: "train_loss", value: 0.9),
                    ]
                }
                let outcome = try await store.commitSegment(
                    lease.segment.id, worker: "w1", metrics: metrics,
                    checkpoint: NewCheckpoint(
                        step: 100, location: .file(path: "/ck/\(m)-100"), size: 42, checksum: "sha256:ab"),
                    trialUpdate: TrialProgress(nextSegmentEnd: 200), now: t0)
                #expect(outcome.metricsInserted == 200)
                #expect(outcome.nextSegment != nil)
            }
            let results = try await store.results(task: taskID)
            let best = try #require(results.best)
            #expect(best.member == 2)
            #expect(abs(try #require(best.bestValue) - (1.0 - 0.2 - 0.5)) < 1e-12)
            #expect(best.bestStep == 100)
            #expect(best.finalMetrics["train_loss"] == 0.9)
            #expect(best.stepsDone == 100)
            #expect(results.trials.map(\.member) == [2, 1, 0])

            // The successor segment starts from the committed checkpoint.
            let next = try #require(try await store.leaseNextSegment(worker: "w2", now: t0, leaseDuration: 10))
            #expect(next.segment.startStep == 100 && next.segment.endStep == 200)
            #expect(next.checkpoint?.path?.hasPrefix("/ck/") == true)
            #expect(next.checkpoint?.step == 100)
        }
    }

    @Test func aDuplicateCommitOfTheSameMetricsLeavesExactlyOneRowEach() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 50)], now: t0)
            let lease = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 10))
            let metrics = (0..<50).map { Metric(step: $0, name: "val_loss", value: Double($0)) }
            // Streamed while running (worker.report) …
            let streamed = try await store.appendMetrics(
                metrics.prefix(30).map {
                    MetricRow(trial: lease.trial.id, step: $0.step, name: $0.name, value: $0.value)
                })
            #expect(streamed == 30)
            // … then committed in full, then the commit is retransmitted.
            let first = try await store.commitSegment(
                lease.segment.id, worker: "w", metrics: metrics, checkpoint: nil, now: t0)
            #expect(first.metricsInserted == 20)
            let second = try await store.commitSegment(
                lease.segment.id, worker: "w", metrics: metrics, checkpoint: nil, now: t0)
            #expect(second.alreadyCommitted)
            // A replay through appendMetrics (e.g. a re-run segment reporting again) adds nothing.
            let replay = try await store.appendMetrics(
                metrics.map { MetricRow(trial: lease.trial.id, step: $0.step, name: $0.name, value: $0.value + 100) })
            #expect(replay == 0)
            let stored = try await store.metrics(trial: lease.trial.id)
            #expect(stored.count == 50)
            #expect(Set(stored.map(\.step)).count == 50)
            #expect(stored.allSatisfy { $0.value == Double($0.step) }, "the first committed value wins")
            _ = taskID
        }
    }

    @Test func anExpiredLeaseIsRequeuedWithOneMoreAttemptAndItsTrialIsNotLeftRunning() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 50)], now: t0)
            let lease = try #require(try await store.leaseNextSegment(worker: "dead", now: t0, leaseDuration: 10))
            #expect(try await store.expireLeases(now: t0.addingTimeInterval(5)).isEmpty)
            try await store.renewLease(
                lease.segment.id, worker: "dead", now: t0.addingTimeInterval(5), leaseDuration: 10)
            #expect(
                try await store.expireLeases(now: t0.addingTimeInterval(14)).isEmpty,
                "the renewal moved the expiry to t0+15")
            let expired = try await store.expireLeases(now: t0.addingTimeInterval(15))
            #expect(expired == [lease.segment.id])
            let trial = try #require(try await store.trials(task: taskID).first)
            #expect(trial.status == .pending)
            // The dead worker can no longer renew; another worker gets the segment, attempt 2.
            await #expect(throws: StoreError(.leaseLost, "")) {
                try await store.renewLease(
                    lease.segment.id, worker: "dead", now: t0.addingTimeInterval(16), leaseDuration: 10)
            }
            let again = try #require(
                try await store.leaseNextSegment(worker: "alive", now: t0.addingTimeInterval(16), leaseDuration: 10))
            #expect(again.segment.id == lease.segment.id)
            #expect(again.segment.attempts == 1)
            // The dead worker's late commit is refused while "alive" holds the lease.
            await #expect(throws: StoreError(.leaseLost, "")) {
                try await store.commitSegment(lease.segment.id, worker: "dead", metrics: [], checkpoint: nil)
            }
        }
    }

    @Test func leasesThatExhaustMaxAttemptsFailTheSegmentAndTheTrial() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 50)], now: t0)
            var now = t0
            for _ in 0..<3 {
                _ = try #require(try await store.leaseNextSegment(worker: "w", now: now, leaseDuration: 1))
                now = now.addingTimeInterval(2)
                try await store.expireLeases(now: now, maxAttempts: 3)
            }
            #expect(try await store.leaseNextSegment(worker: "w", now: now, leaseDuration: 1) == nil)
            let trial = try #require(try await store.trials(task: taskID).first)
            #expect(trial.status == .failed)
            #expect(trial.error?.contains("3 times") == true)
        }
    }

    @Test func recoverAfterRestartRequeuesAnUncommittedLeaseFromTheLastCommittedCheckpoint() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            var trialID: TrialID?
            var checkpointID: CheckpointID?
            do {
                let store = try Store(path: path)
                _ = try await store.createTask(
                    demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 100)], now: t0)
                let first = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 60))
                trialID = first.trial.id
                let outcome = try await store.commitSegment(
                    first.segment.id, metrics: [Metric(step: 99, name: "val_loss", value: 0.5)],
                    checkpoint: NewCheckpoint(step: 100, location: .blob(Data([1, 2, 3])), size: 3, checksum: "crc:1"),
                    trialUpdate: TrialProgress(nextSegmentEnd: 200), now: t0)
                checkpointID = outcome.checkpoint
                // The second segment is leased, reports some metrics, and the daemon dies.
                let second = try #require(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 60))
                try await store.appendMetrics([
                    MetricRow(
                        trial: second.trial.id, step: 150, name: "val_loss", value: 0.4, segment: second.segment.id)
                ])
            }
            let store = try Store(path: path)
            let requeued = try await store.recoverAfterRestart(now: t0.addingTimeInterval(1))
            #expect(requeued.count == 1)
            let id = try #require(trialID)
            let trial = try #require(try await store.trial(id))
            #expect(trial.status == .pending)
            #expect(trial.stepsDone == 100)
            #expect(trial.checkpointID == checkpointID)
            let lease = try #require(
                try await store.leaseNextSegment(worker: "w2", now: t0.addingTimeInterval(2), leaseDuration: 60))
            #expect(lease.segment.startStep == 100)
            #expect(lease.segment.attempts == 1)
            #expect(lease.checkpoint?.id == checkpointID)
            #expect(lease.checkpoint?.blob == Data([1, 2, 3]))
            // Committed metrics (including the streamed one) are all there, once.
            #expect(try await store.metricCount(trial: trial.id) == 2)
        }
    }

    @Test func cancellingATaskStopsItsQueuedWork() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 10) })
            try await store.setTaskStatus(taskID, .cancelled, now: t0)
            #expect(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 5) == nil)
            let task = try #require(try await store.task(taskID))
            #expect(task.status == .cancelled && task.finishedAt != nil)
            #expect(try await store.trials(task: taskID).allSatisfy { $0.status == .stopped })
        }
    }

    @Test func aPausedTrialIsNotLeasedUntilItIsPendingAgain() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(
                demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 10)])
            let trial = try #require(try await store.trials(task: taskID).first)
            try await store.setTrialStatus(trial.id, .paused, now: t0)
            #expect(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 5) == nil)
            try await store.setTrialStatus(trial.id, .pending, now: t0)
            #expect(try await store.leaseNextSegment(worker: "w", now: t0, leaseDuration: 5)?.trial.id == trial.id)
        }
    }
}
