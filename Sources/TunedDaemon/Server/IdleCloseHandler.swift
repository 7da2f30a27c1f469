import NIOCore
import Synchronization

/// What a connection's event-loop side and its async side share: how many `task.watch`
/// streams it is pushing (a watching connection is never idle).
final class ConnectionState: Sendable {
    private let watches = Mutex(0)
    var isWatching: Bool { watches.withLock { $0 > 0 } }
    func watchStarted() { watches.withLock { $0 += 1 } }
    func watchEnded() { watches.withLock { $0 -= 1 } }
}

/// Closes the connection when `IdleStateHandler` reports no read for the idle timeout,
/// unless the connection is watching a task.
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
            if !state.isWatching {
                onIdle()
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
