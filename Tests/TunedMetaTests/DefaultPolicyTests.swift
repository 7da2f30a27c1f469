import Foundation
import Testing

@testable import TunedMeta
import TunedEngine

/// The shipped policy: embedded in the binary, identical to policies/default.json, decodable,
/// with its provenance, and fitted from a suite of at least 24 tasks.
@Suite struct DefaultPolicyTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theEmbeddedPolicyIsPoliciesDefaultJSON() throws {
        let file = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("policies/default.json"), encoding: .utf8)
        let embedded = try #require(DefaultPolicy.json, "run scripts/gen-default-policy.sh")
        #expect(embedded + "\n" == file || embedded == file, "stale: run scripts/gen-default-policy.sh")
    }

    @Test func theShippedPolicyDecodesAndCarriesItsProvenance() throws {
        let doc = try PolicyCodec.decode(Data(try #require(DefaultPolicy.json).utf8), source: "default.json")
        #expect(doc.name == "default")
        #expect(doc.provenance.tasks.count >= 24)
        #expect(doc.provenance.source.contains("train-default-policy.sh"))
        #expect(doc.families.count >= 4)
        let r = Recommender(policy: doc).recommend(TaskDescription(parameterCount: 4810, taskType: "classification"))
        #expect(r.options.first.map { $0.config["lr"]?.doubleValue ?? 0 > 0 } == true)
    }
}
