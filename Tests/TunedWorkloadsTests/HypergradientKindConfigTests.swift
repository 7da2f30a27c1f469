import Foundation
import Testing
import TunedOptim
@testable import TunedWorkloads

/// The `hypergradient_kind` trial key picks HD's rule; absent, the additive reference port.
@Suite struct HypergradientKindConfigTests {
    static func rule(_ json: [String: JSONValue]) throws -> HypergradientRule? {
        let opt = try TrialConfig(json: json).makeOptimizer(shapes: [[3, 2]], scalar: Double.self)
        return (opt as? Hypergradient<Double>)?.rule
    }

    @Test func theTrialKeyPicksTheRule() throws {
        let base: [String: JSONValue] = ["optimizer": .string("adam"), "lr": .number(0.001), "hypergradient_beta": .number(0.02)]
        #expect(try Self.rule(base) == .additive)
        var m = base
        m["hypergradient_kind"] = .string("multiplicative")
        #expect(try Self.rule(m) == .multiplicative)
        m["hypergradient_kind"] = .string("additive")
        #expect(try Self.rule(m) == .additive)
        m["hypergradient_kind"] = .string("exp")
        #expect(throws: WorkloadError.self) { try TrialConfig(json: m) }
    }
}
