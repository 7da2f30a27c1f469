import Foundation
import TunedRPC
import Testing
#if canImport(Glibc)
import Glibc
#endif

enum Ops {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var productsDirectory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir
    }
    static var tuned: String { productsDirectory.appendingPathComponent("tuned").path }

    /// A fresh temporary directory.
    static func scratch(_ tag: String) -> URL {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tuned-ops-\(tag)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil, cwd: URL? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently: a chatty child must not block on a full pipe.
        let box = DataBox()
        let g = DispatchGroup()
        g.enter()
        Thread.detachNewThread { box.err = err.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: box.err, as: UTF8.self))
    }

    final class DataBox: @unchecked Sendable { var err = Data() }

    /// A real `tuned serve` on a temporary socket and store.
    struct Daemon {
        var process: Process
        var socket: String
        var store: String
        var dir: URL
        var log: URL

        static let workerSecret = "ops-worker-secret-0123456789abcdef"

        static func start(workers: Int, args: [String] = [], environment: [String: String]? = nil, in dir: URL = Ops.scratch("d")) throws -> Daemon {
            let socket = dir.appendingPathComponent("t.sock").path
            let store = dir.appendingPathComponent("store/tuned.db").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Ops.tuned)
            p.arguments = ["serve", "--socket", socket, "--store", store, "--workers", "\(workers)"] + args
            // A known worker secret, so that tests can act as a worker.
            var env = environment ?? ProcessInfo.processInfo.environment
            env["TUNED_WORKER_SECRET"] = Daemon.workerSecret
            p.environment = env
            // Logs to a file, copied to stderr by `stop` (see DaemonEndToEndTests.startDaemon: a
            // crashed test must not leave a daemon holding `swift test`'s output open).
            let log = dir.appendingPathComponent("daemon-\(UUID().uuidString.prefix(8)).log")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            try? handle.close()
            let d = Daemon(process: p, socket: socket, store: store, dir: dir, log: log)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, p.isRunning {
                if let c = try? RPCClient(socketPath: socket), (try? c.call(RPCMethods.DaemonStatusMethod.self)) != nil { return d }
                usleep(50_000)
            }
            return d
        }

        @discardableResult
        func stop() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            if let text = try? Data(contentsOf: log) { FileHandle.standardError.write(text) }
            try? FileManager.default.removeItem(at: dir)
            return process.terminationStatus
        }

        func client() throws -> RPCClient { try RPCClient(socketPath: socket) }

        func waitFinished(_ c: RPCClient, _ id: Int64, timeout: Double = 120) throws -> TaskDetail {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                let d = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
                if d.status.isFinal { return d }
                if Date() > deadline { Issue.record("task \(id) still \(d.status) after \(timeout) s"); return d }
                usleep(100_000)
            }
        }
    }
}

extension Error {
    var remoteError: RPCError? { (self as? RPCClientError)?.remoteError }
    var message: String { "\(self)" }
}
