import Foundation
import Testing
import TunedRPC
@testable import TunedDaemon
@testable import TunedWorker

/// The pure parts of "who may act as a worker" and "is this failure the disk's".
@Suite struct TrustUnitTests {
    @Test func theWorkerSecretMatchesOnlyItself() throws {
        let s = WorkerSecret.generate()
        #expect(s.value.count == 64 && s.value.allSatisfy(\.isHexDigit))
        #expect(s.matches(s.value))
        #expect(!s.matches(nil))
        #expect(!s.matches(""))
        #expect(!s.matches(String(s.value.dropLast())))
        #expect(!s.matches(s.value + "0"))
        #expect(WorkerSecret.generate().value != s.value)
        #expect(try WorkerSecret.forDaemon(environment: ["TUNED_WORKER_SECRET": "0123456789abcdef"]).value == "0123456789abcdef")
        #expect(throws: DaemonError.self) { try WorkerSecret.forDaemon(environment: ["TUNED_WORKER_SECRET": "short"]) }
    }

    /// Clients count against the limit, workers do not; silent (unclassified) connections
    /// are bounded by the same number.
    @Test func workersDoNotCountAgainstTheClientLimit() {
        var c = ConnectionCounter(maxConnections: 2)
        for _ in 0..<2 {
            let accepted = c.accept(), classified = c.classify(asWorker: false)
            #expect(accepted && classified)
        }
        var ok = c.accept()
        #expect(ok)
        ok = c.classify(asWorker: false)
        #expect(!ok, "a third client is refused")
        c.close(.unclassified)
        ok = c.accept() && c.classify(asWorker: true)
        #expect(ok, "a worker is served beyond the client limit")
        #expect(c.workers == 1 && c.clients == 2 && c.unclassified == 0)
        ok = c.accept() && c.accept()
        #expect(ok)
        ok = c.accept()
        #expect(!ok, "at most maxConnections silent connections")
        c.close(.client)
        ok = c.classify(asWorker: false)
        #expect(ok)
    }

    @Test func aFailureIsTheDisksWhenTheDiskSaysSo() {
        let roomy = NSTemporaryDirectory() + "/no-such-folder/segment"
        #expect(!DiskFault.isDiskFault(error: "python3 exited with status 1", stderrTail: "KeyError: 'lr'", checkpointDirectory: roomy))
        #expect(DiskFault.isDiskFault(error: "python3 exited with status 1", stderrTail: "OSError: [Errno 28] No space left on device", checkpointDirectory: roomy))
        #expect(DiskFault.isDiskFault(error: "cannot write checkpoint /x: There isn't enough space", stderrTail: nil, checkpointDirectory: roomy))
        #expect(DiskFault.availableBytes(near: roomy).map { $0 > 0 } == true, "the nearest existing folder's file system")
    }
}
