import Foundation
import Testing
import TunedOptim

@testable import TunedEngine

/// `[strategy] hypergradient = { kind = …, beta = … }` and the `hypergradient_kind` trial key.
@Suite struct HypergradientKindTests {
    static func task(_ hd: String) -> String {
        minimalTask.replacingOccurrences(of: "trials = 4", with: "trials = 4\nhypergradient = \(hd)")
    }

    @Test func theKindReachesTheTrialConfiguration() throws {
        let spec = try TaskFile.parse(Self.task(#"{ kind = "multiplicative", beta = 0.02 }"#), file: "t.toml")
        #expect(spec.strategy.hypergradient == HypergradientSettings(beta: 0.02, kind: .multiplicative))
        let c = spec.trialConfig(["optimizer": .string("sgd"), "lr": .number(0.1)])
        #expect(c["hypergradient_kind"] == .string("multiplicative") && c["hypergradient_beta"] == .number(0.02))

        let additive = try TaskFile.parse(Self.task(#"{ kind = "additive", beta = 1e-4 }"#), file: "t.toml")
        #expect(additive.strategy.hypergradient?.kind == .additive)
        // An additive configuration is what it always was: no new key.
        #expect(additive.trialConfig(["lr": .number(0.1)])["hypergradient_kind"] == nil)
    }

    @Test func withoutAKindTheDocumentedDefaultApplies() throws {
        let spec = try TaskFile.parse(Self.task("{ beta = 1e-4 }"), file: "t.toml")
        #expect(spec.strategy.hypergradient?.kind == HypergradientSettings.defaultKind)
        #expect(HypergradientSettings.defaultKind == .additive, "docs/TASKFILE.md and PERFORMANCE.md say why; change them together")
    }

    @Test func theMultiplicativeRuleNeedsNoBeta() throws {
        let spec = try TaskFile.parse(Self.task(#"{ kind = "multiplicative" }"#), file: "t.toml")
        #expect(spec.strategy.hypergradient == HypergradientSettings(beta: 0.02, kind: .multiplicative))
        // The additive rule's β has units (1/(gradient·direction)): it stays required.
        #expect(throws: (any Error).self) { try TaskFile.parse(Self.task(#"{ kind = "additive" }"#), file: "t.toml") }
        #expect(throws: (any Error).self) { try TaskFile.parse(Self.task("{ lr_max = 1 }"), file: "t.toml") }
    }

    @Test func aBadKindIsAProblemNamingTheKey() {
        do {
            _ = try TaskFile.parse(Self.task(#"{ kind = "exponential", beta = 0.02 }"#), file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("hypergradient.kind") && "\(error)".contains("multiplicative"), "\(error)")
        }
    }

    @Test func theKindIsACategoricalSearchKey() throws {
        let ok = minimalTask.replacingOccurrences(of: "[strategy]", with: "hypergradient_beta = 0.02\nhypergradient_kind = { choice = [\"additive\", \"multiplicative\"] }\n\n[strategy]")
        let spec = try TaskFile.parse(ok, file: "t.toml")
        #expect(spec.search.parameters["hypergradient_kind"] == .choice([.string("additive"), .string("multiplicative")]))
        let bad = minimalTask.replacingOccurrences(of: "[strategy]", with: "hypergradient_kind = 3\n\n[strategy]")
        #expect(throws: (any Error).self) { try TaskFile.parse(bad, file: "t.toml") }
    }
}
