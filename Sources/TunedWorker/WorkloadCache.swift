import Foundation
import TunedOptim
import TunedWorkloads

/// The last workload a worker built, kept for its next segment: a worker runs the segments of
/// one task one after another, and building the workload (reading and standardising a CSV
/// dataset) costs more than training a short segment. Workloads are pure values (loss and
/// gradient are functions of parameters, seed and batch index), so sharing one between
/// segments changes no result.
///
/// The key is the `[workload]` table, the base folder, the arithmetic and — when the table
/// names a `dataset` — that file's size and modification time, so an edited dataset is read
/// again. One entry: memory stays that of one workload.
public final class WorkloadCache: @unchecked Sendable {
    struct Key: Equatable {
        var table: [String: JSONValue]
        var baseDirectory: String
        var scalar: String
        var file: String?
    }
    private let lock = NSLock()
    private var key: Key?
    private var value: Any?

    public init() {}

    func workload<Scalar: KernelScalar>(
        _ table: [String: JSONValue], baseDirectory: String, context: String, as: Scalar.Type
    ) throws -> any Workload<Scalar> {
        let key = Self.key(table, baseDirectory: baseDirectory, scalar: "\(Scalar.self)")
        if let key, let hit = lock.withLock({ self.key == key ? value : nil }) as? any Workload<Scalar> { return hit }
        let w: any Workload<Scalar> = try WorkloadFactory.make(table, baseDirectory: baseDirectory, context: context)
        if let key { lock.withLock { (self.key, self.value) = (key, w) } }
        return w
    }

    /// nil when the key cannot be made (a dataset that cannot be stat'ed): then no caching.
    static func key(_ table: [String: JSONValue], baseDirectory: String, scalar: String) -> Key? {
        var key = Key(table: table, baseDirectory: baseDirectory, scalar: scalar)
        if let dataset = table["dataset"]?.stringValue {
            let path = dataset.hasPrefix("/") ? dataset : baseDirectory + "/" + dataset
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            key.file = "\(st.st_dev):\(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        return key
    }
}
