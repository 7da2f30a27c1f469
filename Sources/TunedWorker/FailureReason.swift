import Foundation

/// A failed segment's reason in one line, for `tunectl trials`, the failure summary of
/// `submit --wait` / `watch` and the daemon's log: what a person needs to see first.
///
/// From a program's stderr: the exception line of its last Python traceback
/// (`KeyError: 'lr'`), else its first Swift `Fatal error:` line, else its last non-empty line.
/// Without stderr: the first line of the error.
public enum FailureReason {
    /// Longest reason kept (characters); longer ones end with `…`.
    public static let maxLength = 300

    /// The reason a program's stderr gives, if it says anything.
    public static func fromStderr(_ tail: String?) -> String? {
        guard let tail else { return nil }
        let lines = tail.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
            String($0).replacingTrailingWhitespace()
        }
        if let t = lines.lastIndex(where: { $0.hasPrefix("Traceback (most recent call last):") }),
            let e = lines[(t + 1)...].first(where: { !$0.isEmpty && !$0.first!.isWhitespace })
        {
            return clipped(e)
        }
        if let f = lines.first(where: { $0.contains("Fatal error:") }) { return clipped(f.trimmingLeadingWhitespace()) }
        return lines.last(where: { !$0.allSatisfy(\.isWhitespace) }).map { clipped($0.trimmingLeadingWhitespace()) }
    }

    /// The first non-empty line of `error`.
    public static func fromError(_ error: String) -> String {
        clipped(
            error.split(whereSeparator: \.isNewline).map(String.init).first { !$0.allSatisfy(\.isWhitespace) } ?? error)
    }

    /// What the daemon records when a worker sent no reason: the program's stderr, else the error.
    public static func derive(error: String, stderrTail: String?) -> String {
        fromStderr(stderrTail) ?? fromError(error)
    }

    static func clipped(_ s: String) -> String {
        s.count <= maxLength ? s : String(s.prefix(maxLength - 1)) + "…"
    }
}

extension String {
    fileprivate func replacingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    fileprivate func trimmingLeadingWhitespace() -> String { String(drop(while: \.isWhitespace)) }
}

/// The last lines of a stream, bounded by lines and bytes, kept at line boundaries: what the
/// worker sends of a program's stderr and of its own lines for a segment.
public final class LineTail: @unchecked Sendable {
    /// The bounds the worker uses for both.
    public static let defaultMaxLines = 50
    public static let defaultMaxBytes = 8192

    private let lock = NSLock()
    private var lines: [String] = []
    private var bytes = 0
    private var dropped = false
    let maxLines: Int
    let maxBytes: Int

    public init(maxLines: Int = LineTail.defaultMaxLines, maxBytes: Int = LineTail.defaultMaxBytes) {
        self.maxLines = maxLines
        self.maxBytes = maxBytes
    }

    public func append(_ line: String) {
        lock.withLock {
            lines.append(line)
            bytes += line.utf8.count + 1
            while lines.count > maxLines || (bytes > maxBytes && lines.count > 1) {
                bytes -= lines.removeFirst().utf8.count + 1
                dropped = true
            }
        }
    }

    /// The kept lines, newline-separated; nil when nothing was appended.
    public var text: String? {
        lock.withLock { lines.isEmpty ? nil : Self.clip(lines.joined(separator: "\n"), maxBytes) }
    }

    /// The last `maxLines` lines of `text` within `maxBytes` (a longer single line keeps its end).
    public static func bounded(_ text: String, maxLines: Int = defaultMaxLines, maxBytes: Int = defaultMaxBytes) -> String {
        let tail = LineTail(maxLines: maxLines, maxBytes: maxBytes)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        for l in lines { tail.append(l) }
        return tail.text ?? ""
    }

    static func clip(_ s: String, _ maxBytes: Int) -> String {
        let u = Array(s.utf8)
        guard u.count > maxBytes else { return s }
        return String(decoding: u[(u.count - maxBytes)...], as: UTF8.self)
    }
}
