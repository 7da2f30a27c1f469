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

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let socketPath = socket ?? env["TUNED_SOCKET"] ?? "/run/tuned/tuned.sock"
        let storePath = store ?? env["TUNED_STORE"] ?? "/var/lib/tuned/tuned.db"
        do {
            try await DaemonMain.serve(
                socketPath: socketPath, storePath: storePath,
                workers: workers ?? ProcessInfo.processInfo.activeProcessorCount, leaseSeconds: leaseSeconds)
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

    func run() throws {
        let path = socket ?? ProcessInfo.processInfo.environment["TUNED_SOCKET"] ?? "/run/tuned/tuned.sock"
        let status = WorkerMain.run(socketPath: path, workerID: id)
        if status != 0 { throw ExitCode(status) }
    }
}
