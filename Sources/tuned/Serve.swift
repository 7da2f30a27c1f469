import ArgumentParser
import Foundation
import TunedDaemon
import TunedEngine

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the daemon: JSON-RPC on a Unix socket, a SQLite store, N worker processes.",
        discussion: """
            Settings come from the configuration file (--config, default \(DaemonConfig.defaultPath) when it \
            exists; every key and its default: scripts/tuned.toml), then $TUNED_SOCKET and $TUNED_STORE, then \
            the flags below: a flag wins over the environment, the environment over the file. \
            `tuned serve --check-config FILE` (or `tuned check-config FILE`) validates a file and exits.
            """)

    @Option(help: "Configuration file (TOML; default: \(DaemonConfig.defaultPath) if it exists).")
    var config: String?
    @Option(name: .customLong("check-config"), help: ArgumentHelp("Validate this configuration file, print every problem, exit 0 (valid) or 1.", valueName: "file"))
    var checkConfig: String?
    @Option(help: "Unix socket path (default: $TUNED_SOCKET or /run/tuned/tuned.sock).")
    var socket: String?
    @Option(help: "SQLite store path (default: $TUNED_STORE or /var/lib/tuned/tuned.db).")
    var store: String?
    @Option(help: "Worker processes (default: the number of cores).")
    var workers: Int?
    @Option(help: "Lease duration in seconds (default 10).")
    var leaseSeconds: Double?
    @Option(help: "Connections served at once (default 64); one more gets a `too many connections` error and is closed.")
    var maxConnections: Int?
    @Option(help: "Seconds a connection may stay silent before the daemon closes it (0: never; default 300).")
    var idleTimeout: Double?
    @Option(help: "The socket file's permission bits, in octal (default 660). Peers other than root, the daemon's uid and the socket's group are refused anyway.")
    var socketMode: String?
    @Option(help: "Least severe log level written to stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let idleTimeout, !(idleTimeout >= 0 && idleTimeout.isFinite) { throw ValidationError("--idle-timeout must be 0 or more seconds") }
        if let leaseSeconds, !(leaseSeconds > 0 && leaseSeconds.isFinite) { throw ValidationError("--lease-seconds must be a positive number") }
        if let socketMode, UInt32(socketMode, radix: 8).map({ $0 > 0o777 }) ?? true {
            throw ValidationError("--socket-mode must be octal permission bits like 660, got `\(socketMode)`")
        }
        guard DaemonLogging.level(logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(DaemonLogging.levelNames), got `\(logLevel)`")
        }
    }

    func run() async throws {
        if let checkConfig { throw ExitCode(CheckConfig.check(checkConfig)) }
        let env = ProcessInfo.processInfo.environment
        let path = config ?? (FileManager.default.fileExists(atPath: DaemonConfig.defaultPath) ? DaemonConfig.defaultPath : nil)
        var c = DaemonConfig()
        var policy = CommandWorkloadPolicy(daemonUID: getuid(), configPath: path ?? DaemonConfig.defaultPath)
        if let path {
            do {
                c = try DaemonConfig.load(path: path)
                policy = try CommandWorkloadPolicy.resolve(c, file: path)
            } catch {
                FileHandle.standardError.write(Data("tuned: invalid configuration:\n\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        c.socketPath = socket ?? env["TUNED_SOCKET"] ?? c.socketPath
        c.storePath = store ?? env["TUNED_STORE"] ?? c.storePath
        if let workers { c.workers = workers }
        if let leaseSeconds { c.leaseSeconds = leaseSeconds }
        if let maxConnections { c.maxConnections = maxConnections }
        if let idleTimeout { c.idleTimeoutSeconds = idleTimeout }
        if let m = socketMode.flatMap({ UInt32($0, radix: 8) }) { c.socketMode = m }
        var limits = SocketLimits()
        limits.maxConnections = c.maxConnections
        limits.idleTimeout = c.idleTimeoutSeconds
        limits.maxLineBytes = c.maxRequestBytes
        limits.socketMode = mode_t(c.socketMode)
        let level = DaemonLogging.level(logLevel) ?? .info
        DaemonLogging.bootstrap(level: level)
        var options = ServeOptions(
            socketPath: c.socketPath, storePath: c.storePath, workers: c.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        options.leaseSeconds = c.leaseSeconds
        options.limits = limits
        options.logLevel = level
        options.segmentLimits = c.segmentLimits
        options.commandPolicy = policy
        options.writablePaths = c.writablePaths.map(\.name)
        do {
            try await DaemonMain.serve(options)
        } catch {
            FileHandle.standardError.write(Data("tuned: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file: print every problem (file:line: key: what to fix), exit 0 or 1.",
        discussion: """
            With --systemd-drop-in, a valid file's [command_workloads] writable_paths are printed on \
            stdout as a systemd drop-in for tuned.service (ReadWritePaths=; nothing when the list is \
            empty); scripts/install.sh installs it as /etc/systemd/system/tuned.service.d/writable-paths.conf.
            """)

    @Argument(help: "The file (e.g. \(DaemonConfig.defaultPath)).")
    var file: String
    @Flag(help: "Print the drop-in of the file's writable_paths on stdout instead of `FILE: OK`.")
    var systemdDropIn = false

    func run() throws { throw ExitCode(Self.check(file, dropIn: systemdDropIn)) }

    static func check(_ file: String, dropIn: Bool = false) -> Int32 {
        do {
            let c = try DaemonConfig.load(path: file)
            // Both look-ups report every problem they find, together.
            var problems: [TaskProblem] = []
            do { _ = try CommandWorkloadPolicy.resolve(c, file: file) } catch { problems += error.problems }
            do { try WritablePaths.check(c, file: file) } catch { problems += error.problems }
            if !problems.isEmpty { throw DaemonConfigError(problems) }
            if dropIn {
                print(WritablePaths.systemdDropIn(c, file: file) ?? "", terminator: "")
            } else {
                print("\(file): OK")
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }
    }
}

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker process (started by the daemon): lease, train, report, finish.",
        discussion: """
            A worker proves to the daemon that it is one of its own with the daemon's worker secret: \
            the daemon hands it to the workers it starts on their standard input (--secret-from-stdin). \
            To start one by hand, start the daemon with TUNED_WORKER_SECRET set (16 characters or more) \
            and the worker with the same variable; the worker removes it from its environment, so the \
            programs it runs never see it.
            """)

    @Option(help: "The daemon's socket.")
    var socket: String?
    @Option(help: "Worker id.")
    var id: String = "w\(getpid())"
    @Option(help: "Least severe log level written to stderr (as for serve).")
    var logLevel: String = "info"
    @Flag(help: "Read the daemon's worker secret from the first line of standard input (how the daemon starts its workers).")
    var secretFromStdin = false

    @Option(help: "Fail a segment whose memory exceeds this many MiB (command: RLIMIT_AS; built-in: the worker's RSS).")
    var segmentMemoryMb: UInt64?
    @Option(help: "Fail a segment that uses more CPU seconds than this (command: RLIMIT_CPU; built-in: getrusage).")
    var segmentCpuSeconds: Double?
    @Option(help: "Kill a segment that runs longer than this many seconds.")
    var segmentWallSeconds: Double?

    func validate() throws {
        guard DaemonLogging.level(logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(DaemonLogging.levelNames), got `\(logLevel)`")
        }
    }

    func run() throws {
        DaemonLogging.bootstrap(level: DaemonLogging.level(logLevel) ?? .info)
        let path = socket ?? ProcessInfo.processInfo.environment["TUNED_SOCKET"] ?? "/run/tuned/tuned.sock"
        let limits = SegmentLimits(
            memoryBytes: segmentMemoryMb.map { $0 << 20 }, cpuSeconds: segmentCpuSeconds, wallSeconds: segmentWallSeconds)
        var secret = ProcessInfo.processInfo.environment[WorkerSecret.environmentKey]
        unsetenv(WorkerSecret.environmentKey)
        if secretFromStdin { secret = readLine(strippingNewline: true) }
        guard let secret, !secret.isEmpty else {
            throw ValidationError(
                "no worker secret: a worker needs the daemon's (--secret-from-stdin, as the daemon starts its workers, or \(WorkerSecret.environmentKey))")
        }
        let status = WorkerMain.run(socketPath: path, workerID: id, secret: secret, limits: limits)
        if status != 0 { throw ExitCode(status) }
    }
}
