import Foundation
import GRDB
import Testing

@testable import TunedStore

#if canImport(Glibc)
    import Glibc
#endif

/// A real process crash: the test binary re-runs itself with a filter that selects only
/// ``childWritesThenIsKilled()``, which commits, starts one more transaction and SIGKILLs
/// itself in the middle of it. The parent then reopens the store.
@Suite struct CrashDurabilityTests {
    static let childVariable = "TUNED_STORE_CRASH_CHILD_STORE"
    static let committedMetrics = 120  // 100 by commitSegment + 20 by appendMetrics

    @Test func rowsCommittedBeforeAKill9ArePresentExactlyOnceAndTheInterruptedTransactionIsNot() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["--testing-library", "swift-testing", "--filter", "childWritesThenIsKilled"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.childVariable] = path
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)
            #expect(child.terminationStatus == SIGKILL)

            let store = try Store(path: path)
            let task = try #require(try await store.listTasks().first)
            let trial = try #require(try await store.trials(task: task.id).first)
            #expect(try await store.metricCount(trial: trial.id) == Self.committedMetrics)
            #expect(trial.stepsDone == 100)
            #expect(trial.checkpointID != nil)
            // The lease the child held when it died is recovered; nothing stays running.
            let requeued = try await store.recoverAfterRestart()
            #expect(requeued.count == 1)
            #expect(try await store.trial(trial.id)?.status == .pending)
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil))
    func childWritesThenIsKilled() async throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
        let store = try Store(path: path)
        try await store.createTask(
            demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 100)])
        let lease = try #require(try await store.leaseNextSegment(worker: "child", leaseDuration: 60))
        try await store.commitSegment(
            lease.segment.id, worker: "child",
            metrics: (0..<100).map { Metric(step: $0, name: "val_loss", value: 1 / Double($0 + 1)) },
            checkpoint: NewCheckpoint(step: 100, location: .file(path: "/ck/1"), size: 1, checksum: "c"),
            trialUpdate: TrialProgress(nextSegmentEnd: 200))
        let next = try #require(try await store.leaseNextSegment(worker: "child", leaseDuration: 60))
        try await store.appendMetrics(
            (100..<120).map { MetricRow(trial: next.trial.id, step: $0, name: "val_loss", value: 0.01) })
        // Dies inside a write transaction that has inserted 50 more rows but not committed.
        try await store.write { db in
            for step in 120..<170 {
                try db.execute(
                    sql: "INSERT INTO metrics (trial_id, name, step, value) VALUES (?, 'val_loss', ?, 0.0)",
                    arguments: [next.trial.id, step])
            }
            kill(getpid(), SIGKILL)
        }
        Issue.record("the child should have died")
    }
}
