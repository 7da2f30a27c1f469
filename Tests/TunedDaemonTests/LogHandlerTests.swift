import Foundation
import Logging
import Testing

@testable import TunedDaemon

/// The daemon's stderr log lines: journald's `<N>` priority prefix under systemd, a plain
/// timestamped line otherwise; and who may connect by peer credentials.
struct LogHandlerTests {
    @Test(arguments: [
        (Logger.Level.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journaldLinesCarryTheSyslogPriority(level: Logger.Level, priority: Int) {
        let h = StderrLogHandler(label: "tuned.daemon", journald: true)
        let line = h.format(level: level, message: "segment 4: lease expired", metadata: ["task.id": "7"], at: Date())
        #expect(line == "<\(priority)>tuned.daemon: segment 4: lease expired task.id=7\n")
    }

    @Test func plainLinesHaveTimeLevelLabelAndSortedMetadata() {
        let h = StderrLogHandler(label: "tuned.rpc", journald: false)
        let at = Date(timeIntervalSince1970: 1_764_412_800.25)
        let line = h.format(
            level: .warning, message: "refused\na connection", metadata: ["peer.uid": "65534", "b": "two words"], at: at)
        #expect(line == "2025-11-29T10:40:00.250Z warning tuned.rpc: refused a connection b=\"two words\" peer.uid=65534\n")
    }

    @Test func journalStreamMustBeOurStderr() {
        #expect(!StderrLogHandler.stderrIsJournal(environment: [:]))
        #expect(!StderrLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "1:2"]))
        var st = stat()
        fstat(STDERR_FILENO, &st)
        #expect(StderrLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino)"]))
    }

    @Test func logLevelNamesParse() {
        #expect(DaemonLogging.level("WARNING") == .warning)
        #expect(DaemonLogging.level("loud") == nil)
    }

    @Test func peerCredentialRules() {
        #expect(PeerCredentials(uid: 0, gid: 0, pid: 1).mayConnect(socketGID: 1234))
        #expect(PeerCredentials(uid: getuid(), gid: 99, pid: 1).mayConnect(socketGID: nil))
        #expect(PeerCredentials(uid: 65534, gid: 1234, pid: 1).mayConnect(socketGID: 1234))
        #expect(!PeerCredentials(uid: 65534, gid: 65534, pid: 1).mayConnect(socketGID: 1234))
        #expect(!PeerCredentials(uid: 65534, gid: 65534, pid: 1).mayConnect(socketGID: nil))
    }
}
