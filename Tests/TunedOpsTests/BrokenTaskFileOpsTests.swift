import Foundation
import Testing
import TunedEngine

/// More broken task files (the engine's 20 are in TunedEngineTests/Fixtures/broken): each
/// first line is `# expect: FRAGMENT`, the error must read `NAME` + FRAGMENT.
@Suite struct BrokenTaskFileOpsTests {
    static let files: [String] = {
        let dir = Ops.fixtures.appendingPathComponent("task-broken")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
    }()

    @Test(arguments: files) func brokenTaskFileNamesFileLineAndField(_ name: String) throws {
        let dir = Ops.fixtures.appendingPathComponent("task-broken")
        let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        let fragment = try #require(text.split(separator: "\n").first?.split(separator: "# expect: ", maxSplits: 1).last.map(String.init))
        do {
            _ = try TaskFile.parse(text, file: name, baseDirectory: dir.path, format: .toml)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.description.contains(name + fragment), "\(name): \(error.description)")
        }
    }

    @Test func thereAreAtLeastEight() { #expect(Self.files.count >= 8) }
}
