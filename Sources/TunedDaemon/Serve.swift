import Foundation
import Logging
import ServiceLifecycle
import TunedStore

#if canImport(Glibc)
    import Glibc
#endif

/// What `tuned serve` is told: paths, workers, leases, socket limits, log level, and two hooks
/// for the service manager (systemd's `sd_notify`).
public struct ServeOptions: Sendable {
    public var socketPath: String
    public var storePath: String
    public var workers: Int
    public var leaseSeconds: Double = 10
    public var limits = SocketLimits()
    public var logLevel: Logger.Level = .info
    /// Per-segment memory, CPU and wall-clock limits, passed to every worker.
    public var segmentLimits = SegmentLimits()
    /// Who may submit command workloads (`[command_workloads]`); nil = the daemon's user and root.
    public var commandPolicy: CommandWorkloadPolicy?
    /// `[command_workloads] writable_paths`; under systemd (`$INVOCATION_ID` set) the daemon
    /// warns at start about unfinished command tasks whose workdir lies outside them.
    public var writablePaths: [String] = []
    /// Called once the socket accepts connections (sd_notify `READY=1` goes here).
    public var onReady: @Sendable () -> Void = {}
    /// Called when a graceful shutdown begins, before anything stops (`STOPPING=1`).
    public var onStopping: @Sendable () -> Void = {}

    public init(socketPath: String, storePath: String, workers: Int) {
        self.socketPath = socketPath
        self.storePath = storePath
        self.workers = workers
    }
}

/// `tuned serve`: store → recovery → one `ServiceGroup` of RPC server → worker supervisor →
/// lease timer. SIGTERM/SIGINT shut it down gracefully, in reverse order: stop leasing and
/// re-queue the running segments (from their last committed checkpoint), stop the workers,
/// close the connections and remove the socket; then the store is flushed and `serve` returns.
public enum DaemonMain {
    public static func serve(_ options: ServeOptions) async throws {
        signal(SIGPIPE, SIG_IGN)
        let logger = Logger(label: "tuned.daemon")
        let storeDir = URL(fileURLWithPath: options.storePath).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: storeDir, withIntermediateDirectories: true)
        let store = try Store(path: options.storePath)
        let core = DaemonCore(
            store: store, storePath: options.storePath, socketPath: options.socketPath,
            leaseSeconds: options.leaseSeconds, logger: logger)
        if let policy = options.commandPolicy { await core.setCommandPolicy(policy) }
        let secret = try WorkerSecret.forDaemon()
        await core.setWorkerSecret(secret)
        try await core.recover()
        if ProcessInfo.processInfo.environment["INVOCATION_ID"] != nil {
            let unfinished = try await store.listTasks(status: [.queued, .running], limit: 100_000)
            let roots = WritablePaths.roots(storePath: options.storePath, configured: options.writablePaths)
            for w in WritablePaths.warnings(tasks: unfinished.map { ($0.id.rawValue, $0.name, $0.specJSON) }, roots: roots) {
                logger.warning("\(w)")
            }
        }

        // systemd Type=notify: READY once the socket accepts, watchdog pings while the core
        // answers, STOPPING when a graceful shutdown begins (no-ops without $NOTIFY_SOCKET).
        let notifier = SystemdNotifier()
        let watchdog = notifier.flatMap { n in
            n.watchdogInterval.map { interval in
                Task {
                    while !Task.isCancelled {
                        _ = await core.isShuttingDown  // the actor answers: the daemon is not wedged
                        n.notify("WATCHDOG=1")
                        try? await Task.sleep(for: .seconds(interval))
                    }
                }
            }
        }
        let onReady: @Sendable () -> Void = {
            notifier?.notify("READY=1\nSTATUS=serving on \(options.socketPath)\nMAINPID=\(getpid())")
            options.onReady()
        }

        let server = RPCServer(
            path: options.socketPath, limits: options.limits, handler: core, logger: Logger(label: "tuned.rpc"),
            onReady: onReady)
        let exe = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0])
        let supervisor = WorkerSupervisor(
            executable: exe, socketPath: options.socketPath, count: options.workers, secret: secret, logLevel: options.logLevel,
            segmentLimits: options.segmentLimits,
            logger: Logger(label: "tuned.supervisor"),
            onExit: { worker, how in Task { await core.workerExited(worker, how) } })
        await core.setWorkers(configured: options.workers, alive: { supervisor.alive })
        let leases = LeaseService(core: core, interval: .seconds(1)) {
            logger.notice("shutting down")
            notifier?.notify("STOPPING=1")
            watchdog?.cancel()
            options.onStopping()
        }

        logger.info(
            "starting",
            metadata: [
                "socket": "\(options.socketPath)", "store": "\(options.storePath)", "workers": "\(options.workers)",
                "lease_s": "\(options.leaseSeconds)",
            ])
        // Listed in dependency order; shut down in reverse: leases first, the server last.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server), .init(service: supervisor), .init(service: leases)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "tuned.lifecycle")))
        try await group.run()
        try await store.flush()
        logger.notice("stopped")
    }
}
