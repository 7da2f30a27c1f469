import Foundation
import TunedStore

extension DaemonCore {
    /// How often (in lease-expiry ticks, one a second) checkpoint garbage collection runs.
    static let collectEveryTicks = 10

    /// Checkpoint garbage collection: deletes the files of the checkpoints nothing needs any
    /// more (`Store.unreferencedCheckpoints`: not a trial's current checkpoint, not the start
    /// of a queued or leased segment, not a lineage edge's donor checkpoint, not pinned) and
    /// marks them released. Only files under the store's `checkpoints/` folder are deleted.
    ///
    /// Serialised with `worker.finish`, and safe against it anyway: a checkpoint that is not
    /// current cannot become referenced again (next segments and exploits start from current ones).
    @discardableResult
    func collectCheckpoints() async -> Int {
        do {
            return try await serialized {
                let root = URL(fileURLWithPath: storeDirectory).appendingPathComponent("checkpoints").standardizedFileURL.path + "/"
                var released: [CheckpointID] = []
                for c in try await store.unreferencedCheckpoints() {
                    if let p = c.path {
                        let path = URL(fileURLWithPath: p).standardizedFileURL.path
                        guard path.hasPrefix(root) else { continue }  // never delete outside the store's folder
                        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
                    }
                    released.append(c.id)
                }
                if !released.isEmpty { try await store.markCheckpointsReleased(released) }
                return released.count
            }
        } catch {
            logger.error("checkpoint collection: \(error)")
            return 0
        }
    }
}
