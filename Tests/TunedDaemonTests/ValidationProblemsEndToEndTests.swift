import Foundation
import TunedRPC
import Testing

/// A task file with several problems: the real daemon reports every one (message and
/// `data.problems`), and `tunectl submit` prints every one (issue 12, item 8).
@Suite(.serialized) struct ValidationProblemsEndToEndTests {
    let e2e = DaemonEndToEndTests()

    func tunectl(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = DaemonEndToEndTests.productsDirectory.appendingPathComponent("tunectl")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func everyProblemOfATaskFileReachesTheClientAndTunectlPrintsThemAll() throws {
        let d = try e2e.startDaemon(workers: 0)
        defer { _ = e2e.stop(d) }
        let dir = d.dir.appendingPathComponent("tasks")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The file lives outside the repository: its dataset path is absolute.
        let base = e2e.taskText().replacingOccurrences(
            of: "\"datasets/digits.csv\"", with: "\"\(DaemonEndToEndTests.repositoryRoot.path)/datasets/digits.csv\"")
        let broken = base
            .replacingOccurrences(of: "lr = { log_uniform = [1e-3, 1e-1] }", with: "lr = { log_uniform = [1e-1, 1e-3] }")
            .replacingOccurrences(of: "trials = 3", with: "trials = 0")
            .replacingOccurrences(of: "steps = 300", with: "steps = -5")
        let file = dir.appendingPathComponent("three.toml")
        try broken.write(to: file, atomically: true, encoding: .utf8)

        // Over the protocol: one line per problem, `data.problems`, and data's file/line/field
        // of the first problem (what a client of the single-problem reply reads).
        let c = try RPCClient(socketPath: d.socket)
        let error = try #require(throws: RPCClientError.self) {
            try c.call(RPCMethods.TaskSubmit.self, TaskSubmitParams(text: broken, format: .toml, filename: "three.toml", baseDir: DaemonEndToEndTests.repositoryRoot.path))
        }
        let remote = try #require(error.remoteError)
        let problems = try #require(remote.validationProblems, "\(remote)")
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.map(\.line) == [11, 16, 19], "\(problems)")
        #expect(problems.map(\.field) == ["[search] lr", "[strategy] trials", "[budget] steps"], "\(problems)")
        #expect(remote.message.split(separator: "\n").map(String.init) == problems.map(\.text))
        #expect(remote.message.hasPrefix("three.toml:11: [search] lr: "), "\(remote.message)")
        #expect(remote.data?["file"]?.stringValue == "three.toml" && remote.data?["line"]?.int64Value == 11)
        #expect(remote.data?["field"]?.stringValue == "[search] lr")
        #expect(!remote.message.contains("more problem"))

        // tunectl prints them all, one per line, after a header.
        let r = try tunectl(["--socket", d.socket, "submit", file.path])
        #expect(r.status == 1, "\(r)")
        let lines = r.err.split(separator: "\n").map(String.init)
        #expect(lines.first == "Error: three.toml has 3 problems:", "\(r.err)")
        #expect(Array(lines.dropFirst()) == problems.map(\.text), "\(r.err)")

        // One problem: the one line it always was.
        let one = base.replacingOccurrences(of: "steps = 300", with: "steps = -5")
        try one.write(to: file, atomically: true, encoding: .utf8)
        let single = try tunectl(["--socket", d.socket, "submit", file.path])
        #expect(single.status == 1 && single.err.hasPrefix("Error: three.toml:19: [budget] steps: "), "\(single)")
        #expect(single.err.split(separator: "\n").count == 1, "\(single.err)")
    }
}
