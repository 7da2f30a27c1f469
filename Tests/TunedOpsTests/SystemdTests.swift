import Foundation
import Testing
import TunedDaemon
import TunedRPC
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket the test binds, standing in for systemd's notification socket.
final class NotifySocket {
    let fd: Int32
    /// What to put in NOTIFY_SOCKET: the path, or `@name` for an abstract socket.
    let address: String

    init(abstract: Bool, dir: URL) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            address = "@tuned-ops-test-\(getpid())-\(UUID().uuidString.prefix(6))"
            bytes = Array(address.utf8)
            bytes[0] = 0
        } else {
            address = dir.appendingPathComponent("notify.sock").path
            bytes = Array(address.utf8) + [0]
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard rc == 0 else { throw DaemonError("bind \(address): \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Messages until one contains `wanted` (or `timeout` seconds pass).
    func read(until wanted: String, timeout: Double = 30) -> [String] {
        var got: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                got.append(String(decoding: buf[..<n], as: UTF8.self))
                if got.last!.split(separator: "\n").contains(where: { $0 == wanted }) { return got }
            }
        }
        return got
    }
}

@Suite(.serialized) struct SystemdTests {
    static func shippedUnit() throws -> String {
        try String(contentsOf: Ops.repositoryRoot.appendingPathComponent("scripts/tuned.service"), encoding: .utf8)
    }

    /// The shipped unit with ExecStart at the built `tuned`: `systemd-analyze` insists that
    /// the binary exists.
    static func unitForVerify() throws -> String {
        try shippedUnit().replacingOccurrences(of: "ExecStart=/usr/local/bin/tuned", with: "ExecStart=\(Ops.tuned)")
    }

    /// The unit's `Key=value` lines (comments and section headers left out).
    static func settings(_ unit: String) -> [String] {
        unit.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") && !$0.hasPrefix("[") && $0.contains("=") }
    }

    /// Issue 12: GPU programs, JIT runtimes and networked programs run under the default
    /// unit; every other hardening line of the unit stays.
    @Test func theUnitDoesNotBlockGPUsJITOrNetworkAndKeepsTheRestOfItsHardening() throws {
        let lines = Self.settings(try Self.shippedUnit())
        for blocking in ["PrivateDevices=yes", "MemoryDenyWriteExecute=yes", "RestrictAddressFamilies=AF_UNIX"] {
            #expect(!lines.contains(blocking), "\(blocking) is set")
        }
        #expect(!lines.contains { $0.hasPrefix("PrivateDevices=") || $0.hasPrefix("MemoryDenyWriteExecute=") })
        #expect(lines.filter { $0.hasPrefix("RestrictAddressFamilies=") } == ["RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"])
        // Devices: the pseudo devices (closed) plus the GPU groups of /proc/devices.
        #expect(lines.contains("DevicePolicy=closed"))
        #expect(lines.filter { $0.hasPrefix("DeviceAllow=") } == ["DeviceAllow=char-nvidia* rw", "DeviceAllow=char-drm rw", "DeviceAllow=char-kfd rw"])
        for kept in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes", "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes",
            "ProtectProc=invisible", "RestrictNamespaces=yes", "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes",
            "RemoveIPC=yes", "CapabilityBoundingSet=", "AmbientCapabilities=", "SystemCallArchitectures=native",
            "SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM", "UMask=0007", "User=tuned",
        ] {
            #expect(lines.contains(kept), "missing \(kept)")
        }
    }

