import Foundation
import TunedRPC
#if canImport(Glibc)
import Glibc
#endif

/// `struct ucred` (not exported by the Glibc module): what `SO_PEERCRED` fills in.
struct PeerCred {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// The limits one `SocketServer` enforces.
public struct SocketLimits: Sendable {
    /// Connections served at once; one more gets a `tooManyConnections` line and is closed.
    public var maxConnections: Int = 64
    /// Seconds a connection may stay silent before the daemon closes it (0: never).
    public var idleTimeout: Double = 300
    /// Bytes a request line may hold; a longer one is answered with `requestTooLarge`.
    public var maxLineBytes: Int = RPCRequestDecoder.defaultMaxLineBytes
    /// The socket file's permission bits.
    public var socketMode: mode_t = 0o660
    public init() {}
}

/// A plain POSIX Unix-socket server: one accept thread, one thread per connection; each line
/// goes through `RPCRequestDecoder` (a malformed line gets its error reply and the
/// connection stays open), requests are answered by `handler` in order.
///
/// On accept the peer's credentials (`SO_PEERCRED`) are checked: the daemon's own uid, root,
/// and members of the socket file's group are served; anyone else gets one `unauthorized`
/// error line and is closed. Then the connection limit; then idle connections time out.
final class SocketServer: @unchecked Sendable {
    let path: String
    let limits: SocketLimits
    private let fd: Int32
    private let lock = NSLock()
    private var closed = false
    private var active = 0

    init(path: String, limits: SocketLimits = SocketLimits()) throws {
        self.limits = limits
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket(): \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw DaemonError("socket path too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw DaemonError("cannot bind \(path): \(e)")
        }
        chmod(path, limits.socketMode)
        guard listen(fd, 128) == 0 else {
            close(fd)
            throw DaemonError("listen(): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = fd
    }

    func start(handler: @escaping @Sendable (RPCRequest, PeerCredentials?) -> RPCResponse?) {
        let t = Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 {
                    if lock.withLock({ closed }) { return }
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    usleep(10_000)
                    continue
                }
                if let refusal = admit(c) {
                    var tv = timeval(tv_sec: 1, tv_usec: 0)
                    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    _ = Self.writeAll(c, RPCResponse.error(id: nil, refusal).encodedLine())
                    shutdown(c, Int32(SHUT_WR))
                    close(c)
                    continue
                }
                if limits.idleTimeout > 0 {
                    let secs = limits.idleTimeout.rounded(.down)
                    var tv = timeval(tv_sec: Int(secs), tv_usec: Int((limits.idleTimeout - secs) * 1_000_000))
                    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                }
                let maxLine = limits.maxLineBytes
                let peer = Self.peerCredentials(c)  // ops: for the command-workload allow-list
                let ct = Thread { [self] in
                    Self.serve(c, maxLineBytes: maxLine) { handler($0, peer) }
                    lock.withLock { active -= 1 }
                }
                ct.stackSize = 1 << 20
                ct.start()
            }
        }
        t.start()
    }

    /// Checks the peer's credentials and the connection limit; on success counts the connection
    /// as active and returns nil, otherwise returns the error to send before closing.
    func admit(_ c: Int32) -> RPCError? {
        var cred = PeerCred(pid: 0, uid: UInt32.max, gid: UInt32.max)
        var len = socklen_t(MemoryLayout<PeerCred>.size)
        guard getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else {
            return .unauthorized("cannot read the peer's credentials: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        let socketGID: gid_t? = stat(path, &st) == 0 ? st.st_gid : nil
        if !Self.allowed(uid: cred.uid, gid: cred.gid, socketGID: socketGID) {
            let group = socketGID.map(Self.groupName) ?? "of the socket"
            log("refused a connection from uid \(cred.uid) (pid \(cred.pid)): not in group \(group)")
            return .unauthorized(
                "uid \(cred.uid) may not use this daemon; ask its administrator to add you to group \(group) (the group of \(path))")
        }
        let ok: Bool = lock.withLock {
            if active >= limits.maxConnections { return false }
            active += 1
            return true
        }
        if !ok {
            log("refused a connection from uid \(cred.uid) (pid \(cred.pid)): \(limits.maxConnections) connections open")
            return .tooManyConnections(limit: limits.maxConnections)
        }
        return nil
    }

    static func peerCredentials(_ c: Int32) -> PeerCredentials? {
        var cred = PeerCred(pid: 0, uid: UInt32.max, gid: UInt32.max)
        var len = socklen_t(MemoryLayout<PeerCred>.size)
        guard getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return nil }
        return PeerCredentials(uid: cred.uid, gid: cred.gid, pid: cred.pid)
    }

    /// The daemon's own uid, root, and members (primary or supplementary) of the socket's group.
    static func allowed(uid: UInt32, gid: UInt32, socketGID: gid_t?) -> Bool {
        if uid == 0 || uid == getuid() || uid == geteuid() { return true }
        guard let socketGID else { return false }
        if gid == socketGID { return true }
        return supplementaryGroups(of: uid).contains(socketGID)
    }

    static func supplementaryGroups(of uid: UInt32) -> [gid_t] {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let name = pwd.pw_name else { return [] }
        var n: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(n))
            let count = n
            if getgrouplist(name, pwd.pw_gid, &groups, &n) >= 0 { return Array(groups[..<Int(n)]) }
            if n <= count { n = count * 2 }
            if n > 65536 { return [] }
        }
    }

    static func groupName(_ gid: gid_t) -> String {
        var grp = group()
        var result: UnsafeMutablePointer<group>?
        var buf = [CChar](repeating: 0, count: 16384)
        if getgrgid_r(gid, &grp, &buf, buf.count, &result) == 0, result != nil, let name = grp.gr_name {
            return "`\(String(cString: name))`"
        }
        return "\(gid)"
    }

    /// Stops accepting and removes the socket file.
    func stop() {
        lock.withLock { closed = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }

    static func serve(_ c: Int32, maxLineBytes: Int, handler: @Sendable (RPCRequest) -> RPCResponse?) {
        defer { close(c) }
        let decoder = RPCRequestDecoder(maxLineBytes: maxLineBytes)
        var framer = RPCLineFramer(maxLineBytes: decoder.maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(c, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { log("closing an idle connection"); return }
            if n <= 0 { return }
            framer.append(buffer[..<n])
            while let frame = framer.next() {
                let reply: [UInt8]?
                switch frame {
                case .oversized:
                    reply = RPCResponse.error(id: nil, .requestTooLarge(limit: decoder.maxLineBytes)).encodedLine()
                case .line(let line):
                    switch decoder.decode(line) {
                    case .reply(let r): reply = r.encodedLine()
                    case .request(let req): reply = handler(req)?.encodedLine()
                    }
                }
                if let reply, !writeAll(c, reply) { return }
            }
        }
    }

    static func writeAll(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(c, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }
}

public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Runs `op` on the concurrency pool and blocks this (non-pool) thread until it returns.
func blocking<T: Sendable>(_ op: @escaping @Sendable () async -> T) -> T {
    let box = BlockingBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task {
        box.value = await op()
        sem.signal()
    }
    sem.wait()
    return box.value!
}

final class BlockingBox<T>: @unchecked Sendable {
    var value: T?
    init() {}
}
