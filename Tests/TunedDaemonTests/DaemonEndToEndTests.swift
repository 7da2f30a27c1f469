import Foundation
import TunedRPC
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `tuned serve` process (the built binary beside the test bundle) on a temporary
/// socket and store, driven through `RPCClient`.
@Suite(.serialized) struct DaemonEndToEndTests {
    static var productsDirectory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir
    }
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Daemon {
        var process: Process
        var socket: String
        var store: String
        var dir: URL
        /// Where the daemon's stdout and stderr go (`stop` copies it to the test's stderr).
        var log: URL
    }

    /// The worker secret of the daemons `startDaemon` starts.
    static let workerSecret = "e2e-worker-secret-0123456789abcdef"

    /// A connection that has said hello as worker `id` with the daemon's secret.
    func fakeWorker(_ d: Daemon, _ id: String) throws -> RPCClient {
        let c = try RPCClient(socketPath: d.socket)
        _ = try c.call(RPCMethods.WorkerHello.self, WorkerHelloParams(workerID: id, pid: getpid(), secret: Self.workerSecret))
        return c
    }

    func startDaemon(workers: Int = 2, leaseSeconds: Double = 10, in existing: URL? = nil, extraArgs: [String] = []) throws -> Daemon {
        let dir = existing ?? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tuned-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let socket = dir.appendingPathComponent("t.sock").path
        let store = dir.appendingPathComponent("store/tuned.db").path
        let p = Process()
        p.executableURL = Self.productsDirectory.appendingPathComponent("tuned")
        p.arguments = ["serve", "--socket", socket, "--store", store, "--workers", "\(workers)", "--lease-seconds", "\(leaseSeconds)"] + extraArgs
        // A known worker secret, so that tests can act as a worker (`fakeWorker`).
        var env = ProcessInfo.processInfo.environment
        env["TUNED_WORKER_SECRET"] = Self.workerSecret
        p.environment = env
        // The daemon logs to a file (copied to stderr by `stop`), not to the test's own pipe:
        // a test that crashes then cannot leave an orphaned daemon holding `swift test`'s output
        // open, which made `swift test` wait forever instead of reporting the crash.
        let log = dir.appendingPathComponent("daemon-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        try? handle.close()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let c = try? RPCClient(socketPath: socket), (try? c.call(RPCMethods.DaemonStatusMethod.self)) != nil { break }
            usleep(50_000)
        }
        return Daemon(process: p, socket: socket, store: store, dir: dir, log: log)
    }

    func stop(_ d: Daemon) -> Int32 {
        if d.process.isRunning { kill(d.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(15)
        while d.process.isRunning, Date() < deadline { usleep(20_000) }
        if d.process.isRunning { kill(d.process.processIdentifier, SIGKILL); d.process.waitUntilExit() }
        if let text = try? Data(contentsOf: d.log) { FileHandle.standardError.write(text) }
        return d.process.terminationStatus
    }

    func taskText(trials: Int = 3, steps: Int = 300, segment: Int = 150) -> String {
        """
        name = "e2e-random"

        [workload]
        kind = "mlp"
        dataset = "datasets/digits.csv"
        target = "target"
        hidden = [32]

        [search]
        optimizer = ["sgd", "adamw"]
        lr = { log_uniform = [1e-3, 1e-1] }
        batch_size = { choice = [32, 64] }

        [strategy]
        kind = "random"
        trials = \(trials)

        [budget]
        steps = \(steps)
        segment_steps = \(segment)
        seed = 1

        [objective]
        metric = "val_loss"
        mode = "min"
        """
    }

    func submit(_ c: RPCClient, _ text: String) throws -> Int64 {
        try c.call(
            RPCMethods.TaskSubmit.self,
            TaskSubmitParams(text: text, format: .toml, filename: "e2e.toml", baseDir: Self.repositoryRoot.path)).taskID
    }

    func waitFinished(_ c: RPCClient, _ id: Int64, timeout: Double = 120) throws -> TaskDetail {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let d = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            if d.status.isFinal { return d }
            if Date() > deadline { Issue.record("task \(id) still \(d.status) after \(timeout) s: \(d)"); return d }
            usleep(200_000)
        }
    }

    func childPIDs(of pid: Int32) -> [Int32] {
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return procs.compactMap { Int32($0) }.filter { p in
            guard let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    @Test func submitRunResultsErrorsAndShutdown() throws {
        let t0 = Date()
        let d = try startDaemon()
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)

        let status = try c.call(RPCMethods.DaemonStatusMethod.self)
        #expect(status.workers.configured == 2)
        #expect(status.socket == d.socket)
        var st = stat()
        #expect(stat(d.socket, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)

        // A broken task file: validation error naming file and line.
        let broken = taskText().replacingOccurrences(of: "steps = 300", with: "steps = -5")
        do {
            _ = try submit(c, broken)
            Issue.record("a negative budget was accepted")
        } catch {
            #expect(error.remoteError?.knownCode == .validationFailed, "\(error)")
            #expect(error.message.hasPrefix("e2e.toml:"), "\(error.message)")
            #expect(error.remoteError?.data?["line"]?.int64Value != nil, "\(error)")
        }

        // Workloads no worker could build, refused at submit with the reason (they used to be
        // accepted and then failed in every worker; the 20-billion-parameter one crashed them).
        for (hidden, says) in [
            ("[4000000000]", "e2e.toml: workload: 'hidden' must list integer widths in [1, 1000000], e.g. [64], got [4000000000]"),
            ("[100000, 100000, 100000]", "e2e.toml: workload: the model has 20007700010 parameters; a worker needs ≈ 320.1 GB"),
        ] {
            do {
                _ = try submit(c, taskText().replacingOccurrences(of: "hidden = [32]", with: "hidden = \(hidden)"))
                Issue.record("hidden = \(hidden) was accepted")
            } catch {
                #expect(error.remoteError?.knownCode == .validationFailed, "\(error)")
                #expect(error.message.contains(says), "\(error.message)")
            }
        }
        #expect(try c.call(RPCMethods.TaskList.self, TaskListParams()).isEmpty)

        // Submit → run → results.
        let id = try submit(c, taskText())
        let detail = try waitFinished(c, id)
        #expect(detail.status == .completed, "\(detail)")
        #expect(detail.stepsDone == 900)
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(results.trials.count == 3)
        for t in results.trials {
            #expect(t.status == .completed)
            #expect(t.stepsDone == 300)
            #expect(t.finalMetrics["val_loss"] != nil, "\(t)")
        }
        #expect(results.bestConfig?["optimizer"] != nil, "\(results)")
        #expect(results.best != nil)
        let list = try c.call(RPCMethods.TaskList.self, TaskListParams())
        #expect(list.map(\.taskID) == [id])
        let trials = try c.call(RPCMethods.TrialList.self, TrialListParams(taskID: id))
        #expect(trials.count == 3)

        // Malformed lines: each gets its error; the connection keeps serving.
        let raw = try RawConnection(path: d.socket)
        raw.send("this is not json\n")
        let e1 = try #require(raw.readLine())
        #expect(e1.contains("-32700"), "\(e1)")
        raw.send("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"nope\"}\n")
        #expect(try #require(raw.readLine()).contains("-32601"))
        raw.send("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"task.get\",\"params\":{}}\n")
        #expect(try #require(raw.readLine()).contains("-32602"))
        raw.send("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"daemon.status\"}\n")
        let ok = try #require(raw.readLine())
        #expect(ok.contains("\"result\"") && ok.contains("\"id\":7"), "\(ok)")

        // SIGTERM → exit 0, the socket file is gone.
        #expect(stop(d) == 0)
        #expect(!(FileManager.default.fileExists(atPath: d.socket)))
        print("e2e submit/run/results/shutdown: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    @Test func killedWorkerSegmentIsRequeuedAndTaskCompletes() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2, leaseSeconds: 3)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 2, steps: 3000, segment: 1500))
        // Wait until a trial is running, then kill -9 one worker.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let det = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            if det.members.filter({ $0.status == .running }).count == 2 { break }
            usleep(50_000)
        }
        let workers = childPIDs(of: d.process.processIdentifier)
        #expect(workers.count == 2, "workers: \(workers)")
        if let victim = workers.first { kill(victim, SIGKILL) }
        let detail = try waitFinished(c, id)
        #expect(detail.status == .completed, "\(detail)")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(results.trials.map(\.stepsDone) == [3000, 3000])
        #expect(try c.call(RPCMethods.DaemonStatusMethod.self).workers.alive == 2)
        print("e2e killed worker: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }
}

extension DaemonEndToEndTests {
    /// kill -9 of the daemon mid-task, then a restart on the same store: the strategy is rebuilt
    /// from the committed segments and the task completes with every trial at its budget.
    @Test func daemonKilledAndRestartedTaskCompletes() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 1)
        defer { try? FileManager.default.removeItem(at: d.dir) }
        var c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 2, steps: 600, segment: 200))
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let det = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            if det.stepsDone >= 400 { break }
            usleep(20_000)
        }
        let workers = childPIDs(of: d.process.processIdentifier)
        kill(d.process.processIdentifier, SIGKILL)
        d.process.waitUntilExit()
        for w in workers { kill(w, SIGKILL) }
        let d2 = try startDaemon(workers: 2, in: d.dir)
        defer { _ = stop(d2) }
        c = try RPCClient(socketPath: d2.socket)
        let detail = try waitFinished(c, id)
        #expect(detail.status == .completed, "\(detail)")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(results.trials.map(\.stepsDone) == [600, 600])
        #expect(results.bestConfig != nil)
        print("e2e daemon kill -9 + restart: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }
}

extension Error {
    var remoteError: RPCError? { (self as? RPCClientError)?.remoteError }
    var message: String { "\(self)" }
}

/// A raw socket connection for sending malformed lines.
final class RawConnection {
    let fd: Int32
    var buffer: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw NSError(domain: "connect", code: Int(errno)) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }

    func send(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
