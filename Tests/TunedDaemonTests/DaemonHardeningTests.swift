import Foundation
import TunedRPC
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Peer credentials and connection limits of the real daemon (same serialized suite as the
/// end-to-end tests: one daemon at a time on the 2 shared cores).
extension DaemonEndToEndTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ exe: String, _ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Another uid (nobody, no groups) reaching a world-writable socket is refused with
    /// `unauthorized` naming the socket's group; root (this test's uid) is served.
    @Test func peerCredentialsRefuseOtherUsers() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 0, extraArgs: ["--socket-mode", "666"])
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        chmod(d.dir.path, 0o755)
        var st = stat()
        #expect(stat(d.socket, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o666)

        // The test's own uid (root) is accepted.
        let c = try RPCClient(socketPath: d.socket)
        #expect(try c.call(RPCMethods.DaemonStatusMethod.self).socket == d.socket)

        // tunectl as uid/gid 65534 without supplementary groups: refused.
        let tunectl = d.dir.appendingPathComponent("tunectl").path
        try FileManager.default.copyItem(atPath: Self.productsDirectory.appendingPathComponent("tunectl").path, toPath: tunectl)
        chmod(tunectl, 0o755)
        let r = try run("/usr/bin/setpriv", [
            "--reuid", "65534", "--regid", "65534", "--clear-groups", tunectl, "--socket", d.socket, "daemon", "status",
        ])
        #expect(r.status == 1, "stdout: \(r.stdout) stderr: \(r.stderr)")
        #expect(r.stderr.contains("unauthorized"), "\(r.stderr)")
        #expect(r.stderr.contains("add you to group `root`"), "\(r.stderr)")

        // Another uid whose gid is the socket's group (root's, 0): served.
        let member = try run("/usr/bin/setpriv", [
            "--reuid", "65534", "--regid", "0", "--clear-groups", tunectl, "--socket", d.socket, "--json", "daemon", "status",
        ])
        #expect(member.status == 0, "stdout: \(member.stdout) stderr: \(member.stderr)")

        // The raw reply: exactly one JSON-RPC error line with code -32002, then EOF.
        let py = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            data = b""
            while True:
                b = s.recv(65536)
                if not b: break
                data += b
            sys.stdout.write(data.decode())
            """
        let raw = try run("/usr/bin/setpriv", [
            "--reuid", "65534", "--regid", "65534", "--clear-groups", "/usr/bin/python3", "-c", py, d.socket,
        ])
        #expect(raw.status == 0, "\(raw.stderr)")
        let lines = raw.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(raw.stdout)")
        #expect(raw.stdout.contains("\"code\":-32002"), "\(raw.stdout)")

        // The daemon still serves its own user afterwards.
        #expect(try c.call(RPCMethods.DaemonStatusMethod.self).pid == d.process.processIdentifier)
        print("e2e peer credentials: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// --max-connections 3: the 4th client connection gets one −32003 line for its first
    /// request and is closed, while a worker's connection (its hello proves the daemon's
    /// secret) is still served; once a client closes, a new one is served. --idle-timeout 1:
    /// a silent connection is closed.
    @Test func connectionLimitAndIdleTimeout() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 0, extraArgs: ["--max-connections", "3", "--idle-timeout", "1.5"])
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        usleep(200_000)  // the start-up probe's connection is released

        func status(_ r: RawConnection, _ id: Int) -> String? {
            r.send("{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"daemon.status\"}\n")
            return r.readLine()
        }
        var open: [RawConnection] = []
        for i in 0..<3 {
            let r = try RawConnection(path: d.socket)
            let reply = try #require(status(r, i))
            #expect(reply.contains("\"result\""), "\(reply)")
            open.append(r)
        }
        // The daemon's workers do not count against the client limit.
        let worker = try fakeWorker(d, "w-over-the-limit")
        #expect(try worker.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: "w-over-the-limit")).lease == nil)
        let fourth = try RawConnection(path: d.socket)
        let refusal = try #require(status(fourth, 3))
        #expect(refusal.contains("\"code\":-32003"), "\(refusal)")
        #expect(refusal.contains("limit 3"), "\(refusal)")
        #expect(fourth.readLine() == nil, "the refused connection is closed")

        // Free a slot: a new connection is served.
        open.removeFirst()
        usleep(200_000)
        let fifth = try RawConnection(path: d.socket)
        #expect(try #require(status(fifth, 10)).contains("\"result\""))

        // Idle timeout: a connection silent for longer than 1.5 s is closed by the daemon.
        let idle = open[0]
        let t1 = Date()
        #expect(idle.readLine() == nil)
        let waited = Date().timeIntervalSince(t1)
        #expect(waited > 0.5 && waited < 8, "closed after \(waited) s")
        print("e2e connection limit + idle timeout: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// A line over 1 MiB gets −32004 and the connection keeps serving.
    @Test func oversizedRequestIsRefused() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let r = try RawConnection(path: d.socket)
        let big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.status\",\"params\":{\"x\":\""
            + String(repeating: "a", count: (1 << 20) + 16) + "\"}}\n"
        r.send(big)
        let reply = try #require(r.readLine())
        #expect(reply.contains("\"code\":-32004"), "\(reply.prefix(300))")
        #expect(reply.contains("1048576"), "\(reply.prefix(300))")
        r.send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.status\"}\n")
        let ok = try #require(r.readLine())
        #expect(ok.contains("\"result\"") && ok.contains("\"id\":2"), "\(ok)")
        print("e2e oversized request: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }
}
