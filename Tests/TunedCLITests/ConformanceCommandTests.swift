import Foundation
import Testing

@Suite struct ConformanceCommandTests {
    @Test func everyPublicReferenceVectorPassesThroughTheCommand() throws {
        let dir = TunedBinary.repositoryRoot.appendingPathComponent("Tests/TunedOptimTests/Fixtures/oracle").path
        let r = try TunedBinary.run(["conformance", dir])
        let failing = r.lines.filter { $0.contains("FAIL") }
        #expect(failing.isEmpty, "\(failing.joined(separator: "\n"))")
        #expect(r.lines.last == "47 passed, 0 failed")
        #expect(r.lines.filter { $0.contains(" PASS") }.count == 47)
        #expect(r.status == 0)
    }

    @Test func brokenAndUnknownCasesAreFailedCasesNotCrashes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let oracle = TunedBinary.repositoryRoot.appendingPathComponent("Tests/TunedOptimTests/Fixtures/oracle")
        // A real case that must still pass beside the broken ones.
        try FileManager.default.copyItem(
            at: oracle.appendingPathComponent("torch_sgd_plain.json"), to: dir.appendingPathComponent("a_good.json"))
        try Data("{\"optimizer\": \"sgd\", \"param_shape\": [2], \"initial\": [1, ".utf8)
            .write(to: dir.appendingPathComponent("b_truncated.json"))
        var unknown = try String(contentsOf: oracle.appendingPathComponent("torch_sgd_plain.json"), encoding: .utf8)
        unknown = unknown.replacingOccurrences(of: "\"optimizer\": \"sgd\"", with: "\"optimizer\": \"shampoo\"")
        try unknown.write(to: dir.appendingPathComponent("c_unknown.json"), atomically: true, encoding: .utf8)
        try Data("{\"optimizer\": \"sgd\", \"param_shape\": [0, 3], \"initial\": [], \"expected\": [[]]}".utf8)
            .write(to: dir.appendingPathComponent("d_zero_size.json"))
        try Data([0xff, 0xfe, 0x00]).write(to: dir.appendingPathComponent("e_binary.json"))

        let r = try TunedBinary.run(["conformance", dir.path])
        #expect(r.status == 1)
        #expect(r.lines.last == "1 passed, 4 failed")
        #expect(r.lines.contains { $0.hasPrefix("torch_sgd_plain") && $0.contains("PASS") })
        #expect(r.lines.contains { $0.hasPrefix("b_truncated") && $0.contains("FAIL") && $0.contains("not valid JSON") })
        #expect(r.lines.contains { $0.contains("FAIL") && $0.contains("unknown optimizer 'shampoo'") })
        #expect(r.lines.contains { $0.hasPrefix("d_zero_size") && $0.contains("zero or negative dimension") })
        #expect(r.lines.contains { $0.hasPrefix("e_binary") && $0.contains("FAIL") })
    }

    @Test func aMissingDirectoryIsAReadableError() throws {
        let r = try TunedBinary.run(["conformance", "/nonexistent/vectors"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/vectors"))
    }
}
