import Foundation
import Testing
import TunedCLI
import TunedRPC

/// `tunectl export TASK --format json` and `tunectl --json export TASK` print the same flat
/// rows (issue 12: they used to differ — the daemon's nested rows for `--json`).
@Suite(.serialized) struct ExportFormatTests {
    @Sendable static func trialList(_ r: RPCRequest) -> [[UInt8]] {
        guard r.method == RPCMethodName.trialList else { return [RPCResponse.error(id: r.id, .methodNotFound(r.method)).encodedLine()] }
        return [RPCResponse.encodedLine(id: r.id, result: Samples.trials)]
    }

    func export(_ args: (String) -> [String]) throws -> TunectlBinary.Result {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", handler: Self.trialList)
        let r = try TunectlBinary.run(args(daemon.path))
        _ = daemon.waitUntilDone()
        return r
    }

    @Test func formatJSONAndGlobalJSONGiveTheSameRows() throws {
        let expected = TrialExport(trials: Samples.trials).json()
        let spellings: [(String) -> [String]] = [
            { ["--socket", $0, "export", "7", "--format", "json"] },
            { ["--json", "--socket", $0, "export", "7"] },
            { ["--socket", $0, "export", "7", "--json"] },
            { ["--json", "--socket", $0, "export", "7", "--format", "json"] },
        ]
        for args in spellings {
            let r = try export(args)
            #expect(r.status == 0 && r.stdout == expected, "\(args("S")): \(r)")
        }
        let csv = try export { ["--socket", $0, "export", "7"] }
        #expect(csv.status == 0 && csv.stdout == TrialExport(trials: Samples.trials).csv(), "\(csv)")
    }

    @Test func jsonWithFormatCSVIsAUsageError() throws {
        let r = try TunectlBinary.run(["--json", "--socket", "/nonexistent.sock", "export", "7", "--format", "csv"])
        #expect(r.status == 2 && r.stderr.contains("--json asks for JSON and --format csv for CSV"), "\(r)")
    }
}
