import Foundation
import TunedRPC
#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX Unix-socket server: one accept thread, one thread per connection; each line
/// goes through `RPCRequestDecoder` (a malformed line gets its error reply and the
/// connection stays open), requests are answered by `handler` in order.
final class SocketServer: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var closed = false

    init(path: String) throws {
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
        chmod(path, 0o660)
        guard listen(fd, 128) == 0 else {
            close(fd)
            throw DaemonError("listen(): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = fd
    }

    func start(handler: @escaping @Sendable (RPCRequest) -> RPCResponse?) {
        let t = Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 {
                    if lock.withLock({ closed }) { return }
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    usleep(10_000)
                    continue
                }
                let ct = Thread { Self.serve(c, handler: handler) }
                ct.stackSize = 1 << 20
                ct.start()
            }
        }
        t.start()
    }

    /// Stops accepting and removes the socket file.
    func stop() {
        lock.withLock { closed = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }

    static func serve(_ c: Int32, handler: @Sendable (RPCRequest) -> RPCResponse?) {
        defer { close(c) }
        let decoder = RPCRequestDecoder()
        var framer = RPCLineFramer(maxLineBytes: decoder.maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(c, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
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
