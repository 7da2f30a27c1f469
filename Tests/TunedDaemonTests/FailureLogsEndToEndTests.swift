import Foundation
import TunedRPC
import Testing

/// Failures you can see (issue 12, item 4), through the real daemon and the real `tunectl`: a
/// Python program that dies with a traceback shows the traceback's last line in
/// `submit --wait`, `trials` and `logs`, its stderr tail and the worker's lines in `logs`,
/// and the daemon's log names the task, the trial and the reason.
extension DaemonEndToEndTests {
    /// `tunectl ARGS` under a time limit (`timeout 120`), against `socket`.
    func tunectl(_ socket: String, _ args: [String]) throws -> Run {
        try run("/usr/bin/timeout", ["120", Self.productsDirectory.appendingPathComponent("tunectl").path, "--socket", socket] + args)
    }

    @Test func aTracebackIsVisibleThroughSubmitWaitTrialsAndLogs() throws {
        let d = try startDaemon(workers: 1)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let script = d.dir.appendingPathComponent("train.py")
        try """
            import json, os, sys
            print("loading the data", flush=True)
            print("tuned: step=1 val_loss=0.5", flush=True)
            print("a warning on stderr", file=sys.stderr, flush=True)
            config = {k: v for k, v in json.loads(os.environ["TUNED_CONFIG"]).items() if k != "lr"}
            def learning_rate(c):
                return c["lr"]
            learning_rate(config)
            """.write(to: script, atomically: true, encoding: .utf8)
        let taskFile = d.dir.appendingPathComponent("failing.toml")
        try """
            name = "failing-command"

            [workload]
            kind = "command"
            command = ["python3", "\(script.path)"]

            [search]
            optimizer = "sgd"
            lr = { log_uniform = [1e-3, 1e-1] }

            [strategy]
            kind = "random"
            trials = 1
            max_retries = 1

            [budget]
            steps = 10
            seed = 1

            [objective]
            metric = "val_loss"
            mode = "min"
            """.write(to: taskFile, atomically: true, encoding: .utf8)

        // submit --wait: exit 1, the task's status line, then the first failure's reason and
        // the last lines of its stderr.
        let submitted = try tunectl(d.socket, ["submit", taskFile.path, "--wait"])
        #expect(submitted.status == 1, "\(submitted)")
        let id = try #require(Int64(submitted.stdout.split(separator: "\n").first ?? ""), "\(submitted)")
        #expect(submitted.stdout.contains("task \(id) failed"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains(": KeyError: 'lr'\n"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains("last lines of its stderr:\n"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains("  Traceback (most recent call last):"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains("tunectl logs \(id) "), "\(submitted.stdout)")

        // watch on the failed task ends the same way.
        let watched = try tunectl(d.socket, ["watch", "\(id)"])
        #expect(watched.status == 1, "\(watched)")
        #expect(watched.stdout.contains("first failure: trial ") && watched.stdout.contains(": KeyError: 'lr'\n"), "\(watched.stdout)")
        #expect(watched.stdout.contains("  KeyError: 'lr'\n"), "\(watched.stdout)")

        // trials: the failed trial's one-line reason, not "python3 exited with status 1".
        let c = try RPCClient(socketPath: d.socket)
        let rows = try c.call(RPCMethods.TrialList.self, TrialListParams(taskID: id))
        let trial = try #require(rows.first)
        #expect(trial.status == .failed)
        #expect(trial.reason == "KeyError: 'lr'")
        let trials = try tunectl(d.socket, ["trials", "\(id)"])
        #expect(trials.status == 0, "\(trials)")
        #expect(trials.stdout.contains("trial \(trial.trialID) (member 0) failed: KeyError: 'lr'"), "\(trials.stdout)")

        // logs: both attempts (max_retries = 1), each with its reason, error, stderr and worker lines.
        let logs = try c.call(RPCMethods.TrialLogs.self, TrialLogsParams(taskID: id, trialID: trial.trialID))
        #expect(logs.logs.map(\.attempt) == [1, 2], "\(logs)")
        let first = try #require(logs.logs.first)
        #expect(first.reason == "KeyError: 'lr'")
        #expect(first.error == "python3 exited with status 1")
        #expect(first.status == "failed")
        #expect(first.stderrTail?.hasPrefix("a warning on stderr\nTraceback (most recent call last):\n") == true, "\(first)")
        #expect(first.stderrTail?.contains("return c[\"lr\"]") == true, "\(first)")
        #expect(first.workerLog?.contains("loading the data") == true, "\(first)")
        #expect(first.workerLog?.contains("tuned: step=1") != true, "metric lines are metrics, not log lines: \(first)")
        let shown = try tunectl(d.socket, ["logs", "\(id)", "\(trial.trialID)"])
        #expect(shown.status == 0, "\(shown)")
        #expect(shown.stdout.contains("reason: KeyError: 'lr'\nerror:  python3 exited with status 1\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("stderr (last lines):\n  a warning on stderr\n  Traceback (most recent call last):\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("worker lines:\n  loading the data\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("attempt 2"), "\(shown.stdout)")
        let one = try tunectl(d.socket, ["logs", "\(id)", "\(trial.trialID)", "--segment", "\(first.segmentID)"])
        #expect(one.stdout.contains("segment \(first.segmentID) (steps 0–10)"), "\(one.stdout)")
        let none = try tunectl(d.socket, ["logs", "\(id)", "\(trial.trialID)", "--segment", "\(first.segmentID + 1000)"])
        #expect(none.status == 0 && none.stdout == "trial \(trial.trialID) of task \(id) has no failed segment\n", "\(none)")
        let stranger = try tunectl(d.socket, ["logs", "\(id)", "\(trial.trialID + 1000)"])
        #expect(stranger.status == 1, "\(stranger)")
        #expect(stranger.stderr.contains("task \(id) has no trial \(trial.trialID + 1000)"), "\(stranger)")

        // The daemon's log line names the task, the trial and the reason.
        let log = (try? String(contentsOf: d.log, encoding: .utf8)) ?? ""
        #expect(
            log.contains("task \(id) trial \(trial.trialID) segment \(first.segmentID) failed: KeyError: 'lr' (python3 exited with status 1); retried"),
            "\(log)")
    }

    /// A segment whose worker dies (here: the program kills it) is logged too, with how the
    /// worker ended as its reason, once per attempt.
    @Test func aWorkerThatDiesIsLoggedWithHowItEnded() throws {
        let d = try startDaemon(workers: 1, leaseSeconds: 30)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        _ = try runToFailure(d, command: "kill -9 $PPID", timeout: 25)
        let c = try RPCClient(socketPath: d.socket)
        let logs = try c.call(RPCMethods.TrialLogs.self, TrialLogsParams(taskID: 1))
        #expect(logs.logs.map(\.attempt) == [1, 2], "\(logs)")
        #expect(logs.logs.allSatisfy { $0.reason.hasPrefix("worker w1 was killed by signal 9") && $0.workerID == "w1" }, "\(logs)")
        let rows = try c.call(RPCMethods.TrialList.self, TrialListParams(taskID: 1))
        #expect(rows.first?.reason?.hasPrefix("worker w1 was killed by signal 9") == true, "\(rows)")
    }
}
