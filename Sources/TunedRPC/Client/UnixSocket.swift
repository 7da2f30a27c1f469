#if canImport(Glibc)
    import Glibc
#endif

/// A connected AF_UNIX stream socket with deadline-bounded send and receive (poll, then
/// send/recv). Blocking; one owner at a time.
struct UnixSocket: ~Copyable {
    let fd: Int32
    let path: String

    /// `sun_path`'s capacity, including the terminating NUL.
    static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Connects to `path`, turning each failure into the error a person can act on.
    init(connectingTo path: String) throws(RPCClientError) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { throw .badSocketPath(path, "the path is empty") }
        guard bytes.count < Self.maxPathBytes else {
            throw .badSocketPath(path, "longer than \(Self.maxPathBytes - 1) bytes; use a shorter path")
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io("socket()", errno: errno, path: path) }
        var rc: Int32
        repeat {
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        } while rc != 0 && errno == EINTR
        if rc != 0 {
            let e = errno
            close(fd)
            switch e {
            case ENOENT: throw .noDaemon(at: path)
            case ECONNREFUSED: throw .staleSocket(at: path)
            case EACCES, EPERM: throw .permissionDenied(at: path)
            case ENOTDIR: throw .badSocketPath(path, "a component of the path is not a folder")
            default: throw .io("connect()", errno: e, path: path)
            }
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Milliseconds left until `deadline` for poll (-1 = no deadline), or nil if it has passed.
    static func pollTimeout(until deadline: ContinuousClock.Instant?) -> Int32? {
        guard let deadline else { return -1 }
        let left = deadline - .now
        if left <= .zero { return nil }
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(ms, 1))
    }

    enum WaitResult { case ready, timedOut }

    /// Waits for `events` (POLLIN / POLLOUT) until `deadline`.
    func wait(for events: Int16, until deadline: ContinuousClock.Instant?) throws(RPCClientError) -> WaitResult {
        while true {
            guard let ms = Self.pollTimeout(until: deadline) else { return .timedOut }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&pfd, 1, ms)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("poll()", errno: errno, path: path)
            }
            if n == 0 { continue }  // the loop re-checks the deadline
            return .ready  // readable, writable, or HUP/ERR (the next recv/send reports it)
        }
    }

    /// Sends all of `bytes`; returns false on timeout.
    func sendAll(_ bytes: [UInt8], until deadline: ContinuousClock.Instant?) throws(RPCClientError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            if try wait(for: Int16(POLLOUT), until: deadline) == .timedOut { return false }
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n < 0 {
                let e = errno
                if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { continue }
                if e == EPIPE || e == ECONNRESET { throw .connectionClosed(at: path) }
                throw .io("send()", errno: e, path: path)
            }
            offset += n
        }
        return true
    }

    enum ReceiveResult {
        case bytes([UInt8])
        case closed, timedOut
    }

    /// Receives whatever is available (up to `max` bytes), waiting until `deadline`.
    func receive(max: Int, until deadline: ContinuousClock.Instant?) throws(RPCClientError) -> ReceiveResult {
        while true {
            if try wait(for: Int16(POLLIN), until: deadline) == .timedOut { return .timedOut }
            var buf = [UInt8](repeating: 0, count: max)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                let e = errno
                if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { continue }
                if e == ECONNRESET { return .closed }
                throw .io("recv()", errno: e, path: path)
            }
            if n == 0 { return .closed }
            buf.removeSubrange(n...)
            return .bytes(buf)
        }
    }
}
