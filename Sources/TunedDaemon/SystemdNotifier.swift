import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `sd_notify(3)` protocol without libsystemd: one datagram per message to the
/// AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or an abstract name written with a
/// leading `@`). Used by `Type=notify` units: `READY=1` once the socket accepts,
/// `STOPPING=1` at shutdown, `WATCHDOG=1` every half `$WATCHDOG_USEC`.
public struct SystemdNotifier: Sendable {
    public let socketPath: String
    /// Interval between watchdog pings (half of `WATCHDOG_USEC`), when the unit sets `WatchdogSec`.
    public let watchdogInterval: Double?

    /// Nil when the environment has no `NOTIFY_SOCKET` (not started by systemd).
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        socketPath = path
        // WATCHDOG_PID, when set, names the process that must ping; another process must not.
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = usec / 2_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `state` (e.g. "READY=1\nSTATUS=serving"); false if it could not be delivered.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        // An abstract name's length is exact; a path's includes its terminating NUL.
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, socklen_t(length)) }
            }
        }
        return sent == message.count
    }
}
