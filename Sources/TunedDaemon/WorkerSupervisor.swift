import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Spawns N `tuned worker` children, each given the daemon's `WorkerSecret` on its standard
/// input (never in argv or the environment), restarts one that exits (back-off 0.5 s doubling
/// to 30 s, back to 0.5 s once a worker has run for `healthyAfter` seconds), and on graceful shutdown terminates them (SIGTERM, then SIGKILL
/// after `grace` seconds). A worker's stderr passes through to the daemon's; when a worker
/// ends unasked, `onExit` gets its id and how it ended, with its last words (a Swift
/// `Fatal error: …` line if there is one), so that the segment it held fails with the reason.
final class WorkerSupervisor: Service, @unchecked Sendable {
    let executable: URL
    let socketPath: String
    let count: Int
    let secret: WorkerSecret
    let logLevel: Logger.Level
    let logger: Logger
    /// Per-segment limits, passed to each worker on its command line.
    let segmentLimits: SegmentLimits
    let onExit: @Sendable (_ worker: String, _ how: String) -> Void
    private let lock = NSLock()
    private var processes: [String: Process] = [:]
    private var stopping = false

    init(
        executable: URL, socketPath: String, count: Int, secret: WorkerSecret, logLevel: Logger.Level,
        segmentLimits: SegmentLimits = SegmentLimits(), logger: Logger,
        onExit: @escaping @Sendable (_ worker: String, _ how: String) -> Void = { _, _ in }
    ) {
        self.onExit = onExit
        self.executable = executable
        self.socketPath = socketPath
        self.count = count
        self.secret = secret
        self.logLevel = logLevel
        self.segmentLimits = segmentLimits
        self.logger = logger
    }

    var alive: Int { lock.withLock { processes.values.filter(\.isRunning).count } }

    func run() async throws {
        start()
        try? await gracefulShutdown()
        await stopAll()
    }

    func start() {
        guard count > 0 else { return }
        for k in 1...count {
            Thread { self.supervise(id: "w\(k)") }.start()
        }
    }

    /// The worker's environment: one BLAS thread, and the OpenBLAS kernel this CPU runs
    /// correctly (docs/ARCHITECTURE.md, "Numerics").
    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        // systemd's notification socket is the daemon's alone (NotifyAccess=main); the worker
        // secret travels on stdin.
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", WorkerSecret.environmentKey] { env[k] = nil }
        if env["OPENBLAS_CORETYPE"] == nil, let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            if cpu.contains(" avx512f") {
                env["OPENBLAS_CORETYPE"] = "SkylakeX"
            } else if cpu.contains(" avx2") {
                env["OPENBLAS_CORETYPE"] = "Haswell"
            }
        }
        return env
    }

    private func supervise(id: String) {
        var backoff = 0.5
        let env = Self.environment()
        while !lock.withLock({ stopping }) {
            let p = Process()
            p.executableURL = executable
            p.arguments = ["worker", "--socket", socketPath, "--id", id, "--secret-from-stdin", "--log-level", logLevel.rawValue]
                + Self.arguments(segmentLimits)
            p.environment = env
            let stdin = Pipe()
            p.standardInput = stdin
            let stderr = StderrTail()
            p.standardError = stderr.pipe
            let done = DispatchSemaphore(value: 0)
            p.terminationHandler = { _ in done.signal() }
            let started = Date()
            let ok: Bool = lock.withLock {
                if stopping { return false }
                do { try p.run() } catch {
                    logger.error("worker \(id): cannot start \(executable.path): \(error)")
                    return false
                }
                processes[id] = p
                return true
            }
            // `Process.run()` has closed the child's (read) end in this process.
            if ok { try? stdin.fileHandleForWriting.write(contentsOf: Data((secret.value + "\n").utf8)) }
            try? stdin.fileHandleForWriting.close()
            if ok {
                logger.info("worker \(id) started", metadata: ["worker.id": "\(id)", "pid": "\(p.processIdentifier)"])
                stderr.start()
                done.wait()
                lock.withLock { processes[id] = nil }
                if lock.withLock({ stopping }) { return }
                let how = p.terminationReason == .uncaughtSignal
                    ? "worker \(id) was killed by signal \(p.terminationStatus)\(p.terminationStatus == SIGKILL ? " (SIGKILL: a kill -9, or the kernel out of memory)" : "")"
                    : "worker \(id) exited with status \(p.terminationStatus)"
                onExit(id, how + (stderr.lastWords().map { "; its last words: \($0)" } ?? ""))
                logger.warning(
                    "worker \(id) exited (status \(p.terminationStatus)); restarting in \(backoff) s",
                    metadata: ["worker.id": "\(id)"])
                if Date().timeIntervalSince(started) >= Self.healthyAfter { backoff = 0.5 }
            } else if lock.withLock({ stopping }) {
                return
            }
            Thread.sleep(forTimeInterval: backoff)
            backoff = min(backoff * 2, 30)
        }
    }

    /// Seconds of life after which a worker's exit no longer lengthens the restart delay.
    static let healthyAfter = 10.0

    /// `tuned worker`'s flags for `limits`.
    static func arguments(_ limits: SegmentLimits) -> [String] {
        var a: [String] = []
        if let m = limits.memoryBytes { a += ["--segment-memory-mb", String(m >> 20)] }
        if let c = limits.cpuSeconds { a += ["--segment-cpu-seconds", String(c)] }
        if let w = limits.wallSeconds { a += ["--segment-wall-seconds", String(w)] }
        return a
    }

    /// SIGTERM to every worker, SIGKILL to those still alive after `grace` seconds.
    func stopAll(grace: Double = 3) async {
        let ps: [Process] = lock.withLock {
            stopping = true
            return Array(processes.values)
        }
        for p in ps where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, ps.contains(where: \.isRunning) { try? await Task.sleep(for: .milliseconds(20)) }
        for p in ps where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        logger.info("workers stopped", metadata: ["count": "\(ps.count)"])
    }
}

/// A worker's stderr: copied to the daemon's as it comes, the last 4 KiB kept.
final class StderrTail: @unchecked Sendable {
    let pipe = Pipe()
    /// Where the output is copied as it comes (nil: nowhere).
    let echo: FileHandle?
    private let lock = NSLock()
    private var tail = Data()
    private let finished = DispatchSemaphore(value: 0)

    init(echo: FileHandle? = .standardError) { self.echo = echo }

    func start() {
        // `Process.run()` has closed our write end (the child has its copy): EOF when it exits.
        let reader = pipe.fileHandleForReading
        Thread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                self.echo?.write(chunk)
                self.lock.withLock {
                    self.tail.append(chunk)
                    if self.tail.count > 4096 { self.tail.removeFirst(self.tail.count - 4096) }
                }
            }
            self.finished.signal()
        }.start()
    }

    /// The first `Fatal error` line of the tail (Swift's runtime prints a backtrace after it),
    /// else its last non-empty line; waits up to a second for the pipe to close.
    func lastWords() -> String? {
        _ = finished.wait(timeout: .now() + 1)
        let text = lock.withLock { String(decoding: tail, as: UTF8.self) }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let line = lines.first { $0.contains("Fatal error") } ?? lines.last
        return line.map { String($0.prefix(500)) }
    }
}
