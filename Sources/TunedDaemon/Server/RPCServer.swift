import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TunedRPC

#if canImport(Glibc)
    import Glibc
#endif

/// JSON-RPC over a Unix stream socket, on SwiftNIO: one `NIOAsyncChannel` per connection in a
/// discarding task group, so a connection's error never takes the server down.
///
/// On accept, the peer's credentials (`SO_PEERCRED`) are checked — the daemon's own uid, root
/// and members of the socket file's group are served, anyone else gets one `unauthorized`
/// line and is closed. The first request classifies the connection (`ConnectionCounter`): a
/// `worker.hello` that proves the daemon's secret makes it a worker's, which the client limit
/// does not count; anything else makes it a client's, refused over the limit
/// (`tooManyConnections`). Each line goes
/// through `RPCRequestDecoder` (a malformed line gets exactly one error reply and the
/// connection stays open); requests of one connection are answered in order; a line over the
/// limit gets `requestTooLarge`. A connection silent for the idle timeout is closed.
///
/// As a `Service`: `run` binds, calls `onReady` once the socket accepts, serves until graceful
/// shutdown, then closes every connection and removes the socket file.
public final class RPCServer: Service, Sendable {
    public let path: String
    public let limits: SocketLimits
    let handler: any RPCHandler
    let logger: Logger
    let onReady: @Sendable () -> Void
    private let counter: Mutex<ConnectionCounter>

    public init(
        path: String, limits: SocketLimits = SocketLimits(), handler: any RPCHandler, logger: Logger,
        onReady: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.limits = limits
        self.handler = handler
        self.logger = logger
        self.onReady = onReady
        self.counter = Mutex(ConnectionCounter(maxConnections: limits.maxConnections))
    }

