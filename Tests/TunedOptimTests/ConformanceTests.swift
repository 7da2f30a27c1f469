import Foundation
import Testing
@testable import TunedOptim

let oracleDirectory = Bundle.module.url(forResource: "Fixtures/oracle", withExtension: nil)!

func oracleCases() -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: oracleDirectory.path))?
        .filter { $0.hasSuffix(".json") }.sorted() ?? []
}

@Suite struct ConformanceTests {
    @Test func thePublicVectorSetHasAll37Cases() {
        #expect(oracleCases().count == 37)
    }

    @Test(arguments: oracleCases())
    func referenceCaseMatches(file: String) throws {
        let c = try ConformanceCase(contentsOf: oracleDirectory.appendingPathComponent(file))
        let o = Conformance.run(c)
        #expect(o.error == nil, "\(file): \(o.error ?? "")")
        #expect(o.passed, "\(file): max rel error \(o.maxRelativeError), first off at step \(o.firstFailingStep ?? 0)")
    }
}
