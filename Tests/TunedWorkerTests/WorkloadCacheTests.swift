import Foundation
import Testing
import TunedOptim
import TunedRPC
@testable import TunedWorker

/// A worker keeps its last workload between segments: results do not change, and an edited
/// dataset is read again.
@Suite struct WorkloadCacheTests {
    /// 0→20 then 20→40 through one runner (the second segment reuses the first's workload)
    /// equals the same two segments through fresh runners, bit for bit.
    @Test func reusedWorkloadGivesTheSameSegments() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let w = BuiltinSegmentTests.digits, c = BuiltinSegmentTests.adam, st = BuiltinSegmentTests.strategy
        let shared = SegmentRunner()
        let (a1, _) = run(lease(workload: w, config: c, end: 20, checkpointDir: s.path("a1"), strategy: st), runner: shared, in: s.url)
        let (b1, m1) = run(
            lease(workload: w, config: c, start: 20, end: 40, restore: s.path("a1"), checkpointDir: s.path("b1"), strategy: st, segment: 4),
            runner: shared, in: s.url)
        let (a2, _) = run(lease(workload: w, config: c, end: 20, checkpointDir: s.path("a2"), strategy: st), in: s.url)
        let (b2, m2) = run(
            lease(workload: w, config: c, start: 20, end: 40, restore: s.path("a2"), checkpointDir: s.path("b2"), strategy: st, segment: 4),
            in: s.url)
        #expect(a1.outcome.checkpoint?.checksum == a2.outcome.checkpoint?.checksum)
        #expect(try #require(b1.outcome.checkpoint).checksum == b2.outcome.checkpoint?.checksum)
        #expect(m1.metrics.map(\.value.bitPattern) == m2.metrics.map(\.value.bitPattern))
    }

    /// The key follows the dataset file: unchanged file, same key; rewritten file, new key;
    /// missing file, no key (no caching).
    @Test func keyFollowsTheDatasetFile() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let path = s.path("d.csv")
        try "x,target\n1,0\n2,1\n".write(toFile: path, atomically: false, encoding: .utf8)
        let table: [String: JSONValue] = ["kind": .string("logreg"), "dataset": .string("d.csv")]
        let k1 = WorkloadCache.key(table, baseDirectory: s.url.path, scalar: "Float")
        #expect(k1 != nil)
        #expect(k1 == WorkloadCache.key(table, baseDirectory: s.url.path, scalar: "Float"))
        #expect(k1 != WorkloadCache.key(table, baseDirectory: s.url.path, scalar: "Double"))
        try "x,target\n1,0\n2,1\n3,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(k1 != WorkloadCache.key(table, baseDirectory: s.url.path, scalar: "Float"))
        try FileManager.default.removeItem(atPath: path)
        #expect(WorkloadCache.key(table, baseDirectory: s.url.path, scalar: "Float") == nil)
    }
}
