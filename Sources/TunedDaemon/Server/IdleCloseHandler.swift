import NIOCore
import Synchronization

/// What a connection's event-loop side and its async side share: how many `task.watch`
/// streams it is pushing, and whether a request is being answered. Such a connection is not
/// idle, however long since its last line (a watch, a long-polling `worker.lease`).
final class ConnectionState: Sendable {
    private let counts = Mutex((watches: 0, requests: 0))
    var isBusy: Bool { counts.withLock { $0.watches > 0 || $0.requests > 0 } }
    func watchStarted() { counts.withLock { $0.watches += 1 } }
    func watchEnded() { counts.withLock { $0.watches -= 1 } }
    func requestStarted() { counts.withLock { $0.requests += 1 } }
    func requestEnded() { counts.withLock { $0.requests -= 1 } }

    /// What the connection's first request made it (`ConnectionCounter`).
    private let classified = Mutex(ConnectionCounter.Kind.unclassified)
    var kind: ConnectionCounter.Kind {
        get { classified.withLock { $0 } }
        set { classified.withLock { $0 = newValue } }
    }
}

/// Closes the connection when `IdleStateHandler` reports no read for the idle timeout,
/// unless the connection is busy (watching a task, or waiting for a reply).
final class IdleCloseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let state: ConnectionState
    let onIdle: @Sendable () -> Void

    init(state: ConnectionState, onIdle: @escaping @Sendable () -> Void) {
        self.state = state
        self.onIdle = onIdle
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .read {
            if !state.isBusy {
                onIdle()
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
