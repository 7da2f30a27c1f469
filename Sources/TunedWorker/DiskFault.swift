import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a failed segment failed because the disk did (full, over quota, read-only, an I/O
/// error) rather than because of the segment itself. Such a failure goes to the daemon as
/// `worker.finish` with `fault: "io"`: the daemon re-queues the segment without counting an
/// attempt and pauses until writes succeed again (docs/RELIABILITY.md, "Faults").
public enum DiskFault {
    /// Below this many free bytes on the checkpoint's file system, any failure is the disk's.
    public static let nearlyFullBytes: UInt64 = 1 << 20

    /// What the C library, Foundation and Python print for ENOSPC, EDQUOT, EROFS and EIO.
    static let messages = [
        "No space left on device", "There isn't enough space", "Disk quota exceeded", "Read-only file system",
        "Input/output error", "[Errno 28]", "[Errno 122]", "[Errno 30]", "[Errno 5]",
    ]

    /// True when the checkpoint's file system (the nearest existing folder above
    /// `checkpointDirectory`) has less than `nearlyFullBytes` free, or the error or the
    /// program's stderr names a disk error.
    public static func isDiskFault(error: String?, stderrTail: String?, checkpointDirectory: String) -> Bool {
        if let free = availableBytes(near: checkpointDirectory), free < nearlyFullBytes { return true }
        let text = (error ?? "") + "\n" + (stderrTail ?? "")
        return messages.contains { text.contains($0) }
    }

    /// Bytes an unprivileged user may still write on the file system holding `path`'s nearest
    /// existing ancestor; nil when none can be read.
    public static func availableBytes(near path: String) -> UInt64? {
        var p = path
        while !p.isEmpty {
            var st = statvfs()
            if statvfs(p, &st) == 0 { return UInt64(st.f_bavail) * UInt64(st.f_frsize) }
            guard let slash = p.lastIndex(of: "/") else { return nil }
            p = slash == p.startIndex ? "/" : String(p[..<slash])
            if p == "/" {
                return statvfs("/", &st) == 0 ? UInt64(st.f_bavail) * UInt64(st.f_frsize) : nil
            }
        }
        return nil
    }
}
