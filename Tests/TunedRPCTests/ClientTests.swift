import Foundation
import Glibc
import Testing

@testable import TunedRPC

let sampleStatus = DaemonStatus(
    version: "0.1.0", uptimeSeconds: 3, pid: 1234, workers: .init(configured: 2, alive: 2, busy: 0),
    tasks: ["running": 1], socket: "/tmp/x.sock", store: .init(path: "/tmp/x.db"))

func progress(_ step: Int64) -> TaskProgress {
    TaskProgress(
        taskID: 7, status: .running, stepsDone: step, stepsTotal: 300, etaSeconds: Double(300 - step) / 100,
        members: [], at: Double(step))
}

/// The test server's methods: daemon.status, task.get (404 for task 404), task.watch.
@Sendable func scriptedDaemon(_ r: RPCRequest) -> [[UInt8]] {
    switch r.method {
    case RPCMethodName.daemonStatus:
        return [RPCResponse.encodedLine(id: r.id, result: sampleStatus)]
    case RPCMethodName.taskGet:
        let p: TaskIDParams
        do { p = try r.decodeParams() } catch { return [RPCResponse.error(id: r.id, error).encodedLine()] }
        return [RPCResponse.error(id: r.id, .taskNotFound(p.taskID)).encodedLine()]
    case RPCMethodName.taskWatch:
        let d = TaskDetail(
            taskID: 7, name: "w", status: .running, strategy: "random", workload: "mlp",
            objective: .init(metric: "val_loss", mode: .min), members: [], stepsDone: 0, stepsTotal: 300, createdAt: 0)
        var lines = [RPCResponse.encodedLine(id: r.id, result: d)]
        for step in [100, 200, 300] as [Int64] {
            lines.append(try! RPCNotification.encodedLine(method: RPCMethodName.taskProgress, params: progress(step)))
        }
        lines.append(
            try! RPCNotification.encodedLine(
                method: RPCMethodName.taskFinished, params: TaskFinished(taskID: 7, status: .completed, finishedAt: 301)
            ))
        return lines
    default:
        return [RPCResponse.error(id: r.id, .methodNotFound(r.method)).encodedLine()]
    }
}

