import Foundation
import Glibc
import TunedRPC

/// A temporary folder removed by `remove()`.
struct TempDir: Sendable {
    let path: String
    init() {
        var template = Array("/tmp/tunectl-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A scripted daemon on a thread, with plain accept/recv/send: it serves `connections`
/// connections one after the other, answering each request line with the lines `handler`
/// returns, and records every request it read.
final class ScriptedDaemon: @unchecked Sendable {
    let path: String
    private let listenFD: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var recorded: [RPCRequest] = []

    /// The requests read so far, in order.
    var requests: [RPCRequest] { lock.withLock { recorded } }

    init(path: String, connections: Int = 1, handler: @escaping @Sendable (RPCRequest) -> [[UInt8]]) {
        self.path = path
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
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        precondition(rc == 0 && listen(fd, 8) == 0, "bind/listen: \(String(cString: strerror(errno)))")
        listenFD = fd
        let thread = Thread { [self] in
            for _ in 0..<connections {
                let conn = accept(fd, nil, nil)
                guard conn >= 0 else { break }
                serve(conn, handler: handler)
                close(conn)
            }
            close(fd)
            done.signal()
        }
        thread.start()
    }

    private func serve(_ conn: Int32, handler: (RPCRequest) -> [[UInt8]]) {
        var framer = RPCLineFramer(maxLineBytes: 1 << 20)
        let decoder = RPCRequestDecoder()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            framer.append(buf[0..<n])
            while let frame = framer.next() {
                guard case .line(let line) = frame, case .request(let request) = decoder.decode(line) else { return }
                lock.withLock { recorded.append(request) }
                for out in handler(request) {
                    let sent = out.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
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

/// Runs the built `tunectl` (beside the test bundle) and captures its output.
enum TunectlBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var productsDirectory: URL {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws
        -> Result
    {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tunectl")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["TUNED_SOCKET"] = nil
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
