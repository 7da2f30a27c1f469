import Synchronization

/// Who is at the other end of one connection: the kernel's word for its uid, gid and pid
/// (`SO_PEERCRED`, read at accept) and, once it has proven it with the daemon's
/// `WorkerSecret` in `worker.hello`, the id of the worker it is. Lives as long as the connection.
public final class Caller: Sendable {
    public let peer: PeerCredentials?
    private let proven = Mutex<String?>(nil)

    public init(peer: PeerCredentials?) { self.peer = peer }

    /// The worker this connection has proven to be (nil: a client).
    public var worker: String? { proven.withLock { $0 } }

    func provenWorker(_ id: String) { proven.withLock { $0 = id } }
}
