import Foundation
import Testing

@testable import TunedStore

/// `segment_logs` (migration 0003): one row per failed attempt, read back per task, trial and
/// segment, and each trial's latest reason.
@Suite struct SegmentLogTests {
    @Test func failedAttemptsAreLoggedAndReadBackInOrder() async throws {
        try await withStore { store, _ in
            let task = try await store.createTask(
                demoTask(), trials: (0..<2).map { NewTrial(member: $0, configJSON: config($0), firstSegmentEnd: 100) })
            let trials = try await store.trials(task: task).sorted { $0.member < $1.member }
            let lease0 = try #require(try await store.leaseNextSegment(worker: "w1", leaseDuration: 10))
            let lease1 = try #require(try await store.leaseNextSegment(worker: "w2", leaseDuration: 10))
            let tail = "Traceback (most recent call last):\n  File \"t.py\", line 1\nKeyError: 'lr'"
            try await store.addSegmentLog(
                NewSegmentLog(
                    segment: lease0.segment.id, attempt: 1, diverged: false, reason: "KeyError: 'lr'",
                    error: "python3 exited with status 1", stderrTail: tail, workerLog: "loading", worker: "w1"),
                now: t0)
            try await store.addSegmentLog(
                NewSegmentLog(
                    segment: lease1.segment.id, attempt: 1, diverged: true, reason: "the loss became NaN or infinite at step 40",
                    error: "the loss became NaN or infinite at step 40"),
                now: t0)
            try await store.addSegmentLog(
                NewSegmentLog(segment: lease0.segment.id, attempt: 2, diverged: false, reason: "MemoryError", error: "killed"),
                now: t0)

            let all = try await store.segmentLogs(task: task)
            #expect(all.map(\.attempt) == [1, 1, 2])
            let first = try #require(all.first)
            #expect(first.trial == trials[0].id && first.member == 0 && first.startStep == 0 && first.endStep == 100)
            #expect(first.stderrTail == tail && first.workerLog == "loading" && first.worker == "w1" && !first.diverged)
            #expect(first.createdAt == t0)
            #expect(all[1].diverged && all[1].stderrTail == nil)
            #expect(try await store.segmentLogs(task: task, trial: trials[0].id).map(\.reason) == ["KeyError: 'lr'", "MemoryError"])
            #expect(try await store.segmentLogs(task: task, limit: 1).map(\.id) == [first.id])
            #expect(try await store.segmentLogs(task: task, segment: lease1.segment.id).count == 1)
            let reasons = try await store.latestFailureReasons(task: task)
            #expect(reasons == [trials[0].id: "MemoryError", trials[1].id: "the loss became NaN or infinite at step 40"])
            await #expect(throws: StoreError.self) {
                try await store.addSegmentLog(NewSegmentLog(segment: SegmentID(999), attempt: 1, diverged: false, reason: "x", error: "x"))
            }
        }
    }
}
