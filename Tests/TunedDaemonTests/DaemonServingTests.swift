import Foundation
import TunedRPC
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The serving layer on the real daemon: `task.watch` notifications (through `RPCClient` and
/// through `tunectl watch`), graceful shutdown that re-queues running segments, and the
/// attempt limit on leases that expire because the worker freezes every time, and segments
/// that fail at once, saying how, when their worker dies.
extension DaemonEndToEndTests {
    /// A watch of a running task gets at least one `task.progress` and a final `task.finished`
    /// with status completed; `tunectl watch` on a pipe prints one plain line per update and
    /// exits 0.
    @Test func watchPushesProgressAndFinished() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 2, steps: 600, segment: 150))

        let tunectl = Process()
        tunectl.executableURL = Self.productsDirectory.appendingPathComponent("tunectl")
        tunectl.arguments = ["--socket", d.socket, "watch", "\(id)", "--interval", "0.25"]
        let out = Pipe()
        tunectl.standardOutput = out
        tunectl.standardError = FileHandle(forWritingAtPath: "/dev/stderr")
        try tunectl.run()

        let watcher = try RPCClient(socketPath: d.socket, timeout: .seconds(120))
        var progress: [TaskProgress] = []
        let finished = try watcher.watchTask(id, intervalSeconds: 0.25) { progress.append($0) }
        #expect(!progress.isEmpty, "no task.progress before task.finished")
        #expect(finished.status == .completed, "\(finished)")
        #expect(finished.taskID == id)
        #expect(progress.last?.status == .completed, "the last progress shows the end: \(String(describing: progress.last))")
        #expect(progress.map(\.stepsDone) == progress.map(\.stepsDone).sorted(), "steps never go back: \(progress.map(\.stepsDone))")
        #expect(progress.last?.stepsDone == 1200)

        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tunectl.waitUntilExit()
        #expect(tunectl.terminationStatus == 0, "\(text)")
        let lines = text.split(separator: "\n")
        #expect(lines.count >= 2, "\(text)")
        #expect(!text.contains("\u{1B}["), "no terminal escapes on a pipe: \(text)")
        #expect(lines.last?.contains("completed 1200/1200") == true, "\(text)")

        // Watching a finished task: the reply, then task.finished at once.
        let again = try watcher.watchTask(id) { _ in }
        #expect(again.status == .completed)
        print("e2e watch: \(progress.count) progress notification(s), \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// SIGTERM while segments run: exit 0, socket removed, no segment left leased and no trial
    /// running in the store (re-queued at once); a restarted daemon finishes the task.
    @Test func gracefulShutdownRequeuesRunningSegments() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2, leaseSeconds: 30)
        defer { try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 2, steps: 3000, segment: 1500))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let det = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            if det.members.filter({ $0.status == .running }).count == 2 { break }
            usleep(50_000)
        }
        let workers = childPIDs(of: d.process.processIdentifier)
        #expect(workers.count == 2)
        #expect(stop(d) == 0)
        #expect(!FileManager.default.fileExists(atPath: d.socket))
        #expect(workers.allSatisfy { kill($0, 0) != 0 }, "the workers are gone")

        // Straight from the store: nothing leased, nothing running (a 30 s lease would
        // otherwise still hold them), and the WAL was checkpointed into the main file.
        let q = try run("/usr/bin/sqlite3", [
            "-readonly", d.store,
            "SELECT (SELECT COUNT(*) FROM segments WHERE status = 'leased'), "
                + "(SELECT COUNT(*) FROM trials WHERE status = 'running'), "
                + "(SELECT COUNT(*) FROM segments WHERE status = 'queued')",
        ])
        #expect(q.status == 0, "\(q.stderr)")
        #expect(q.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0|0|2", "\(q.stdout)")

        let d2 = try startDaemon(workers: 2, in: d.dir)
        defer { _ = stop(d2) }
        let c2 = try RPCClient(socketPath: d2.socket)
        let detail = try waitFinished(c2, id)
        #expect(detail.status == .completed, "\(detail)")
        print("e2e graceful shutdown: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// A command whose segment freezes its own `tuned worker` (SIGSTOP to its parent) never
    /// finishes and sends no heartbeat: every lease expires. The strategy counts each expiry
    /// as a failed attempt, so with `max_retries = 1` the trial fails after 2 attempts (one per
    /// worker) and the task ends.
    @Test func expiringLeasesCountAsAttempts() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2, leaseSeconds: 1)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let row = try runToFailure(d, command: "kill -STOP $PPID")
        #expect(row.contains("lease expired"), "\(row)")
        #expect(d.process.isRunning)
        print("e2e expiring leases: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// A segment that kills its worker (SIGKILL to its parent) fails at once, with how the
    /// worker ended, not at its lease's expiry (30 s here, so two expiries would take a minute).
    @Test func aWorkerThatDiesFailsItsSegmentAtOnceSayingHow() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 1, leaseSeconds: 30)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let row = try runToFailure(d, command: "kill -9 $PPID", timeout: 25)
        #expect(row.contains("worker w1 was killed by signal 9"), "\(row)")
        #expect(Date().timeIntervalSince(t0) < 30)
        #expect(d.process.isRunning)
    }

    /// Runs a one-trial command task (`max_retries = 1`) that is expected to fail twice; returns
    /// the store's "segment status|attempts|trial error" row after checking it failed 2 times.
    func runToFailure(_ d: Daemon, command: String, timeout: Double = 60) throws -> String {
        let task = """
            name = "e2e-killer"

            [workload]
            kind = "command"
            command = ["/bin/sh", "-c", "\(command)"]

            [search]
            optimizer = ["sgd"]
            lr = { choice = [0.1] }

            [strategy]
            kind = "random"
            trials = 1
            max_retries = 1

            [budget]
            steps = 100
            segment_steps = 100
            seed = 1

            [objective]
            metric = "val_loss"
            mode = "min"
            """
        let c = try RPCClient(socketPath: d.socket)
        let id = try c.call(
            RPCMethods.TaskSubmit.self,
            TaskSubmitParams(text: task, format: .toml, filename: "killer.toml", baseDir: d.dir.path)).taskID
        let detail = try waitFinished(c, id, timeout: timeout)
        #expect(detail.status == .failed, "\(detail)")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(results.trials.map(\.status) == [.failed], "\(results.trials)")
        let q = try run("/usr/bin/sqlite3", [
            "-readonly", d.store,
            "SELECT s.status, s.attempts, t.error FROM segments s JOIN trials t ON t.id = s.trial_id "
                + "WHERE t.task_id = \(id)",
        ])
        #expect(q.status == 0, "\(q.stderr)")
        let row = q.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(row.hasPrefix("failed|"), "\(row)")
        #expect(row.contains("failed 2 times"), "\(row)")
        return row
    }

    /// `--log-level` takes the swift-log names; anything else is refused naming the flag.
    @Test func badLogLevelIsRefused() throws {
        let r = try run(Self.productsDirectory.appendingPathComponent("tuned").path, ["serve", "--log-level", "loud"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--log-level must be one of trace, debug, info, notice, warning, error, critical"), "\(r.stderr)")
    }
}

extension DaemonEndToEndTests {
    /// `worker.lease` with `wait_seconds` on an idle daemon holds the reply and answers with a
    /// lease once a task is submitted (without it the reply would be idle at once).
    @Test func leaseLongPollAnswersWhenWorkArrives() throws {
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let worker = try fakeWorker(d, "poll")
        #expect(try worker.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "poll")).lease == nil)

        let socket = d.socket, text = taskText(trials: 1, steps: 100, segment: 100)
        let submitted = Thread {
            usleep(300_000)
            if let c = try? RPCClient(socketPath: socket) { _ = try? self.submit(c, text) }
        }
        submitted.start()
        let r = try worker.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "poll", waitSeconds: 25))
        #expect(r.lease?.endStep == 100, "\(r)")
    }

    /// `worker.finish` with `lease_next` hands the worker its next segment in the same reply,
    /// exactly as a `worker.lease` would; without it, or with nothing queued, there is none.
    @Test func finishCanLeaseTheNextSegmentInTheSameRoundTrip() throws {
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try fakeWorker(d, "fake")
        _ = try submit(c, taskText(trials: 2, steps: 100, segment: 100))
        let first = try #require(try c.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "fake")).lease)
        let done = try c.call(
            RPCMethods.WorkerFinish.self,
            WorkerFinishParams(workerID: "fake", segmentID: first.segmentID, status: .failed, error: "test", leaseNext: true))
        #expect(done.committed)
        // The failed segment's retry or the other trial's segment, leased to "fake": its finish commits.
        let second = try #require(done.lease, "a segment was queued")
        let plain = try c.call(
            RPCMethods.WorkerFinish.self, WorkerFinishParams(workerID: "fake", segmentID: second.segmentID, status: .failed, error: "test"))
        #expect(plain.committed)
        #expect(plain.lease == nil)
    }

    /// The idle timeout counts silence, not waiting: a `worker.lease` held for 3 s on a daemon
    /// with `--idle-timeout 1` gets its (idle) reply instead of a closed connection.
    @Test func idleTimeoutSparesAWaitingRequest() throws {
        let d = try startDaemon(workers: 0, extraArgs: ["--idle-timeout", "1"])
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let worker = try fakeWorker(d, "poll")
        let r = try worker.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "poll", waitSeconds: 3))
        #expect(r.lease == nil)
        #expect(r.retryAfterSeconds == 0)
    }
}
