import Foundation
import Testing
import TunedOptim
import TunedRPC
@testable import TunedWorker

@Suite struct CommandSegmentTests {
    static let trainPy = ["python3", Fixture.path("train_ok.py")]
    static let config: RPCValue = .object(["lr": .double(0.1), "optimizer": .string("sgd")])

    func state(_ dir: String) throws -> [String: JSONValue] {
        try #require(JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/state.json"))).objectValue)
    }

    @Test func aProgramThatFollowsTheContractSucceedsWithMetricsAndCheckpoint() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let l = lease(
            workload: commandWorkload(Self.trainPy, env: ["EXTRA": "yes"]), config: Self.config, end: 12,
            checkpointDir: s.path("ck"), strategy: .object(["seed": .int(99)]), task: 5, trial: 6, segment: 7)
        let (r, c) = run(l, in: s.url)
        let ck = try #require(r.outcome.checkpoint, "\(r.outcome) \(r.stderrTail ?? "")")
        #expect(ck.path == s.path("ck") && ck.step == 12)
        let st = try state(s.path("ck"))
        #expect(ck.size == Int64(try Data(contentsOf: URL(fileURLWithPath: s.path("ck/state.json"))).count))
        #expect(ck.checksum == (try CheckpointDigest.of(directory: s.url.appendingPathComponent("ck"))).checksum)
        // Steps 5, 10 and the last (12); values parsed exactly as printed (repr round-trips).
        #expect(c.metrics.map(\.step) == [5, 5, 10, 10, 12, 12])
        #expect(c.metrics.map(\.name) == ["train_loss", "lr", "train_loss", "lr", "train_loss", "lr"])
        var w = 0.0
        for _ in 0..<12 { w -= 0.1 * 2 * (w - 3) }
        #expect(c.metrics[4].value == (w - 3) * (w - 3))
        #expect(st["w"] == .number(w))
        #expect(c.logs.contains("starting 0 -> 12"))
        // The environment of the contract.
        let env = try #require(st["env"]?.objectValue)
        #expect(env["TUNED_TASK"] == .string("5") && env["TUNED_TRIAL"] == .string("6") && env["TUNED_SEGMENT"] == .string("7"))
        #expect(env["TUNED_SEED"] == .string("99") && env["TUNED_START_STEP"] == .string("0") && env["TUNED_END_STEP"] == .string("12"))
        #expect(env["TUNED_RESTORE_DIR"] == .string("") && env["OPENBLAS_NUM_THREADS"] == .string("1") && env["EXTRA"] == .string("yes"))
        #expect(st["config"] == .object(["lr": .number(0.1), "optimizer": .string("sgd")]))
        #expect(r.warningCount == 0)
    }

    @Test func aResumedProgramGetsTheRestoreDirectoryAndMatchesOneRun() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let wl = commandWorkload(Self.trainPy, env: ["OPENBLAS_NUM_THREADS": "2"])
        let (a, _) = run(lease(workload: wl, config: Self.config, end: 10, checkpointDir: s.path("a")), in: s.url)
        #expect(a.outcome.isOK)
        let (b, bm) = run(lease(workload: wl, config: Self.config, start: 10, end: 20, restore: s.path("a"), checkpointDir: s.path("b")), in: s.url)
        #expect(b.outcome.isOK, "\(b.outcome)")
        let (whole, wm) = run(lease(workload: wl, config: Self.config, end: 20, checkpointDir: s.path("w")), in: s.url)
        #expect(whole.outcome.isOK)
        let st = try state(s.path("b"))
        #expect(st["restored_step"] == .number(10))
        #expect(st["env"]?["TUNED_RESTORE_DIR"] == .string(s.path("a")))
        #expect(st["env"]?["OPENBLAS_NUM_THREADS"] == .string("2"))  // the workload's env wins
        #expect(st["w"] == (try state(s.path("w")))["w"])
        #expect(bm.metrics.map(\.step) == [15, 15, 20, 20])
        #expect(bm.metrics == Array(wm.metrics.suffix(4)))
    }

    @Test func aNonZeroExitFailsWithStatusAndStderrTail() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", Fixture.path("fail.sh")]), end: 10, checkpointDir: s.path("ck")), in: s.url)
        let f = try #require(r.outcome.failure, "\(r.outcome)")
        #expect(f.error.contains("exited with status 3"))
        // The tail is the last 50 whole lines (at most 8 KiB): noise lines 152…199 and the traceback.
        let tail = try #require(f.stderrTail)
        let lines = tail.split(separator: "\n")
        #expect(lines.count == 50 && tail.utf8.count <= 8192)
        #expect(lines.first?.hasPrefix("noise line 152: ") == true, "\(lines.first ?? "")")
        #expect(tail.hasSuffix("Traceback (most recent call last):\nValueError: learning rate must be positive"))
        #expect(c.metrics == [MetricPoint(step: 1, name: "loss", value: 0.5)])
        #expect(r.reason == "ValueError: learning rate must be positive")
        let finish = r.finishParams(workerID: "w", segmentID: 3)
        #expect(finish.status == .failed && finish.stderrTail == tail && finish.error == f.error)
        #expect(finish.reason == "ValueError: learning rate must be positive")
    }

    @Test func garbageBetweenMetricLinesIsIgnoredAndCounted() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", Fixture.path("garbage.sh")]), end: 40, checkpointDir: s.path("ck")), in: s.url)
        // No checkpoint files, but step=40 (END_STEP) was reported: a stateless program is ok.
        let ck = try #require(r.outcome.checkpoint, "\(r.outcome)")
        #expect(ck.size == 0)
        let rows = c.metrics.map { "\($0.step) \($0.name)=\($0.value)" }
        #expect(rows == [
            "10 train_loss=0.9", "10 val_loss=1.25", "10 lr=0.01",
            "20 train_loss=0.5", "20 val_accuracy=0.8", "20 gradient_noise_scale=12.5",
            "30 train_loss=0.25", "30 val_loss=0.1", "30 lr=-inf", "30 extra=nan",
            "40 train_loss=0.125",
        ])
        #expect(r.warningCount == 9, "\(r.warnings)")
        #expect(r.warnings.contains { $0.contains("'bogus'") })
        #expect(c.logs.contains("loading data...") && c.logs.contains("no newline yet, now"))
        #expect(c.logs.contains("Epoch 1/3 [=====>    ] 50%"))
    }

    @Test func anEmptyCheckpointWithoutReachingEndStepFails() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let wl = commandWorkload(["/bin/sh", Fixture.path("stateless.sh")], env: ["REPORT": "7"])
        let (r, _) = run(lease(workload: wl, end: 10, checkpointDir: s.path("ck")), in: s.url)
        #expect(r.outcome.failure?.error.contains("wrote nothing to TUNED_CHECKPOINT_DIR") == true, "\(r.outcome)")
        #expect(r.outcome.failure?.error.contains("step 7") == true)
    }

    @Test func aNonFiniteLossIsDivergenceAndStopsTheProgram() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let t0 = Date()
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", Fixture.path("diverge.sh")]), end: 10, checkpointDir: s.path("ck")), in: s.url)
        #expect(r.outcome == .diverged(step: 3))
        #expect(Date().timeIntervalSince(t0) < 10)
        #expect(c.metrics.count == 4 && c.metrics[2].value == .infinity && c.metrics[3].value.isNaN)
    }

    @Test func aHangingProgramIsKilledAtTheWallClockLimit() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let runner = SegmentRunner(wallClockLimit: 0.5, killGracePeriod: 0.3)
        let t0 = Date()
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", Fixture.path("hang.sh")]), end: 10, checkpointDir: s.path("ck")), runner: runner, in: s.url)
        let elapsed = Date().timeIntervalSince(t0)
        #expect(r.outcome == .timedOut(limitSeconds: 0.5, stderrTail: nil), "\(r.outcome)")
        #expect(elapsed >= 0.5 && elapsed < 5, "took \(elapsed) s")
        #expect(c.metrics.count == 1)
        let finish = r.finishParams(workerID: "w", segmentID: 3)
        #expect(finish.status == .failed && finish.error?.contains("wall-clock limit") == true)
    }

    @Test func cancellingKillsTheWholeProcessGroup() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let pidFile = s.path("grandchild.pid")
        let c = Collected()
        // A long grace period: the program must end on SIGTERM (its signal mask is empty even
        // though the runner's thread blocks signals), not wait for SIGKILL.
        var runner = SegmentRunner(killGracePeriod: 30)
        runner.log = { c.log($0) }
        let t0 = Date()
        let r = runner.run(
            lease: lease(workload: commandWorkload(["/bin/sh", Fixture.path("spawn.sh")], env: ["PID_FILE": pidFile]), end: 10, checkpointDir: s.path("ck")),
            workDirectory: s.url, onMetrics: { c.add($0) }, isCancelled: { !c.metrics.isEmpty })
        #expect(r.outcome == .cancelled)
        #expect(Date().timeIntervalSince(t0) < 10)
        let text = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(text))
        // The grandchild `sleep` is gone (or a zombie waiting for init to reap it).
        var alive = true
        for _ in 0..<40 {
            alive = Self.isRunning(pid)
            if !alive { break }
            usleep(50_000)
        }
        #expect(!alive, "grandchild \(pid) survived the cancel")
    }

    /// A program that exits 0 but leaves a background process in its group: the runner still
    /// sees the exit promptly and kills the straggler.
    @Test func aBackgroundProcessLeftBehindIsKilledAndDoesNotHideTheExit() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let pidFile = s.path("bg.pid")
        let script = "sleep 1000 & echo $! > \"$PID_FILE\"; echo \"tuned: step=$TUNED_END_STEP objective=1\"; exit 0"
        let t0 = Date()
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", "-c", script], env: ["PID_FILE": pidFile]), end: 4, checkpointDir: s.path("ck")), in: s.url)
        #expect(r.outcome.isOK, "\(r.outcome)")
        #expect(Date().timeIntervalSince(t0) < 4)
        #expect(c.metrics == [MetricPoint(step: 4, name: "objective", value: 1)])
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<40 {
            alive = Self.isRunning(pid)
            if !alive { break }
            usleep(50_000)
        }
        #expect(!alive, "background process \(pid) survived")
    }

    /// A process that leaves the group (setsid) and keeps the program's descriptors open
    /// cannot hide the exit for more than 5 s; its status is read from /proc.
    @Test func anEscapedProcessDelaysTheOutcomeByAtMostFiveSeconds() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let pidFile = s.path("escaped.pid")
        let script = "setsid sleep 60 & echo $! > \"$PID_FILE\"; echo \"tuned: step=1 loss=1\"; exit 4"
        let t0 = Date()
        let (r, c) = run(lease(workload: commandWorkload(["/bin/sh", "-c", script], env: ["PID_FILE": pidFile]), end: 4, checkpointDir: s.path("ck")), in: s.url)
        let elapsed = Date().timeIntervalSince(t0)
        if let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") {
            kill(pid, SIGKILL)
        }
        #expect(r.outcome.failure?.error.contains("exited with status 4") == true, "\(r.outcome)")
        #expect(elapsed > 4.5 && elapsed < 15, "took \(elapsed) s")
        #expect(c.metrics.count == 1)
        #expect(c.logs.contains { $0.contains("a process outside its group") })
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    @Test func configurationErrorsOfTheWorkloadAreReported() {
        let s = Scratch()
        defer { s.cleanup() }
        let (r1, _) = run(lease(workload: .object(["kind": .string("command")]), end: 1, checkpointDir: s.path("ck")), in: s.url)
        #expect(r1.outcome.failure?.error.contains("needs 'command'") == true)
        let (r2, _) = run(lease(workload: commandWorkload(["no-such-program-xyz"]), end: 1, checkpointDir: s.path("ck")), in: s.url)
        #expect(r2.outcome.failure?.error.contains("'no-such-program-xyz' not found in PATH") == true, "\(r2.outcome)")
        let (r3, _) = run(lease(workload: commandWorkload(["/bin/sh", "-c", "exit 0"], workdir: "missing-dir"), end: 1, checkpointDir: s.path("ck")), in: s.url)
        #expect(r3.outcome.failure?.error.contains("missing-dir is not a directory") == true, "\(r3.outcome)")
        let (r4, _) = run(lease(workload: commandWorkload(["/bin/sh", "-c", "kill -SEGV $$"]), end: 1, checkpointDir: s.path("ck")), in: s.url)
        #expect(r4.outcome.failure?.error.contains("killed by signal 11") == true, "\(r4.outcome)")
    }

    @Test func staleFilesOfAnEarlierAttemptAreRemovedFirst() throws {
        let s = Scratch()
        defer { s.cleanup() }
        try FileManager.default.createDirectory(atPath: s.path("ck"), withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: URL(fileURLWithPath: s.path("ck/old.bin")))
        let (r, _) = run(lease(workload: commandWorkload(Self.trainPy), config: Self.config, end: 5, checkpointDir: s.path("ck")), in: s.url)
        #expect(r.outcome.isOK)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path("ck")) == ["state.json"])
    }
}

