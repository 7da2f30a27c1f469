import Foundation
import Glibc

@testable import TunedRPC

/// A temporary folder removed by `remove()`.
struct TempDir: Sendable {
    let path: String
    init() {
        var template = Array("/tmp/tunedrpc-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Binds an AF_UNIX stream socket at `path`; listens unless `listen` is false.
func bindUnixSocket(at path: String, listen doListen: Bool = true) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    precondition(fd >= 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    precondition(rc == 0, "bind: \(String(cString: strerror(errno)))")
    if doListen { precondition(listen(fd, 8) == 0) }
    return fd
}

/// A line-at-a-time JSON-RPC server on a thread, with plain accept/recv/send: it serves
/// `connections` connections one after the other, answering each request line with the lines
/// `handler` returns, then exits. `waitUntilDone` joins it.
final class TestServer: Sendable {
    let path: String
    private let listenFD: Int32
    private let done = DispatchSemaphore(value: 0)

    init(
        path: String, connections: Int = 1,
        handler: @escaping @Sendable (RPCRequest) -> [[UInt8]]
    ) {
        self.path = path
        self.listenFD = bindUnixSocket(at: path)
        let fd = listenFD
        let done = self.done
        let thread = Thread {
            for _ in 0..<connections {
                let conn = accept(fd, nil, nil)
                guard conn >= 0 else { break }
                Self.serve(conn, handler: handler)
                close(conn)
            }
            close(fd)
            done.signal()
        }
        thread.start()
    }

    private static func serve(_ conn: Int32, handler: @Sendable (RPCRequest) -> [[UInt8]]) {
        var framer = RPCLineFramer(maxLineBytes: 1 << 20)
        let decoder = RPCRequestDecoder()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            framer.append(buf[0..<n])
            while let frame = framer.next() {
                var out: [[UInt8]]
                switch frame {
                case .oversized: out = [RPCResponse.error(id: nil, .requestTooLarge(limit: 1 << 20)).encodedLine()]
                case .line(let line):
                    switch decoder.decode(line) {
                    case .reply(let r): out = [r.encodedLine()]
                    case .request(let r): out = handler(r)
                    }
                }
                for line in out {
                    let sent = line.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent < 0 { return }
                }
            }
        }
    }

    /// True if the server thread finished within `seconds`.
    func waitUntilDone(seconds: Double = 10) -> Bool {
        done.wait(timeout: .now() + seconds) == .success
    }
}
