#if canImport(Glibc)
    import Glibc
#endif

/// Why a call did not get a result, in words a person can act on (`description` is the
/// one line `tunectl` prints). Equality is on `code`.
public struct RPCClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noDaemon, staleSocket, permissionDenied, badSocketPath, connectionClosed, timeout
            case responseTooLarge, protocolViolation, remote, encoding, io
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The socket file does not exist.
        public static let noDaemon = Code(.noDaemon)
        /// The socket file exists but nobody listens (ECONNREFUSED): the daemon died.
        public static let staleSocket = Code(.staleSocket)
        /// EACCES on the socket or its folder.
        public static let permissionDenied = Code(.permissionDenied)
        /// The path is too long for a Unix socket, or a component is not a folder.
        public static let badSocketPath = Code(.badSocketPath)
        /// The daemon closed the connection before replying.
        public static let connectionClosed = Code(.connectionClosed)
        /// No reply within the timeout.
        public static let timeout = Code(.timeout)
        /// A reply line exceeded the client's limit.
        public static let responseTooLarge = Code(.responseTooLarge)
        /// The daemon sent something that is not the expected JSON-RPC reply.
        public static let protocolViolation = Code(.protocolViolation)
        /// The daemon answered with a JSON-RPC error object (`remoteError`).
        public static let remote = Code(.remote)
        /// The request's params could not be encoded (a bug in the caller).
        public static let encoding = Code(.encoding)
        /// Another system call failed.
        public static let io = Code(.io)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// The daemon's error object, for `.remote`.
    public let remoteError: RPCError?
    /// Where the error was raised, for logs.
    public let file: String
    public let line: Int

    private init(_ code: Code, _ message: String, remoteError: RPCError? = nil, file: String, line: Int) {
        self.code = code
        self.message = message
        self.remoteError = remoteError
        self.file = file
        self.line = line
    }

    public var description: String { message }

    public static func == (lhs: RPCClientError, rhs: RPCClientError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static let startHint = "start one with `tuned --socket PATH --store DB`, or set TUNED_SOCKET"

    public static func noDaemon(at path: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .noDaemon,
            "no tuned daemon at \(path) (start one with `tuned --socket \(path) --store DB`, or set TUNED_SOCKET)",
            file: file, line: line)
    }

    public static func staleSocket(at path: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .staleSocket,
            "no tuned daemon is listening at \(path): the socket file is stale and the daemon is not running (start it with `tuned --socket \(path) --store DB`, or `systemctl start tuned`)",
            file: file, line: line)
    }

    public static func permissionDenied(at path: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .permissionDenied,
            "permission denied on \(path): add yourself to the socket's group (`ls -l \(path)` shows it), then log in again",
            file: file, line: line)
    }

    public static func badSocketPath(_ path: String, _ reason: String, file: String = #fileID, line: Int = #line)
        -> Self
    {
        Self(.badSocketPath, "cannot use \(path) as the tuned socket: \(reason)", file: file, line: line)
    }

    public static func connectionClosed(at path: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .connectionClosed,
            "the tuned daemon at \(path) closed the connection before replying (it may have stopped; see its log)",
            file: file, line: line)
    }

    public static func timeout(
        at path: String, method: String, seconds: Double, file: String = #fileID, line: Int = #line
    ) -> Self {
        Self(
            .timeout,
            "no reply to `\(method)` from the tuned daemon at \(path) within \(formatSeconds(seconds)) (it may be overloaded or hung; check its log)",
            file: file, line: line)
    }

    public static func responseTooLarge(limit: Int, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .responseTooLarge, "the daemon's reply exceeds the client's limit of \(limit) bytes", file: file, line: line
        )
    }

    public static func protocolViolation(_ detail: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(
            .protocolViolation,
            "unexpected reply from the tuned daemon (\(detail)); are tunectl and tuned the same version?",
            file: file, line: line)
    }

    public static func remote(_ error: RPCError, file: String = #fileID, line: Int = #line) -> Self {
        Self(.remote, error.message, remoteError: error, file: file, line: line)
    }

    public static func encoding(_ detail: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.encoding, "cannot encode the request: \(detail)", file: file, line: line)
    }

    public static func io(
        _ operation: String, errno code: Int32, path: String, file: String = #fileID, line: Int = #line
    ) -> Self {
        Self(.io, "\(operation) on \(path) failed: \(String(cString: strerror(code)))", file: file, line: line)
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
