import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// One line per event on stderr, in the form the reader needs:
/// - under systemd (`JOURNAL_STREAM` set: stderr is a journald stream), `<N>label: message k=v`,
///   where `<N>` is the syslog priority journald turns into the entry's PRIORITY (sd-daemon(3));
///   journald adds the time and the pid itself;
/// - otherwise `2026-11-29T11:23:15.123Z info tuned.daemon: message k=v`.
///
/// Metadata is printed sorted by key, values with spaces quoted, so lines grep well.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    let journald: Bool

    public init(label: String, level: Logger.Level = .info, journald: Bool = StderrLogHandler.stderrIsJournal()) {
        self.label = label
        self.logLevel = level
        self.journald = journald
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let line = format(level: event.level, message: "\(event.message)", metadata: all, at: Date())
        let bytes = Array(line.utf8)
        // One write(2) per line: lines from several threads do not interleave.
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(STDERR_FILENO, raw.baseAddress! + off, raw.count - off)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// The line for one event (with its newline).
    func format(level: Logger.Level, message: String, metadata: Logger.Metadata, at date: Date) -> String {
        var text = journald ? "<\(Self.priority(level))>\(label): " : "\(Self.timestamp(date)) \(level) \(label): "
        text += message.replacingOccurrences(of: "\n", with: " ")
        for key in metadata.keys.sorted() {
            text += " \(key)=\(Self.quoted("\(metadata[key]!)"))"
        }
        return text + "\n"
    }

    /// syslog priorities (RFC 5424 severity), as `<N>` prefixes.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : value
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// True when systemd connected stderr to the journal: `JOURNAL_STREAM` holds
    /// `DEVICE:INODE` of that stream and it is still our stderr (systemd.exec(5), "JOURNAL_STREAM").
    public static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"], !stream.isEmpty else { return false }
        var st = stat()
        guard fstat(STDERR_FILENO, &st) == 0 else { return false }
        return stream == "\(st.st_dev):\(st.st_ino)"
    }
}

/// Bootstraps swift-log for the `tuned` executable (call once, first thing in `run()`).
public enum DaemonLogging {
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: level) }
    }

    /// Parses a `--log-level` value, or nil with the accepted names for the error message.
    public static func level(_ text: String) -> Logger.Level? {
        Logger.Level(rawValue: text.lowercased())
    }

    public static let levelNames = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
}
