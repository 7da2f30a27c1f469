import Foundation
import TunedRPC
@testable import TunedWorker

enum Fixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The repository's datasets (datasets/digits.csv), from this file's location.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let digits = repositoryRoot.appendingPathComponent("datasets/digits.csv").path
}

/// A fresh temporary directory, removed by `cleanup()`.
struct Scratch {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-worker-\(UUID().uuidString)")
    init() { try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Collects what the runner reports.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var _batches: [[MetricPoint]] = []
    private var _logs: [String] = []
    var batches: [[MetricPoint]] { lock.withLock { _batches } }
    var metrics: [MetricPoint] { batches.flatMap { $0 } }
    var logs: [String] { lock.withLock { _logs } }
    func add(_ b: [MetricPoint]) { lock.withLock { _batches.append(b) } }
    func log(_ line: String) { lock.withLock { _logs.append(line) } }
}

func lease(
    workload: RPCValue, config: RPCValue = .object(["optimizer": .string("sgd"), "lr": .double(0.1)]),
    start: Int64 = 0, end: Int64, restore: String? = nil, checkpointDir: String, strategy: RPCValue? = nil,
    task: TaskID = 1, trial: TrialID = 2, segment: SegmentID = 3
) -> Lease {
    Lease(
        segmentID: segment, taskID: task, trialID: trial, config: config, startStep: start, endStep: end,
        restoreCheckpoint: restore, checkpointDir: checkpointDir, leaseSeconds: 10, workload: workload, strategy: strategy)
}

func commandWorkload(_ command: [String], env: [String: String] = [:], workdir: String? = nil) -> RPCValue {
    var o: [String: RPCValue] = ["kind": .string("command"), "command": .array(command.map { .string($0) })]
    if !env.isEmpty { o["env"] = .object(env.mapValues { .string($0) }) }
    if let workdir { o["workdir"] = .string(workdir) }
    return .object(o)
}

func run(_ lease: Lease, runner: SegmentRunner? = nil, in dir: URL, isCancelled: () -> Bool = { false })
    -> (SegmentResult, Collected)
{
    let c = Collected()
    var r = runner ?? SegmentRunner()
    r.log = { c.log($0) }
    let result = r.run(lease: lease, workDirectory: dir, onMetrics: { c.add($0) }, isCancelled: isCancelled)
    return (result, c)
}

extension SegmentOutcome {
    var checkpoint: CheckpointRef? { if case .ok(let c) = self { c } else { nil } }
    var failure: (error: String, stderrTail: String?)? {
        if case .failed(let e, let t) = self { (e, t) } else { nil }
    }
}
