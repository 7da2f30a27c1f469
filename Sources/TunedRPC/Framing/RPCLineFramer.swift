/// Splits a byte stream into `\n`-terminated lines with a size limit, for both ends of the
/// socket. A line longer than the limit is not buffered: its bytes are dropped up to the next
/// newline and it comes out as `.oversized`, so that the reader can answer
/// `requestTooLarge` and carry on with the next line.
public struct RPCLineFramer: Sendable {
    public enum Frame: Sendable, Hashable {
        /// One line without its `\n` (a trailing `\r` is removed as well).
        case line([UInt8])
        /// A line of `byteCount` bytes (so far, if still unterminated) exceeded the limit.
        case oversized(byteCount: Int)
    }

    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var scanned = 0
    /// Bytes of an oversized line dropped so far; nil when not inside one.
    private var discarding: Int?
    private var oversizedReported = false

    public init(maxLineBytes: Int) {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes received but not yet returned as a line.
    public var bufferedByteCount: Int { buffer.count }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            if var dropped = discarding {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    dropped += nl
                    buffer.removeSubrange(...nl)
                    scanned = 0
                    discarding = nil
                    if !oversizedReported { return .oversized(byteCount: dropped) }
                    oversizedReported = false
                    continue
                }
                dropped += buffer.count
                buffer.removeAll(keepingCapacity: true)
                scanned = 0
                discarding = dropped
                if !oversizedReported {
                    oversizedReported = true
                    return .oversized(byteCount: dropped)
                }
                return nil
            }
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                if nl > maxLineBytes {
                    discarding = 0
                    oversizedReported = false
                    continue
                }
                var line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                scanned = 0
                if line.last == 0x0D { line.removeLast() }
                return .line(line)
            }
            scanned = buffer.count
            if buffer.count > maxLineBytes {
                discarding = 0
                oversizedReported = false
                continue
            }
            return nil
        }
    }
}