    /// scripts/tuned-builtin-only.conf closes devices, W+X memory and the network again: as
    /// systemd itself reads the unit with the drop-in (`systemd-analyze security --offline`).
    @Test func theBuiltinOnlyDropInTightensTheSandboxAsSystemdReadsIt() throws {
        let dir = Ops.scratch("builtin-only")
        defer { try? FileManager.default.removeItem(at: dir) }
        let unit = dir.appendingPathComponent("tuned.service")
        try Self.unitForVerify().write(to: unit, atomically: true, encoding: .utf8)
        func security() throws -> String {
            let r = try Ops.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", unit.path])
            #expect(r.status == 0, "\(r)")
            return r.stdout
        }
        func row(_ text: String, _ name: String) -> String? {
            text.split(separator: "\n").map(String.init).first { $0.dropFirst(2).hasPrefix(name + " ") }
        }
        let open = try security()
        #expect(row(open, "PrivateDevices=")?.hasPrefix("✗") == true, "\(open)")
        #expect(row(open, "MemoryDenyWriteExecute=")?.hasPrefix("✗") == true, "\(open)")
        #expect(row(open, "RestrictAddressFamilies=~AF_(INET|INET6)")?.hasPrefix("✗") == true, "\(open)")
        #expect(row(open, "ProtectSystem=")?.hasPrefix("✓") == true, "\(open)")

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tuned.service.d"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Ops.repositoryRoot.appendingPathComponent("scripts/tuned-builtin-only.conf"),
            to: dir.appendingPathComponent("tuned.service.d/builtin-only.conf"))
        let closed = try security()
        #expect(row(closed, "PrivateDevices=")?.hasPrefix("✓") == true, "\(closed)")
        #expect(row(closed, "MemoryDenyWriteExecute=")?.hasPrefix("✓") == true, "\(closed)")
        #expect(row(closed, "RestrictAddressFamilies=~AF_(INET|INET6)")?.hasPrefix("✓") == true, "\(closed)")
        #expect(row(closed, "RestrictAddressFamilies=~AF_NETLINK")?.hasPrefix("✓") == true, "\(closed)")
        let v = try Ops.run("/usr/bin/systemd-analyze", ["verify", unit.path])
        #expect(v.status == 0 && v.stdout.isEmpty && v.stderr.isEmpty, "\(v)")
    }

    /// `systemd-analyze verify` prints nothing for the shipped unit. It insists that
    /// ExecStart's binary exists, so the copy verified points at the built `tuned`; every
    /// other line is the shipped one. (It exits 0 on warnings: the test reads its output.)
    @Test func systemdAnalyzeVerifyPrintsNothing() throws {
        let dir = Ops.scratch("unit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let unit = try Self.shippedUnit()
        for key in ["Type=notify", "User=tuned", "RuntimeDirectory=tuned", "StateDirectory=tuned", "ConfigurationDirectory=tuned",
                    "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                    "Restart=on-failure", "WatchdogSec=", "SystemCallFilter=@system-service"] {
            #expect(unit.contains("\n" + key), "missing \(key)")
        }
        #expect(unit.contains("ExecStart=/usr/local/bin/tuned serve --config /etc/tuned/tuned.toml"))
        let copy = try Self.unitForVerify()
        try copy.write(to: dir.appendingPathComponent("tuned.service"), atomically: true, encoding: .utf8)
        let r = try Ops.run("/usr/bin/systemd-analyze", ["verify", dir.appendingPathComponent("tuned.service").path])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty && r.stderr.isEmpty, "systemd-analyze verify: \(r.stdout)\(r.stderr)")

        // The check is real: a unit with a typo makes it print a warning (and still exit 0).
        try (copy + "\n[Service]\nRestart=sometimes\n").write(to: dir.appendingPathComponent("bad.service"), atomically: true, encoding: .utf8)
        let bad = try Ops.run("/usr/bin/systemd-analyze", ["verify", dir.appendingPathComponent("bad.service").path])
        #expect(bad.status == 0 && bad.stderr.contains("sometimes"), "\(bad)")
    }

    /// The real daemon under NOTIFY_SOCKET: READY=1 once its socket accepts, WATCHDOG=1 pings
    /// at half WATCHDOG_USEC, STOPPING=1 on SIGTERM. Both a path and an abstract socket.
    @Test(arguments: [false, true]) func daemonSendsReadyWatchdogAndStopping(abstract: Bool) throws {
        let dir = Ops.scratch("notify")
        let notify = try NotifySocket(abstract: abstract, dir: dir)
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.address
        env["WATCHDOG_USEC"] = "400000"
        let d = try Ops.Daemon.start(workers: 0, environment: env, in: dir)
        defer { d.stop() }
        let ready = notify.read(until: "READY=1")
        #expect(ready.last?.contains("READY=1") == true, "\(ready)")
        #expect(ready.last?.contains("MAINPID=\(d.process.processIdentifier)") == true, "\(ready)")
        // READY comes after the socket accepts: a client connects at once.
        #expect((try? d.client().call(RPCMethods.DaemonStatusMethod.self)) != nil)
        let pings = notify.read(until: "WATCHDOG=1", timeout: 5)
        #expect(pings.last == "WATCHDOG=1", "\(pings)")
        kill(d.process.processIdentifier, SIGTERM)
        let stopping = notify.read(until: "STOPPING=1", timeout: 15)
        #expect(stopping.last == "STOPPING=1", "\(stopping)")
        #expect(d.stop() == 0)
    }

    @Test func notifierIsOffWithoutNotifySocketAndWatchdogFollowsWatchdogPID() {
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x"])?.watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"])?.watchdogInterval == 15)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"])?.watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@nowhere-\(getpid())"])?.notify("READY=1") == false)
    }
}
