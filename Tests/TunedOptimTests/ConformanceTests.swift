import Foundation
import Testing
@testable import TunedOptim

let oracleDirectory = Bundle.module.url(forResource: "Fixtures/oracle", withExtension: nil)!

func oracleCases() -> [String] { jsonFiles(oracleDirectory) }

/// Cases made with the real torch.optim, lion-pytorch and optax by scripts/oracle/ on other
/// shapes, seeds, hyperparameters and zero/large-gradient steps than the public set.
let heldoutDirectory = Bundle.module.url(forResource: "Fixtures/heldout", withExtension: nil)!

func jsonFiles(_ dir: URL) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
}

@Suite struct ConformanceTests {
    @Test func thePublicVectorSetHasAll47Cases() {
        #expect(oracleCases().count == 47)
        for prefix in ["schedulefree_adamw_", "schedulefree_sgd_", "adammini_"] {
            #expect(oracleCases().filter { $0.hasPrefix(prefix) }.count >= 2, "\(prefix)")
        }
    }

    @Test func theHeldOutSetCoversEveryReferenceLibrary() {
        let files = jsonFiles(heldoutDirectory)
        #expect(files.count >= 140)
        for prefix in ["torch_", "lionpytorch_", "rosenbrock_", "vx_", "schedulefree_", "adammini_"] { #expect(files.contains { $0.hasPrefix(prefix) }, "\(prefix)") }
    }

    @Test(arguments: jsonFiles(heldoutDirectory))
    func heldOutCaseMatches(file: String) throws {
        try check(heldoutDirectory, file)
    }

    @Test(arguments: oracleCases())
    func referenceCaseMatches(file: String) throws {
        try check(oracleDirectory, file)
    }

    func check(_ dir: URL, _ file: String) throws {
        let c = try ConformanceCase(contentsOf: dir.appendingPathComponent(file))
        let o = Conformance.run(c)
        #expect(o.error == nil, "\(file): \(o.error ?? "")")
        #expect(o.passed, "\(file): max rel error \(o.maxRelativeError), first off at step \(o.firstFailingStep ?? 0)")
    }
}