extension CommandSegmentTests {
    /// The Python example of docs/COMMAND_WORKLOADS.md, run through the worker: 0→30 then
    /// 30→55 through its checkpoint gives the metrics of one 0→55 run.
    @Test func theDocumentedExampleRunsAndResumesExactly() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let doc = try String(contentsOf: Fixture.repositoryRoot.appendingPathComponent("docs/COMMAND_WORKLOADS.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```python\n"))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        try String(doc[start.upperBound..<end.lowerBound]).write(toFile: s.path("example.py"), atomically: true, encoding: .utf8)
        let wl = commandWorkload(["python3", "example.py"])
        let config: RPCValue = .object(["lr": .double(0.1)])
        let (a, am) = run(lease(workload: wl, config: config, end: 30, checkpointDir: s.path("a")), in: s.url)
        let (b, bm) = run(lease(workload: wl, config: config, start: 30, end: 55, restore: s.path("a"), checkpointDir: s.path("b")), in: s.url)
        let (w, wm) = run(lease(workload: wl, config: config, end: 55, checkpointDir: s.path("w")), in: s.url)
        #expect(a.outcome.isOK && b.outcome.isOK && w.outcome.isOK, "\(a.outcome) \(b.outcome) \(w.outcome)")
        #expect(am.metrics + bm.metrics == wm.metrics)
        #expect(wm.metrics.map(\.step).last == 55 && wm.metrics.count == 6 * 3)
        #expect(b.outcome.checkpoint?.checksum == w.outcome.checkpoint?.checksum)
    }
}
