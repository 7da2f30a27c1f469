import Testing
import TunedCLI
import TunedRPC

/// What `tunectl trials`, `logs`, `submit --wait` and `watch` print about failures.
@Suite struct RenderLogsTests {
    static let log = SegmentLog(
        trialID: 9, member: 0, segmentID: 14, startStep: 0, endStep: 10, attempt: 2, status: "failed",
        reason: "KeyError: 'lr'", error: "python3 exited with status 1",
        stderrTail: (1...12).map { "line \($0)" }.joined(separator: "\n") + "\nKeyError: 'lr'\n", workerLog: "loading",
        workerID: "w1", at: 0)

    @Test func failedTrialsAreListedWithTheirReason() {
        let rows = [
            TrialRow(trialID: 9, member: 0, status: .failed, config: .object([:]), stepsDone: 0, finalMetrics: [:]),
            TrialRow(trialID: 10, member: 1, status: .completed, config: .object([:]), stepsDone: 10, finalMetrics: [:]),
            TrialRow(trialID: 11, member: 2, status: .diverged, config: .object([:]), stepsDone: 0, finalMetrics: [:]),
        ]
        var withReasons = rows
        withReasons[0].reason = "KeyError: 'lr'"
        withReasons[2].reason = "the loss became NaN or infinite at step 40"
        #expect(Render.failures(withReasons, taskID: 5) == """

            failed trials (stderr and worker lines: tunectl logs 5 TRIAL):
              trial 9 (member 0) failed: KeyError: 'lr'
              trial 11 (member 2) diverged: the loss became NaN or infinite at step 40

            """)
        #expect(Render.failures([rows[1]], taskID: 5) == "")
        #expect(Render.failures([rows[0]], taskID: 5).contains("trial 9 (member 0) failed: no reason recorded"))
    }

    @Test func theFirstFailureShowsTheLastTenStderrLines() {
        let text = Render.firstFailure(Self.log, taskID: 5)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "first failure: trial 9 (member 0), segment 14 (steps 0–10), failed: KeyError: 'lr'")
        #expect(lines[1] == "last lines of its stderr:")
        #expect(lines[2] == "  line 4" && lines[11] == "  KeyError: 'lr'")
        #expect(lines[12] == "all of it: tunectl logs 5 9")
    }

    @Test func logsPrintEveryPart() {
        let text = Render.segmentLogs(TrialLogs(taskID: 5, logs: [Self.log]), trialID: 9)
        #expect(text.contains("segment 14 (steps 0–10), attempt 2 on w1,"))
        #expect(text.contains("reason: KeyError: 'lr'\nerror:  python3 exited with status 1\nstderr (last lines):\n  line 1\n"))
        #expect(text.hasSuffix("  KeyError: 'lr'\nworker lines:\n  loading\n"))
        #expect(Render.segmentLogs(TrialLogs(taskID: 5, logs: []), trialID: nil) == "task 5 has no failed segment\n")
    }
}
