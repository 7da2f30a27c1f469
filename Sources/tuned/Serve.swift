import ArgumentParser
import Foundation
import TunedDaemon

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the daemon: JSON-RPC on a Unix socket, a SQLite store, N worker processes.")

    @Option(help: "Unix socket path (default: $TUNED_SOCKET or /run/tuned/tuned.sock).")
    var socket: String?
    @Option(help: "SQLite store path (default: $TUNED_STORE or /var/lib/tuned/tuned.db).")
    var store: String?
    @Option(help: "Worker processes (default: the number of cores).")
    var workers: Int?
    @Option(help: "Lease duration in seconds.")
    var leaseSeconds: Double = 10
    @Option(help: "Connections served at once; one more gets a `too many connections` error and is closed.")
    var maxConnections: Int = 64
    @Option(help: "Seconds a connection may stay silent before the daemon closes it (0: never).")
    var idleTimeout: Double = 300
    @Option(help: "The socket file's permission bits, in octal. Peers other than root, the daemon's uid and the socket's group are refused anyway.")
    var socketMode: String = "660"
    @Option(help: "Least severe log level written to stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be 0 or more seconds") }
        guard let m = UInt32(socketMode, radix: 8), m <= 0o777 else {
            throw ValidationError("--socket-mode must be octal permission bits like 660, got `\(socketMode)`")
        }
        guard DaemonLogging.level(logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(DaemonLogging.levelNames), got `\(logLevel)`")
        }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let socketPath = socket ?? env["TUNED_SOCKET"] ?? "/run/tuned/tuned.sock"
        let storePath = store ?? env["TUNED_STORE"] ?? "/var/lib/tuned/tuned.db"
        let level = DaemonLogging.level(logLevel) ?? .info
        DaemonLogging.bootstrap(level: level)
        var options = ServeOptions(
            socketPath: socketPath, storePath: storePath, workers: workers ?? ProcessInfo.processInfo.activeProcessorCount)
        options.leaseSeconds = leaseSeconds
        options.limits.maxConnections = maxConnections
        options.limits.idleTimeout = idleTimeout
        options.limits.socketMode = mode_t(UInt32(socketMode, radix: 8) ?? 0o660)
        options.logLevel = level
        do {
            try await DaemonMain.serve(options)
        } catch {
            FileHandle.standardError.write(Data("tuned: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker process (started by the daemon): lease, train, report, finish.")

    @Option(help: "The daemon's socket.")
    var socket: String?
    @Option(help: "Worker id.")
    var id: String = "w\(getpid())"
    @Option(help: "Least severe log level written to stderr (as for serve).")
    var logLevel: String = "info"

    func validate() throws {
        guard DaemonLogging.level(logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(DaemonLogging.levelNames), got `\(logLevel)`")
        }
    }

    func run() throws {
        DaemonLogging.bootstrap(level: DaemonLogging.level(logLevel) ?? .info)
        let path = socket ?? ProcessInfo.processInfo.environment["TUNED_SOCKET"] ?? "/run/tuned/tuned.sock"
        let status = WorkerMain.run(socketPath: path, workerID: id)
        if status != 0 { throw ExitCode(status) }
    }
}
