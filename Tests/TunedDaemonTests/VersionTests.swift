import Foundation
import TunedRPC
import Testing

/// `tuned --version`, `tunectl --version` and `daemon.status` report the one version constant.
@Suite(.serialized) struct VersionTests {
    let e2e = DaemonEndToEndTests()

    func run(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = DaemonEndToEndTests.productsDirectory.appendingPathComponent(exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self))
    }

    @Test func bothExecutablesAndTheDaemonSayTheSameVersion() throws {
        #expect(TunedVersion.string.split(separator: ".").count == 3 && TunedVersion.string.allSatisfy { $0.isNumber || $0 == "." })
        for exe in ["tuned", "tunectl"] {
            let r = try run(exe, ["--version"])
            #expect(r.status == 0 && r.out == TunedVersion.string + "\n", "\(exe) --version: \(r)")
        }
        let d = try e2e.startDaemon(workers: 0)
        defer { _ = e2e.stop(d) }
        let status = try RPCClient(socketPath: d.socket).call(RPCMethods.DaemonStatusMethod.self)
        #expect(status.version == TunedVersion.string)
    }
}
