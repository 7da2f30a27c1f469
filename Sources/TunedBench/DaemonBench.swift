import Foundation
import TunedRPC

#if canImport(Glibc)
    import Glibc
#endif

/// Benchmarks of the real daemon: `tuned serve` started as a child process on a temporary
/// socket and store, driven through `RPCClient` like `tunectl` and the workers drive it.
///
/// - `daemon.status` latency, p50 and p99, with 1 client and with 64 concurrent clients;
/// - metric ingest: `worker.report` rows/s from the first report until `worker.finish` has
///   committed them all (the bench plays the worker of one leased segment);
/// - overhead: wall time of a random search through the daemon (submit → completed) against
///   the same trials' configurations trained by `tuned train`, as many at once as the daemon
///   has workers.
public enum DaemonBench {
    public struct Options: Sendable {
        public var executable: URL
        public var digits: String
        public var latencyCalls = 2000
        public var clients = 64
        public var callsPerClient = 100
        public var ingestRows = 200_000
        public var reportBatch = 500
        public var trials = 8
        public var steps = 2000
        public var workers = 2
        public var repetitions = 3

        public init(executable: URL, digits: String) {
            self.executable = executable
            self.digits = digits
        }
    }

    public static func run(_ o: Options, log: (String) -> Void = { _ in }) throws -> [BenchResult] {
        var rows: [BenchResult] = []
        try withDaemon(o, workers: 0) { socket in
            log("daemon.status latency, 1 client")
            rows += try statusLatency(socket: socket, clients: 1, calls: o.latencyCalls)
            log("daemon.status latency, \(o.clients) clients")
            rows += try statusLatency(socket: socket, clients: o.clients, calls: o.callsPerClient)
            log("metric ingest, \(o.ingestRows) rows")
            rows.append(try ingest(socket: socket, o))
        }
        log("overhead: \(o.trials) trials × \(o.steps) steps through the daemon")
        rows += try overhead(o)
        return rows
    }

    // MARK: Latency

    static func statusLatency(socket: String, clients: Int, calls: Int) throws -> [BenchResult] {
        let conns = try (0..<clients).map { _ in try RPCClient(socketPath: socket) }
        for c in conns { _ = try c.call(RPCMethods.DaemonStatusMethod.self) }  // warm up
        let samples = LatencySamples()
        let failures = LatencySamples()
        // One thread per client: they all have a call in flight at once.
        let done = DispatchSemaphore(value: 0)
        let t0 = Stopwatch.now()
        for k in 0..<clients {
            let c = UncheckedBox(conns[k])
            Thread {
                var mine: [Double] = []
                mine.reserveCapacity(calls)
                for _ in 0..<calls {
                    let s = Stopwatch.now()
                    do {
                        _ = try c.value.call(RPCMethods.DaemonStatusMethod.self)
                        mine.append(Double(Stopwatch.now() - s) / 1e3)
                    } catch {
                        failures.add([0])
                    }
                }
                samples.add(mine)
                done.signal()
            }.start()
        }
        for _ in 0..<clients { done.wait() }
        let wall = Double(Stopwatch.now() - t0) / 1e9
        let all = samples.sorted()
        guard failures.sorted().isEmpty, !all.isEmpty else { throw BenchError("daemon.status calls failed") }
        let group = "daemon-status"
        let tag = "\(clients) client\(clients == 1 ? "" : "s")"
        return [
            BenchResult(group: group, name: "p50 \(tag)", value: percentile(all, 0.50), unit: "µs"),
            BenchResult(group: group, name: "p99 \(tag)", value: percentile(all, 0.99), unit: "µs"),
            BenchResult(
                group: group, name: "rate \(tag)", value: Double(all.count) / wall, unit: "calls/s",
                note: "\(all.count) calls"),
        ]
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }

    // MARK: Ingest

