import Foundation
import Testing
import TunedEngine

@testable import TunedMeta

/// The model kinds a task may name are ones the policy's features tell apart: `mlp`, `cnn`,
/// `rnn` and `transformer` each have an indicator; a policy fitted before the last three
/// (the shipped default) encodes exactly as it did.
@Suite struct ModelKindEncodingTests {
    @Test func eachArchitectureHasItsIndicator() {
        func kinds(_ k: String?) -> [Double?] {
            let raw = FeatureEncoding.raw(TaskDescription(modelKind: k))
            return ["is_mlp", "is_cnn", "is_rnn", "is_transformer"].map { raw[FeatureEncoding.names.firstIndex(of: $0)!] }
        }
        #expect(kinds("mlp") == [1, 0, 0, 0])
        #expect(kinds("cnn") == [0, 1, 0, 0])
        #expect(kinds("rnn") == [0, 0, 1, 0])
        #expect(kinds("transformer") == [0, 0, 0, 1])
        #expect(kinds("linreg") == [0, 0, 0, 0])
        #expect(kinds(nil) == [nil, nil, nil, nil])
        #expect(FeatureEncoding.names[FeatureEncoding.laterKindIndicators] == ["is_cnn", "is_rnn", "is_transformer"])
    }

    @Test func aFittedHistoryWithACNNStandardisesItsIndicator() {
        let tasks = [
            TaskDescription(modelKind: "mlp", parameterCount: 1000), TaskDescription(modelKind: "cnn", parameterCount: 9000),
            TaskDescription(modelKind: "mlp", parameterCount: 3000),
        ]
        let e = FeatureEncoding(fitting: tasks)
        let j = FeatureEncoding.names.firstIndex(of: "is_cnn")!
        let z = tasks.map { e.encode($0).z[j] }
        #expect(z[1] > 0 && z[0] < 0 && z[0] == z[2])
    }

    @Test func theShippedPolicyEncodesItsThirteenFeaturesAsBefore() throws {
        let shipped = try PolicyCodec.decode(Data(try #require(DefaultPolicy.json).utf8), source: "shipped")
        #expect(shipped.encoding.names.count == 13)
        let cnn = TaskDescription(modelKind: "cnn", parameterCount: 50000, depth: 4)
        let (z, present) = shipped.encoding.encode(cnn)
        #expect(z.count == 13 && present.count == 13)
        let report = Recommender(policy: shipped).recommend(cnn, top: 1)
        #expect(!report.options.isEmpty)
    }
}