    struct Accepted: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var state: ConnectionState
    }

    public func run() async throws {
        let server = try await bind()
        defer { unlink(path) }
        onReady()
        logger.info(
            "serving on \(path)",
            metadata: [
                "max_connections": "\(limits.maxConnections)", "idle_timeout_s": "\(limits.idleTimeout)",
                "mode": "\(String(limits.socketMode, radix: 8))",
            ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
                group.cancelAll()  // open connections end with the server
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        logger.info("socket closed", metadata: ["path": "\(path)"])
    }

    /// Binds with the socket's mode already in the umask, so that the file never exists with
    /// wider permissions; a stale socket file (not any other file) is replaced.
    func bind() async throws -> NIOAsyncChannel<Accepted, Never> {
        let limits = self.limits
        let logger = self.logger
        let old = umask(~limits.socketMode & 0o777)
        defer { umask(old) }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let state = ConnectionState()
                        if limits.idleTimeout > 0 {
                            let timeout = TimeAmount.nanoseconds(Int64(limits.idleTimeout * 1e9))
                            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout))
                            try channel.pipeline.syncOperations.addHandler(
                                IdleCloseHandler(state: state) { logger.info("closing an idle connection") })
                        }
                        let async = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        return Accepted(channel: async, state: state)
                    }
                }
            chmod(path, limits.socketMode)
            return channel
        } catch {
            throw DaemonError("cannot bind \(path): \(error)")
        }
    }

    // MARK: One connection

    func serve(_ a: Accepted) async {
        let peer: PeerCredentials
        do {
            peer = try await credentials(a.channel.channel)
        } catch {
            await refuse(a, .unauthorized("cannot read the peer's credentials: \(error)"))
            return
        }
        if let refusal = admit(peer) {
            await refuse(a, refusal)
            return
        }
        let caller = Caller(peer: peer)
        defer { counter.withLock { $0.close(a.state.kind) } }
        do {
            try await a.channel.executeThenClose { inbound, outbound in
                try await self.exchange(inbound, outbound, state: a.state, caller: caller) {
                    self.classify(caller: caller, state: a.state)
                }
            }
        } catch {
            logger.debug("connection ended: \(error)", metadata: ["peer.pid": "\(peer.pid)"])
        }
    }

    /// After the connection's first request was answered: a worker's connection if that
    /// request proved the secret, else a client's, which the client limit may refuse.
    func classify(caller: Caller, state: ConnectionState) -> RPCError? {
        let worker = caller.worker != nil
        let ok = counter.withLock { $0.classify(asWorker: worker) }
        guard ok else {
            logger.warning(
                "refused a connection: \(limits.maxConnections) client connections open",
                metadata: ["peer.uid": "\(caller.peer?.uid ?? 0)", "peer.pid": "\(caller.peer?.pid ?? 0)"])
            return .tooManyConnections(limit: limits.maxConnections)
        }
        state.kind = worker ? .worker : .client
        return nil
    }

    /// Reads request lines and answers them in order; `task.watch` streams run beside, in the
    /// connection's task group, and are cancelled when the connection closes. `classify` is
    /// called once, before the first request is answered, for a worker's hello after it; an
    /// error from it is sent instead of the reply (a hello's own reply goes first) and closes
    /// the connection.
    func exchange(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        state: ConnectionState, caller: Caller, classify: () -> RPCError?
    ) async throws {
        let decoder = RPCRequestDecoder(maxLineBytes: limits.maxLineBytes)
        var framer = RPCLineFramer(maxLineBytes: decoder.maxLineBytes)
        var classified = false
        try await withThrowingDiscardingTaskGroup { group in
            reading: for try await buffer in inbound {
                framer.append(buffer.readableBytesView)
                while let frame = framer.next() {
                    var request: RPCRequest?
                    let reply: RPCResponse?
                    switch frame {
                    case .oversized:
                        reply = .error(id: nil, .requestTooLarge(limit: decoder.maxLineBytes))
                    case .line(let line):
                        switch decoder.decode(line) {
                        case .reply(let r): reply = r
                        case .request(let r):
                            request = r
                            let hello = r.method == RPCMethodName.workerHello
                            if !classified, !hello, let refusal = classify() {
                                try await outbound.write(ByteBuffer(bytes: RPCResponse.error(id: nil, refusal).encodedLine()))
                                break reading
                            }
                            state.requestStarted()
                            reply = await handler.handle(r, caller: caller)
                            state.requestEnded()
                            if !classified, hello {
                                if let refusal = classify() {
                                    if let reply { try await outbound.write(ByteBuffer(bytes: reply.encodedLine())) }
                                    try await outbound.write(ByteBuffer(bytes: RPCResponse.error(id: nil, refusal).encodedLine()))
                                    break reading
                                }
                            }
                            classified = true
                        }
                    }
                    guard let reply else { continue }
                    try await outbound.write(ByteBuffer(bytes: reply.encodedLine()))
                    if let request, let stream = handler.notifications(after: request, reply: reply) {
                        state.watchStarted()
                        group.addTask {
                            defer { state.watchEnded() }
                            do {
                                try await stream { line in try await outbound.write(ByteBuffer(bytes: line)) }
                            } catch {}
                        }
                    }
                }
            }
            group.cancelAll()
        }
    }

    func credentials(_ channel: any Channel) async throws -> PeerCredentials {
        guard let provider = channel as? SocketOptionProvider else {
            throw DaemonError("the channel has no socket options")
        }
        let cred: UCred = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
        ).get()
        return PeerCredentials(cred)
    }

    /// Checks the peer and the limit of unclassified connections; on success counts the
    /// connection and returns nil, otherwise the error to send before closing.
    func admit(_ peer: PeerCredentials) -> RPCError? {
        var st = stat()
        let socketGID: gid_t? = stat(path, &st) == 0 ? st.st_gid : nil
        if !peer.mayConnect(socketGID: socketGID) {
            let group = socketGID.map(PeerCredentials.groupName) ?? "of the socket"
            logger.warning("refused a connection: not in group \(group)", metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)"])
            return .unauthorized(
                "uid \(peer.uid) may not use this daemon; ask its administrator to add you to group \(group) (the group of \(path))"
            )
        }
        if !counter.withLock({ $0.accept() }) {
            logger.warning(
                "refused a connection: \(limits.maxConnections) connections open that have sent no request",
                metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)"])
            return .tooManyConnections(limit: limits.maxConnections)
        }
        return nil
    }

    /// One error line, then the connection is closed.
    func refuse(_ a: Accepted, _ error: RPCError) async {
        try? await a.channel.executeThenClose { _, outbound in
            try await outbound.write(ByteBuffer(bytes: RPCResponse.error(id: nil, error).encodedLine()))
        }
    }
}
