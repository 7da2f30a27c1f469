import Foundation
import TunedRPC
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Who may act as a worker, whose checkpoints the daemon commits, and as whom a command runs
/// (docs/RELIABILITY.md, "Trust"), tried from outside as an attacker would.
extension DaemonEndToEndTests {
    /// One query's rows through the sqlite3 command (read-only).
    func sql(_ store: String, _ query: String) throws -> [String] {
        let q = try run("/usr/bin/sqlite3", ["-readonly", store, query])
        return q.stdout.split(separator: "\n").map(String.init)
    }

    /// The store's rows a forged worker call must not change.
    func storeCounts(_ path: String) throws -> [String] {
        try sql(path, "SELECT (SELECT COUNT(*) FROM metrics), (SELECT COUNT(*) FROM checkpoints), "
            + "(SELECT COUNT(*) FROM segments), (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM segments WHERE status != 'queued')")
    }

    /// A client of the daemon's own uid (root here) that has not proven the worker secret —
    /// or has shown a wrong one — gets −32002 from every worker method, and the store does
    /// not change: no lease, no metric, no checkpoint row.
    @Test(.timeLimit(.minutes(2))) func onlyTheDaemonsWorkersMayActAsWorkers() throws {
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 1, steps: 100, segment: 100))
        let before = try storeCounts(d.store)

        func refused(_ body: () throws -> Void, _ what: String) {
            do {
                try body()
                Issue.record("\(what) was accepted")
            } catch {
                #expect(error.remoteError?.knownCode == .unauthorized, "\(what): \(error)")
            }
        }
        let forger = try RPCClient(socketPath: d.socket)
        refused({ _ = try forger.call(RPCMethods.WorkerHello.self, WorkerHelloParams(workerID: "w1", pid: getpid())) }, "hello without a secret")
        refused({ _ = try forger.call(RPCMethods.WorkerHello.self, WorkerHelloParams(workerID: "w1", pid: getpid(), secret: "guess-guess-guess-guess")) }, "hello with a wrong secret")
        refused({ _ = try forger.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "w1")) }, "worker.lease")
        refused({ _ = try forger.call(RPCMethods.WorkerHeartbeat.self, WorkerSegmentParams(workerID: "w1", segmentID: 1)) }, "worker.heartbeat")
        refused({
            _ = try forger.call(RPCMethods.WorkerReport.self, WorkerReportParams(workerID: "w1", segmentID: 1, metrics: [MetricPoint(step: 1, name: "val_loss", value: -12345)]))
        }, "worker.report")
        refused({
            _ = try forger.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(
                workerID: "w1", segmentID: 1, status: .ok, checkpoint: CheckpointRef(path: "/etc/shadow", step: 100, checksum: "sha256:" + String(repeating: "0", count: 64), size: 1)))
        }, "worker.finish")
        #expect(try storeCounts(d.store) == before)

        // A real worker may not speak for another one.
        let w = try fakeWorker(d, "w-a")
        refused({ _ = try w.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "w-b")) }, "worker.lease as another worker")
        // Nor report, renew or finish a segment leased to another worker.
        let lease = try #require(try w.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "w-a")).lease)
        let other = try fakeWorker(d, "w-b")
        #expect(throws: RPCClientError.self) {
            try other.call(RPCMethods.WorkerReport.self, WorkerReportParams(workerID: "w-b", segmentID: lease.segmentID, metrics: [MetricPoint(step: 1, name: "val_loss", value: -1)]))
        }
        #expect(throws: RPCClientError.self) {
            try other.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(workerID: "w-b", segmentID: lease.segmentID, status: .failed, error: "forged"))
        }
        #expect(try sql(d.store, "SELECT COUNT(*) FROM metrics WHERE value < 0") == ["0"])
        _ = id
    }

    /// A worker's `worker.finish` may commit only the segment's own checkpoint directory under
    /// the store's checkpoint root, reached without symbolic links, with the digest it has:
    /// an absolute path elsewhere, a `..` path, a symlink out and a wrong digest are each
    /// refused (the attempt fails with the reason) and no checkpoint row names them.
    @Test(.timeLimit(.minutes(2))) func aFinishCommitsOnlyTheSegmentsOwnCheckpoint() throws {
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        var text = taskText(trials: 1, steps: 100, segment: 100)
        text = text.replacingOccurrences(of: "trials = 1", with: "trials = 1\nmax_retries = 4")
        _ = try submit(c, text)
        let w = try fakeWorker(d, "w1")
        let outside = d.dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("forged".utf8).write(to: outside.appendingPathComponent("checkpoint.tck"))

        func nextLease() throws -> Lease {
            let deadline = Date().addingTimeInterval(30)  // retries wait their back-off
            while Date() < deadline {
                if let l = try w.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "w1", waitSeconds: 5)).lease { return l }
            }
            throw RPCClientError.protocolViolation("no lease within 30 s")
        }
        func digest(_ dir: String) throws -> CheckpointRef {
            // The digest of `outside`, named as `dir` (what a forger would send).
            let r = try Self.checkpointReference(outside.path, step: 100)
            return CheckpointRef(path: dir, step: 100, checksum: r.checksum, size: r.size)
        }
        // 1. An absolute path outside the store.
        var l = try nextLease()
        _ = try w.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(workerID: "w1", segmentID: l.segmentID, status: .ok, checkpoint: try digest(outside.path)))
        // 2. A path that climbs out of the segment's directory with `..`.
        l = try nextLease()
        _ = try w.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(
            workerID: "w1", segmentID: l.segmentID, status: .ok, checkpoint: try digest(l.checkpointDir + "/../../../../../elsewhere")))
        // 3. The segment's own directory, made a symbolic link to a folder outside.
        l = try nextLease()
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: l.checkpointDir).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: l.checkpointDir, withDestinationPath: outside.path)
        _ = try w.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(workerID: "w1", segmentID: l.segmentID, status: .ok, checkpoint: try digest(l.checkpointDir)))
        // 4. The right directory with a digest that is not its files'.
        l = try nextLease()
        unlink(l.checkpointDir)  // the same segment again (retried): its directory, a real one this time
        try FileManager.default.createDirectory(atPath: l.checkpointDir, withIntermediateDirectories: true)
        try Data("real".utf8).write(to: URL(fileURLWithPath: l.checkpointDir).appendingPathComponent("checkpoint.tck"))
        _ = try w.call(RPCMethods.WorkerFinish.self, WorkerFinishParams(
            workerID: "w1", segmentID: l.segmentID, status: .ok,
            checkpoint: CheckpointRef(path: l.checkpointDir, step: 100, checksum: "sha256:" + String(repeating: "ab", count: 32), size: 4)))

        #expect(try sql(d.store, "SELECT COUNT(*) FROM checkpoints") == ["0"], "no checkpoint may be committed")
        // Each refusal is logged (one segment: the store keeps only its latest error).
        let errors = try String(contentsOf: d.log, encoding: .utf8).split(separator: "\n").filter { $0.contains(" error ") && $0.contains("checkpoint refused") }.map(String.init)
        #expect(errors.count == 4, "\(errors)")
        #expect(errors.contains { $0.contains("checkpoint refused") && $0.contains("is not this segment's checkpoint directory") }, "\(errors)")
        #expect(errors.contains { $0.contains("symbolic link") }, "\(errors)")
        #expect(errors.contains { $0.contains("digest") }, "\(errors)")
    }

    static func checkpointReference(_ dir: String, step: Int64) throws -> CheckpointRef {
        // SHA-256 as the worker computes it (TunedWorker.CheckpointDigest), via python's hashlib.
        let py = """
            import hashlib, os, struct, sys
            root = sys.argv[1]; files = []
            for d, _, fs in os.walk(root):
                for f in fs:
                    p = os.path.join(d, f)
                    if os.path.isfile(p) and not os.path.islink(p): files.append(os.path.relpath(p, root))
            files.sort(key=lambda s: s.encode())
            h = hashlib.sha256(); total = 0
            for rel in files:
                data = open(os.path.join(root, rel), 'rb').read()
                h.update(rel.encode() + b'\\0' + struct.pack('<Q', len(data)) + data); total += len(data)
            print('sha256:' + h.hexdigest(), total)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", py, dir]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let parts = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
        return CheckpointRef(path: dir, step: step, checksum: String(parts[0]), size: Int64(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }

    /// Under a root daemon, a command workload submitted by uid 65534 runs as uid 65534 (the
    /// program reports its uid, gid and whether it can write its checkpoint), never as root.
    @Test(.timeLimit(.minutes(2)), .enabled(if: getuid() == 0, "needs root: the daemon must run as root to switch users"))
    func aCommandRunsAsTheUserWhoSubmittedIt() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tuned-runas-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(dir.path, 0o755)
        let config = dir.appendingPathComponent("tuned.toml")
        try "[command_workloads]\nallow_users = [\"nobody\"]\n".write(to: config, atomically: true, encoding: .utf8)
        let d = try startDaemon(workers: 1, in: dir, extraArgs: ["--config", config.path])
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        chown(d.socket, 0, 65534)  // uid 65534 reaches the socket through its group
        let script = dir.appendingPathComponent("whoami.py")
        try """
            import os
            end = int(os.environ["TUNED_END_STEP"])
            print(f"tuned: step={end} val_loss=1.0 uid={os.getuid()} euid={os.geteuid()} gid={os.getgid()}", flush=True)
            with open(os.path.join(os.environ["TUNED_CHECKPOINT_DIR"], "state"), "w") as f:
                f.write("x")
            """.write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o644)
        let task = dir.appendingPathComponent("task.toml")
        try """
            name = "run-as"
            [workload]
            kind = "command"
            command = ["python3", "\(script.path)"]   # found on the system PATH, not root's (pyenv shims under /root)
            [search]
            optimizer = "sgd"
            lr = 0.1
            [strategy]
            kind = "random"
            trials = 1
            [budget]
            steps = 10
            [objective]
            metric = "val_loss"
            mode = "min"
            """.write(to: task, atomically: true, encoding: .utf8)
        chmod(task.path, 0o644)
        let tunectl = dir.appendingPathComponent("tunectl").path
        try FileManager.default.copyItem(atPath: Self.productsDirectory.appendingPathComponent("tunectl").path, toPath: tunectl)
        chmod(tunectl, 0o755)
        let r = try run("/usr/bin/setpriv", [
            "--reuid", "65534", "--regid", "65534", "--clear-groups", tunectl, "--socket", d.socket, "submit", task.path, "--wait",
        ])
        #expect(r.status == 0, "stdout: \(r.stdout) stderr: \(r.stderr)")
        let c = try RPCClient(socketPath: d.socket)
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: 1))
        let final = try #require(results.trials.first?.finalMetrics, "\(results)")
        #expect(final["uid"] == 65534, "\(final)")
        #expect(final["euid"] == 65534, "\(final)")
        #expect(final["gid"] == 65534, "\(final)")
        #expect(results.trials.first?.status == .completed, "\(results)")
    }
}
