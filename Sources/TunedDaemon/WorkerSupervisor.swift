import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Spawns N `tuned worker` children, restarts one that exits (back-off 0.5 s doubling to 30 s,
/// reset after 30 s of life), and on graceful shutdown terminates them (SIGTERM, then SIGKILL
/// after `grace` seconds).
final class WorkerSupervisor: Service, @unchecked Sendable {
    let executable: URL
    let socketPath: String
    let count: Int
    let logLevel: Logger.Level
    let logger: Logger
    /// Per-segment limits, passed to each worker on its command line.
    let segmentLimits: SegmentLimits
    private let lock = NSLock()
    private var processes: [String: Process] = [:]
    private var stopping = false

    init(
        executable: URL, socketPath: String, count: Int, logLevel: Logger.Level,
        segmentLimits: SegmentLimits = SegmentLimits(), logger: Logger
    ) {
        self.executable = executable
        self.socketPath = socketPath
        self.count = count
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
        // systemd's notification socket is the daemon's alone (NotifyAccess=main).
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { env[k] = nil }
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
            p.arguments = ["worker", "--socket", socketPath, "--id", id, "--log-level", logLevel.rawValue]
                + Self.arguments(segmentLimits)
            p.environment = env
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
            if ok {
                logger.info("worker \(id) started", metadata: ["worker.id": "\(id)", "pid": "\(p.processIdentifier)"])
                done.wait()
                lock.withLock { processes[id] = nil }
                if lock.withLock({ stopping }) { return }
                logger.warning(
                    "worker \(id) exited (status \(p.terminationStatus)); restarting in \(backoff) s",
                    metadata: ["worker.id": "\(id)"])
                if Date().timeIntervalSince(started) > 30 { backoff = 0.5 }
            } else if lock.withLock({ stopping }) {
                return
            }
            Thread.sleep(forTimeInterval: backoff)
            backoff = min(backoff * 2, 30)
        }
    }

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
