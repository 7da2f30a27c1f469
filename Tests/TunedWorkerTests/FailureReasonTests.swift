import Testing
import TunedRPC
@testable import TunedWorker

/// The one-line reason of a failed segment and the bounded tails the worker sends with it.
@Suite struct FailureReasonTests {
    @Test func aPythonTracebackGivesItsExceptionLine() {
        let tail = """
            loading…
            Traceback (most recent call last):
              File "train.py", line 8, in <module>
                learning_rate(config)
              File "train.py", line 7, in learning_rate
                return c["lr"]
                       ~^^^^^^
            KeyError: 'lr'

            """
        #expect(FailureReason.fromStderr(tail) == "KeyError: 'lr'")
        // A chained exception: the last traceback's line; output after it does not hide it.
        let chained = """
            Traceback (most recent call last):
              File "a.py", line 1, in <module>
            ValueError: bad
            During handling of the above exception, another exception occurred:
            Traceback (most recent call last):
              File "a.py", line 3, in <module>
            RuntimeError: worse
            exiting
            """
        #expect(FailureReason.fromStderr(chained) == "RuntimeError: worse")
    }

    @Test func otherwiseAFatalErrorOrTheLastLineOrTheError() {
        #expect(FailureReason.fromStderr("x\nFatal error: out of bounds\nbacktrace…\n") == "Fatal error: out of bounds")
        #expect(FailureReason.fromStderr("step 3\n   CUDA error: out of memory  \n\n") == "CUDA error: out of memory")
        #expect(FailureReason.fromStderr("\n \n") == nil)
        #expect(FailureReason.fromStderr(nil) == nil)
        #expect(FailureReason.derive(error: "python3 exited with status 1", stderrTail: nil) == "python3 exited with status 1")
        #expect(FailureReason.fromError("first\nsecond") == "first")
        let long = String(repeating: "x", count: 1000)
        #expect(FailureReason.fromError(long).count == FailureReason.maxLength && FailureReason.fromError(long).hasSuffix("…"))
    }

    @Test func tailsKeepTheLastWholeLinesWithinTheBounds() {
        let text = (0..<120).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let kept = LineTail.bounded(text)
        #expect(kept.split(separator: "\n").count == 50 && kept.hasPrefix("line 70\n") && kept.hasSuffix("line 119"))
        let wide = (0..<40).map { "\($0) " + String(repeating: "y", count: 500) }.joined(separator: "\n")
        let kept2 = LineTail.bounded(wide)
        #expect(kept2.utf8.count <= 8192 && kept2.hasPrefix("24 ") && kept2.hasSuffix("y"))
        // One line longer than the byte bound keeps its end.
        #expect(LineTail.bounded(String(repeating: "z", count: 9000) + "END").utf8.count == 8192)
    }

    @Test func builtInFailuresSendTheirErrorAsTheReason() {
        let r = SegmentResult(outcome: .failed(error: "[workload] dataset: no such file /x.csv\nmore", stderrTail: nil))
        let p = r.finishParams(workerID: "w", segmentID: 1)
        #expect(p.reason == "[workload] dataset: no such file /x.csv" && p.workerLog == nil)
        let d = SegmentResult(outcome: .diverged(step: 40)).finishParams(workerID: "w", segmentID: 1)
        #expect(d.status == .diverged && d.reason == "the loss became NaN or infinite at step 40")
        let ok = SegmentResult(outcome: .ok(CheckpointRef(path: "/c", step: 1, checksum: "sha256:0", size: 0)))
        #expect(ok.finishParams(workerID: "w", segmentID: 1).reason == nil)
    }
}
