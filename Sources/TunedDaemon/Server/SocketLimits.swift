import TunedRPC

#if canImport(Glibc)
    import Glibc
#endif

/// The limits the RPC server enforces on its Unix socket.
public struct SocketLimits: Sendable {
    /// Client connections served at once; one more gets a `tooManyConnections` line and is
    /// closed. The daemon's own workers do not count (`ConnectionCounter`).
    public var maxConnections: Int = 64
    /// Seconds a connection may stay silent before the daemon closes it (0: never). A
    /// connection that is watching a task (`task.watch`) or waiting for a reply is not idle.
    public var idleTimeout: Double = 300
    /// Bytes a request line may hold; a longer one is answered with `requestTooLarge`.
    public var maxLineBytes: Int = RPCRequestDecoder.defaultMaxLineBytes
    /// The socket file's permission bits.
    public var socketMode: mode_t = 0o660
    public init() {}
}

/// What the RPC server calls for each request: `DaemonCore`, or anything else that answers
/// JSON-RPC (the benchmarks' echo handler).
public protocol RPCHandler: Sendable {
    /// The reply to one request (nil for a notification), `caller` being who is at the other
    /// end of the connection (its credentials, and the worker it has proven to be, if any).
    func handle(_ request: RPCRequest, caller: Caller) async -> RPCResponse?

    /// After `reply` went out: the notifications to push on the same connection (`task.watch`),
    /// or nil. The stream runs until it returns or the connection closes (then it is cancelled).
    func notifications(after request: RPCRequest, reply: RPCResponse) -> RPCNotificationStream?
}

/// Pushes notification lines through `send` until done; cancelled when the connection closes.
public typealias RPCNotificationStream =
    @Sendable (_ send: @escaping @Sendable ([UInt8]) async throws -> Void) async throws -> Void

public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