    /// One segment of `ingestRows / 2` steps (2 metrics per step): lease it as worker `bench`,
    /// report every row in batches, finish; rows per second from the first report to the
    /// committed finish.
    static func ingest(socket: String, _ o: Options) throws -> BenchResult {
        let c = try RPCClient(socketPath: socket, timeout: .seconds(300))
        let steps = o.ingestRows / 2
        let task = taskText(name: "bench-ingest", digits: o.digits, trials: 1, steps: steps, segment: steps)
        _ = try c.call(RPCMethods.TaskSubmit.self, TaskSubmitParams(text: task, format: .toml, filename: "ingest.toml", baseDir: FileManager.default.currentDirectoryPath))
        _ = try c.call(RPCMethods.WorkerHello.self, WorkerHelloParams(workerID: "bench", pid: getpid(), secret: workerSecret))
        guard let lease = try c.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "bench")).lease else {
            throw BenchError("the ingest task's segment was not leased")
        }
        var batch: [MetricPoint] = []
        batch.reserveCapacity(o.reportBatch)
        let t0 = Stopwatch.now()
        for step in 1...steps {
            batch.append(MetricPoint(step: Int64(step), name: "train_loss", value: 1 / Double(step)))
            batch.append(MetricPoint(step: Int64(step), name: "val_loss", value: 2 / Double(step)))
            if batch.count >= o.reportBatch || step == steps {
                _ = try c.call(
                    RPCMethods.WorkerReport.self,
                    WorkerReportParams(workerID: "bench", segmentID: lease.segmentID, metrics: batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        let reported = Double(Stopwatch.now() - t0) / 1e9
        let fin = try c.call(
            RPCMethods.WorkerFinish.self, WorkerFinishParams(workerID: "bench", segmentID: lease.segmentID, status: .ok))
        let wall = Double(Stopwatch.now() - t0) / 1e9
        guard fin.committed else { throw BenchError("the ingest segment was not committed") }
        return BenchResult(
            group: "daemon-ingest", name: "worker.report rows", value: Double(2 * steps) / wall, unit: "rows/s",
            note: "\(2 * steps) rows in batches of \(o.reportBatch); reports \(String(format: "%.2f", reported)) s, "
                + "commit \(String(format: "%.2f", wall - reported)) s")
    }

    // MARK: Overhead

    /// Best of `repetitions`, alternating the two sides so that both see the same load:
    /// a task through one daemon (a new task each time: same seed, same configurations), then
    /// the same configurations through `tuned train`.
    static func overhead(_ o: Options) throws -> [BenchResult] {
        var daemonBest = Double.infinity, trainBest = Double.infinity, pureBest = Double.infinity
        try withDaemon(o, workers: o.workers) { socket in
            let c = try RPCClient(socketPath: socket)
            for _ in 0..<o.repetitions {
                let (wall, configs) = try searchThroughDaemon(c, o)
                daemonBest = min(daemonBest, wall)
                let (trainWall, pure) = try trainEach(configs, o)
                trainBest = min(trainBest, trainWall)
                pureBest = min(pureBest, pure)
            }
        }
        let g = "daemon-overhead"
        let what = "\(o.trials) trials × \(o.steps) steps, digits MLP, \(o.workers) workers, best of \(o.repetitions)"
        return [
            BenchResult(group: g, name: "through the daemon", value: daemonBest, unit: "s", note: what + ", segments of 500"),
            BenchResult(
                group: g, name: "vs tuned train", value: daemonBest, unit: "s", baseline: trainBest,
                note: "same configs, \(o.workers) `tuned train` at a time (wall, incl. process start and data load)"),
            BenchResult(
                group: g, name: "vs training only", value: daemonBest, unit: "s", baseline: pureBest,
                note: "Σ training seconds reported by `tuned train` / \(o.workers)"),
        ]
    }

    /// Submit → completed, in seconds, and the trials' configurations.
    static func searchThroughDaemon(_ c: RPCClient, _ o: Options) throws -> (Double, [String]) {
        let text = taskText(name: "bench-overhead", digits: o.digits, trials: o.trials, steps: o.steps, segment: 500)
        let t0 = Stopwatch.now()
        let id = try c.call(
            RPCMethods.TaskSubmit.self,
            TaskSubmitParams(text: text, format: .toml, filename: "overhead.toml", baseDir: FileManager.default.currentDirectoryPath)
        ).taskID
        while true {
            let d = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            if d.status.isFinal {
                guard d.status == .completed else { throw BenchError("the overhead task ended \(d.status): \(d.error ?? "")") }
                break
            }
            usleep(5_000)
        }
        let wall = Double(Stopwatch.now() - t0) / 1e9
        return (wall, try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id)).trials.map { $0.config.jsonText })
    }

    /// The configurations through `tuned train`, `workers` processes at a time: wall seconds,
    /// and the training seconds they report summed and divided by `workers`.
    static func trainEach(_ configs: [String], _ o: Options) throws -> (Double, Double) {
        let next = LatencySamples()
        let trainSeconds = LatencySamples()
        let failures = LatencySamples()
        let workload = "{\"kind\":\"mlp\",\"dataset\":\"\(o.digits)\",\"target\":\"target\",\"hidden\":[64]}"
        let t0 = Stopwatch.now()
        DispatchQueue.concurrentPerform(iterations: o.workers) { _ in
            while let k = next.take(below: configs.count) {
                let p = Process()
                p.executableURL = o.executable
                p.arguments = [
                    "train", "--workload", workload, "--config", configs[k], "--steps", "\(o.steps)", "--seed", "1",
                    "--quiet",
                ]
                let out = Pipe()
                p.standardOutput = out
                do { try p.run() } catch {
                    failures.add([1])
                    continue
                }
                let data = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
                if p.terminationStatus == 0, let s = obj?["seconds"] as? Double { trainSeconds.add([s]) } else { failures.add([1]) }
            }
        }
        let wall = Double(Stopwatch.now() - t0) / 1e9
        guard failures.sorted().isEmpty else { throw BenchError("`tuned train` failed for some configurations") }
        return (wall, trainSeconds.sorted().reduce(0, +) / Double(o.workers))
    }

    // MARK: Helpers

    static func taskText(name: String, digits: String, trials: Int, steps: Int, segment: Int) -> String {
        """
        name = "\(name)"

        [workload]
        kind = "mlp"
        dataset = "\(digits)"
        target = "target"
        hidden = [64]

        [search]
        optimizer = ["sgd", "adamw"]
        lr = { log_uniform = [1e-3, 1e-1] }
        batch_size = { choice = [64] }

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

    /// The worker secret of the benchmark's daemon (random per run).
    static let workerSecret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()

    /// Starts `tuned serve` on a temporary socket and store, runs `body`, stops it (SIGTERM).
    static func withDaemon(_ o: Options, workers: Int, _ body: (String) throws -> Void) throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tuned-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let socket = dir.appendingPathComponent("t.sock").path
        let p = Process()
        p.executableURL = o.executable
        p.arguments = [
            "serve", "--socket", socket, "--store", dir.appendingPathComponent("tuned.db").path, "--workers", "\(workers)",
            "--max-connections", "\(o.clients + 8)", "--log-level", "warning",
        ]
        // The ingest benchmark acts as a worker: it needs the daemon's worker secret.
        var env = ProcessInfo.processInfo.environment
        env[workerSecretEnvironmentKey] = workerSecret
        p.environment = env
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(30)
        while true {
            if let c = try? RPCClient(socketPath: socket), (try? c.call(RPCMethods.DaemonStatusMethod.self)) != nil { break }
            if Date() > deadline || !p.isRunning { throw BenchError("the daemon did not start on \(socket)") }
            usleep(20_000)
        }
        try body(socket)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Moves a non-Sendable value to the one thread that uses it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// A lock-protected bag of samples (and a shared work counter) for the concurrent parts.
final class LatencySamples: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    private var counter = 0
    func add(_ v: [Double]) { lock.withLock { values += v } }
    func sorted() -> [Double] { lock.withLock { values.sorted() } }
    func take(below n: Int) -> Int? {
        lock.withLock {
            guard counter < n else { return nil }
            counter += 1
            return counter - 1
        }
    }
}