@Suite(.serialized) struct ClientTests {
    @Test func callReceivesResultErrorAndNotifications() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = TestServer(path: dir.path + "/tuned.sock", handler: scriptedDaemon)
        do {
            let client = try RPCClient(socketPath: server.path, timeout: .seconds(5))

            // A call with a result, through the generic and the typed entry points.
            let status: DaemonStatus = try client.call("daemon.status", params: RPCEmpty())
            #expect(status == sampleStatus)
            #expect(try client.call(RPCMethods.DaemonStatusMethod.self) == sampleStatus)

            // An error object comes back as .remote with the daemon's message and code.
            let error = try #require(throws: RPCClientError.self) {
                try client.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: 404))
            }
            #expect(error.code == .remote)
            #expect(error.remoteError?.knownCode == .taskNotFound)
            #expect(error.description == "no task 404 (see `tunectl list`)")

            // Unknown method.
            let e2 = try #require(throws: RPCClientError.self) {
                try client.call("nope", params: RPCEmpty(), as: RPCEmpty.self)
            }
            #expect(e2.remoteError?.knownCode == .methodNotFound)

            // Watch: three progress notifications, then finished.
            var seen: [Int64] = []
            let finished = try client.watchTask(7) { seen.append($0.stepsDone) }
            #expect(seen == [100, 200, 300])
            #expect(finished.status == .completed)
        }
        #expect(server.waitUntilDone())
    }

    @Test func readNotificationsStopsAtThePredicate() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = TestServer(path: dir.path + "/tuned.sock", handler: scriptedDaemon)
        do {
            let client = try RPCClient(socketPath: server.path, timeout: .seconds(5))
            _ = try client.call(RPCMethods.TaskWatch.self, TaskWatchParams(taskID: 7))
            var methods: [String] = []
            let last = try client.readNotifications(timeout: .seconds(5)) { n in
                methods.append(n.method)
                return n.method == RPCMethodName.taskFinished
            }
            #expect(methods == ["task.progress", "task.progress", "task.progress", "task.finished"])
            #expect(try last.decodeParams(TaskFinished.self).finishedAt == 301)
        }
        #expect(server.waitUntilDone())
    }

    @Test func aSilentDaemonTimesOut() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = TestServer(path: dir.path + "/tuned.sock") { _ in [] }
        do {
            let client = try RPCClient(socketPath: server.path, timeout: .milliseconds(200))
            let start = ContinuousClock.now
            let e = try #require(throws: RPCClientError.self) { try client.call(RPCMethods.DaemonStatusMethod.self) }
            #expect(e.code == .timeout)
            #expect(ContinuousClock.now - start < .seconds(3))
        }
        #expect(server.waitUntilDone())
    }

    @Test func aDaemonThatHangsUpIsConnectionClosed() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/tuned.sock"
        let fd = bindUnixSocket(at: path)
        let t = Thread {
            let c = accept(fd, nil, nil)
            var b = [UInt8](repeating: 0, count: 100)
            _ = recv(c, &b, 100, 0)
            close(c)
        }
        t.start()
        defer { close(fd) }
        let client = try RPCClient(socketPath: path, timeout: .seconds(5))
        let e = try #require(throws: RPCClientError.self) { try client.call(RPCMethods.DaemonStatusMethod.self) }
        #expect(e.code == .connectionClosed)
    }

    @Test func oversizedReplyIsRejected() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = TestServer(path: dir.path + "/tuned.sock") { r in
            [
                RPCResponse.encodedLine(
                    id: r.id, result: ["blob": .string(String(repeating: "x", count: 10_000))] as RPCValue)
            ]
        }
        do {
            let client = try RPCClient(socketPath: server.path, timeout: .seconds(5), maxResponseBytes: 1000)
            let e = try #require(throws: RPCClientError.self) { try client.call(RPCMethods.DaemonStatusMethod.self) }
            #expect(e.code == .responseTooLarge)
        }
        #expect(server.waitUntilDone())
    }

    // MARK: Connection errors

    @Test func missingSocketSaysHowToStartADaemon() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/none.sock"
        let e = try #require(throws: RPCClientError.self) { try RPCClient(socketPath: path) }
        #expect(e.code == .noDaemon)
        #expect(
            e.description
                == "no tuned daemon at \(path) (start one with `tuned --socket \(path) --store DB`, or set TUNED_SOCKET)"
        )
    }

    @Test func socketWithoutListenerIsStale() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/stale.sock"
        close(bindUnixSocket(at: path, listen: false))  // the file stays, nobody listens
        #expect(FileManager.default.fileExists(atPath: path))
        let e = try #require(throws: RPCClientError.self) { try RPCClient(socketPath: path) }
        #expect(e.code == .staleSocket)
        #expect(e.description.contains("stale") && e.description.contains("not running"))
    }

    @Test func tooLongPathIsExplained() throws {
        let e = try #require(throws: RPCClientError.self) {
            try RPCClient(socketPath: "/tmp/" + String(repeating: "a", count: 200))
        }
        #expect(e.code == .badSocketPath)
    }

    /// Mode 000 on the socket. Tests run as root, which bypasses file permissions; so the
    /// connect runs on a dedicated thread whose filesystem uid is switched to `nobody` with
    /// setfsuid(2) (per thread on Linux; it drops CAP_DAC_OVERRIDE for that thread only). A
    /// control connect to a mode-0666 socket with the same fsuid must succeed, proving the
    /// EACCES comes from the socket's mode. Not root: a plain connect, no fsuid switch.
    @Test func socketWithoutPermissionSaysWhichGroupToJoin() throws {
        let dir = TempDir()
        defer { dir.remove() }
        chmod(dir.path, 0o755)
        let open = dir.path + "/open.sock"
        let closed = dir.path + "/closed.sock"
        let fds = [bindUnixSocket(at: open), bindUnixSocket(at: closed)]
        defer { fds.forEach { close($0) } }
        chmod(open, 0o666)
        chmod(closed, 0o000)

        let results = connectAsUnprivileged([open, closed])
        #expect(results[0] == nil, "control connect to a 0666 socket failed: \(String(describing: results[0]))")
        let e = try #require(results[1])
        #expect(e.code == .permissionDenied)
        #expect(
            e.description
                == "permission denied on \(closed): add yourself to the socket's group (`ls -l \(closed)` shows it), then log in again"
        )
    }

    @Test func socketPathResolution() {
        #expect(RPCSocketPath.resolve(flag: "/a.sock", environment: ["TUNED_SOCKET": "/b.sock"]) == "/a.sock")
        #expect(RPCSocketPath.resolve(flag: nil, environment: ["TUNED_SOCKET": "/b.sock"]) == "/b.sock")
        #expect(RPCSocketPath.resolve(flag: "", environment: ["TUNED_SOCKET": ""]) == "/run/tuned/tuned.sock")
        #expect(RPCSocketPath.resolve(flag: nil, environment: [:]) == "/run/tuned/tuned.sock")
    }
}

/// Connects to each path from a fresh thread; as root, with the thread's fsuid set to 65534.
/// Returns nil for a successful connect, else the error.
func connectAsUnprivileged(_ paths: [String]) -> [RPCClientError?] {
    final class Box: @unchecked Sendable { var results: [RPCClientError?] = [] }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        let setfsuid = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid").map {
            unsafeBitCast($0, to: SetFSUID.self)
        }
        let asRoot = getuid() == 0
        if asRoot { _ = setfsuid?(65534) }
        for path in paths {
            do throws(RPCClientError) {
                _ = try RPCClient(socketPath: path)
                box.results.append(nil)
            } catch {
                box.results.append(error)
            }
        }
        if asRoot { _ = setfsuid?(0) }
        done.signal()
    }
    thread.start()
    done.wait()
    return box.results
}
