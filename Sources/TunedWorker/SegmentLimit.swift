import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A per-segment resource limit that a workload went over, and the message recorded as the
/// segment's error (it names the limit and the configuration key that sets it).
public enum SegmentLimit: Sendable, Equatable {
    case memory(limitBytes: UInt64, usedBytes: UInt64?)
    case cpu(limitSeconds: Double, usedSeconds: Double?)

    public var message: String {
        switch self {
        case .memory(let limit, let used):
            let u = used.map { ", reached \($0 >> 20) MiB" } ?? ""
            return "exceeded the memory limit of \(limit >> 20) MiB per segment\(u) ([limits] segment_memory_mb of the daemon's configuration)"
        case .cpu(let limit, let used):
            let u = used.map { ", used \(String(format: "%.1f", $0)) s" } ?? ""
            return "exceeded the CPU-time limit of \(Self.seconds(limit)) s per segment\(u) ([limits] segment_cpu_seconds of the daemon's configuration)"
        }
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }
}

/// Reads of this process's and a child's resource use (Linux: getrusage, /proc).
enum ResourceUsage {
    /// User + system CPU seconds of this process (all threads).
    static func processCPUSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Resident bytes of `pid` (default: this process), from /proc/PID/statm.
    static func residentBytes(of pid: Int32? = nil) -> UInt64? {
        let path = pid.map { "/proc/\($0)/statm" } ?? "/proc/self/statm"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let f = text.split(separator: " ")
        guard f.count > 1, let pages = UInt64(f[1]) else { return nil }
        return pages * pageSize
    }

    /// Virtual size in bytes of `pid` (what RLIMIT_AS bounds), from /proc/PID/statm.
    static func virtualBytes(of pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8),
              let pages = text.split(separator: " ").first.flatMap({ UInt64($0) }) else { return nil }
        return pages * pageSize
    }

    /// User + system CPU seconds of a running `pid` (fields 14 and 15 of /proc/PID/stat).
    static func cpuSeconds(of pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let f = text[text.index(after: close)...].split(separator: " ")
        guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { return nil }
        return (u + s) / ticks
    }

    /// The `prlimit(1)` prefix that applies the limits to the program it then executes
    /// (same pid): RLIMIT_AS for memory; RLIMIT_CPU soft at the limit (SIGXCPU), hard 2 s later (SIGKILL).
    static func prlimitPrefix(memoryBytes: UInt64?, cpuSeconds: Double?) -> [String] {
        var args: [String] = []
        if let m = memoryBytes { args.append("--as=\(m)") }
        if let c = cpuSeconds {
            let soft = max(1, Int(c.rounded(.up)))
            args.append("--cpu=\(soft):\(soft + 2)")
        }
        return args.isEmpty ? [] : args + ["--"]
    }

    /// Where `prlimit` is, if it is installed (util-linux).
    static let prlimitPath: String? = ["/usr/bin/prlimit", "/bin/prlimit", "/usr/local/bin/prlimit"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}
