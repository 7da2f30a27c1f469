import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// scripts/reliability.sh --smoke: every check of the reliability suite at a tiny size against
/// the built binaries (the full run's numbers are in docs/RELIABILITY.md).
@Suite struct ReliabilitySmokeTests {
    @Test func everyLineOfTheSmokeRunPasses() throws {
        let r = try Ops.run("/bin/bash", [
            Ops.repositoryRoot.appendingPathComponent("scripts/reliability.sh").path, "--smoke", "--bin", Ops.productsDirectory.path,
        ])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let summary = try #require(r.stdout.components(separatedBy: "\nSummary\n").last)
        let lines = summary.split(separator: "\n").dropFirst().prefix(10)
        #expect(lines.map { String($0.split(separator: " ").first ?? "") }
            == ["kill9", "workers", "fuzz", "broken", "diskfull", "otheruid", "forgery", "runas", "soak", "history"], "\(summary)")
        for line in lines {
            // SKIP only where the machine does not allow the check (not root).
            #expect(line.contains(" PASS ") || (getuid() != 0 && line.contains(" SKIP ")), "\(line)")
        }
        #expect(r.stdout.contains("0 missing, 0 unexpected, 0 duplicated"), "\(r.stdout)")
        #expect(r.stdout.contains(" 0 crashes"), "\(r.stdout)")
        if getuid() == 0 {
            // The disk-full line: paused while full, no attempt consumed, results as uninterrupted.
            #expect(r.stdout.contains("paused shown"), "\(r.stdout)")
            #expect(r.stdout.contains("attempts consumed 0"), "\(r.stdout)")
            #expect(r.stdout.contains("the program ran as uid 65534"), "\(r.stdout)")
        }
    }
}
