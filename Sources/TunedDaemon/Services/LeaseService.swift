import Logging
import ServiceLifecycle

/// The lease-expiry timer, and the first step of a graceful shutdown.
///
/// Runs `DaemonCore.expireLeases` every second. On graceful shutdown (it is the last service
/// of the group, so it is shut down first): `onStopping`, then the core stops leasing (workers
/// get `idle`) and releases the leases of running segments, which are re-queued at once from
/// their last committed checkpoint.
struct LeaseService: Service, CustomStringConvertible {
    let core: DaemonCore
    let interval: Duration
    let onStopping: @Sendable () -> Void
    var description: String { "LeaseService" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await core.expireLeases()
            }
        }
        onStopping()
        await core.drain()
    }
}
