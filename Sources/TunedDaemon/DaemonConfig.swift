import Foundation
import TunedEngine

/// The daemon's configuration file (`/etc/tuned/tuned.toml`, `tuned serve --config FILE`).
///
///     socket = "/run/tuned/tuned.sock"
///     socket_mode = "660"
///     store = "/var/lib/tuned/tuned.db"
///     workers = 0              # 0: one per core
///     lease_seconds = 10
///
///     [limits]
///     max_request_bytes = 1048576
///     max_connections = 64
///     idle_timeout_seconds = 300   # 0: never
///     segment_memory_mb = 0        # per worker segment; 0: no limit
///     segment_cpu_seconds = 0
///     segment_wall_seconds = 0
///
///     [command_workloads]
///     allow_users = ["alice"]
///     allow_groups = ["ml"]
///     writable_paths = ["/srv/ml"]   # ReadWritePaths= of the service (WritablePaths.swift)
///
/// Every key is optional. Command-line flags override the file, the file overrides the
/// defaults. `parse` is pure (no I/O): it reads the text and reports every problem with its
/// file, line and key; user and group names are looked up by `CommandWorkloadPolicy.resolve`.
public struct DaemonConfig: Sendable, Equatable {
    public var socketPath = "/run/tuned/tuned.sock"
    public var socketMode: UInt32 = 0o660
    public var storePath = "/var/lib/tuned/tuned.db"
    /// Worker processes; nil: one per core.
    public var workers: Int?
    public var leaseSeconds: Double = 10
    public var maxRequestBytes = 1 << 20
    public var maxConnections = 64
    public var idleTimeoutSeconds: Double = 300
    public var segmentLimits = SegmentLimits()
    /// Names from `[command_workloads]`, with the line each was written on.
    public var allowUsers: [Name] = []
    public var allowGroups: [Name] = []
    /// Directories the service may write to besides its own (`[command_workloads]
    /// writable_paths`): absolute, normalised, no characters systemd would read specially.
    public var writablePaths: [Name] = []

    public struct Name: Sendable, Equatable {
        public var name: String
        public var line: Int
        public init(_ name: String, line: Int) {
            self.name = name
            self.line = line
        }
    }

    public static let defaultPath = "/etc/tuned/tuned.toml"

    public init() {}

    /// The keys a file may hold, by table ("" is the top level), for "unknown key" messages.
    static let keys: [String: [String]] = [
        "": ["socket", "socket_mode", "store", "workers", "lease_seconds", "limits", "command_workloads"],
        "limits": [
            "max_request_bytes", "max_connections", "idle_timeout_seconds", "segment_memory_mb", "segment_cpu_seconds",
            "segment_wall_seconds",
        ],
        "command_workloads": ["allow_users", "allow_groups", "writable_paths"],
    ]

    /// Reads a configuration file's text; throws every problem found (file:line: key: what to fix).
    public static func parse(_ text: String, file: String) throws(DaemonConfigError) -> DaemonConfig {
        let root: DocTable
        do { root = try TOMLParser.parse(text, file: file) } catch { throw DaemonConfigError(error.problems) }
        var reader = Reader(file: file)
        var c = DaemonConfig()
        reader.unknownKeys(root, table: "")
        if let v = reader.string(root, "socket", table: "") { c.socketPath = v }
        if let v = reader.mode(root, "socket_mode") { c.socketMode = v }
        if let v = reader.string(root, "store", table: "") { c.storePath = v }
        if let v = reader.integer(root, "workers", table: "", min: 0, hint: "0 starts one worker per core") { c.workers = v == 0 ? nil : v }
        if let v = reader.seconds(root, "lease_seconds", table: "", allowZero: false) { c.leaseSeconds = v }
        if let limits = reader.table(root, "limits") {
            reader.unknownKeys(limits, table: "limits")
            if let v = reader.integer(limits, "max_request_bytes", table: "limits", min: 64) { c.maxRequestBytes = v }
            if let v = reader.integer(limits, "max_connections", table: "limits", min: 1) { c.maxConnections = v }
            if let v = reader.seconds(limits, "idle_timeout_seconds", table: "limits", allowZero: true) { c.idleTimeoutSeconds = v }
            if let v = reader.integer(limits, "segment_memory_mb", table: "limits", min: 0, hint: "0 means no limit") {
                c.segmentLimits.memoryBytes = v == 0 ? nil : UInt64(v) << 20
            }
            if let v = reader.seconds(limits, "segment_cpu_seconds", table: "limits", allowZero: true) {
                c.segmentLimits.cpuSeconds = v == 0 ? nil : v
            }
            if let v = reader.seconds(limits, "segment_wall_seconds", table: "limits", allowZero: true) {
                c.segmentLimits.wallSeconds = v == 0 ? nil : v
            }
        }
        if let cw = reader.table(root, "command_workloads") {
            reader.unknownKeys(cw, table: "command_workloads")
            c.allowUsers = reader.names(cw, "allow_users", what: "user")
            c.allowGroups = reader.names(cw, "allow_groups", what: "group")
            c.writablePaths = reader.directories(cw, "writable_paths")
        }
        if !reader.problems.isEmpty {
            // In file order (a stable sort: problems of one line keep the order they were found in).
            let sorted = reader.problems.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            throw DaemonConfigError(sorted.map(\.element))
        }
        return c
    }

    /// Reads and parses a file; a file that cannot be read is one problem naming it.
    public static func load(path: String) throws(DaemonConfigError) -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "it is not readable by this user (check its permissions)" : "no such file"
            throw DaemonConfigError([TaskProblem(file: path, line: nil, field: nil, message: "cannot read the configuration file: \(why)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DaemonConfigError([TaskProblem(file: path, line: nil, field: nil, message: "the configuration file is not UTF-8 text")])
        }
        return try parse(text, file: path)
    }
}

/// Per-segment limits of a worker (nil: none). Enforcement: `SegmentRunner`.
public struct SegmentLimits: Sendable, Equatable {
    public var memoryBytes: UInt64?
    public var cpuSeconds: Double?
    public var wallSeconds: Double?
    public init(memoryBytes: UInt64? = nil, cpuSeconds: Double? = nil, wallSeconds: Double? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
    }
}

/// Every problem of a configuration file, one per line when printed.
public struct DaemonConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [TaskProblem]
    public init(_ problems: [TaskProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Typed reads from a `DocTable` that collect problems instead of stopping at the first.
struct Reader {
    let file: String
    var problems: [TaskProblem] = []

    mutating func problem(_ line: Int?, _ table: String, _ key: String?, _ message: String) {
        let field = key.map { table.isEmpty ? $0 : "[\(table)] \($0)" } ?? (table.isEmpty ? nil : "[\(table)]")
        problems.append(TaskProblem(file: file, line: line, field: field, message: message))
    }

    mutating func unknownKeys(_ t: DocTable, table: String) {
        let known = DaemonConfig.keys[table] ?? []
        for e in t.entries where !known.contains(e.key) {
            let near = known.first { $0.hasPrefix(e.key) || e.key.hasPrefix($0) || Self.distance($0, e.key) <= 2 }
            let hint = near.map { "; did you mean `\($0)`?" } ?? "; known keys: \(known.joined(separator: ", "))"
            problem(e.keyPosition.line, table, e.key, "unknown key" + hint)
        }
    }

    mutating func table(_ t: DocTable, _ key: String) -> DocTable? {
        guard let e = t[key] else { return nil }
        guard let sub = e.value.table else {
            problem(e.keyPosition.line, "", key, "must be a table ([\(key)]), got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        return sub
    }

    mutating func string(_ t: DocTable, _ key: String, table: String) -> String? {
        guard let e = t[key] else { return nil }
        guard let s = e.value.string else {
            problem(e.value.line, table, key, "must be a string (a path in quotes), got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        guard s.hasPrefix("/") else {
            problem(e.value.line, table, key, "must be an absolute path (starting with /), got \"\(s)\"")
            return nil
        }
        return s
    }

    mutating func integer(_ t: DocTable, _ key: String, table: String, min: Int, hint: String? = nil) -> Int? {
        guard let e = t[key] else { return nil }
        guard let i = e.value.integer else {
            problem(e.value.line, table, key, "must be an integer, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        guard i >= min else {
            problem(e.value.line, table, key, "must be at least \(min), got \(i)" + (hint.map { " (\($0))" } ?? ""))
            return nil
        }
        return i
    }

    /// A non-negative number of seconds (integer or float); zero only where it means "never".
    mutating func seconds(_ t: DocTable, _ key: String, table: String, allowZero: Bool) -> Double? {
        guard let e = t[key] else { return nil }
        guard let d = e.value.number else {
            problem(e.value.line, table, key, "must be a number of seconds, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        guard d.isFinite, allowZero ? d >= 0 : d > 0 else {
            let what = allowZero ? "0 (no limit) or a positive number of seconds" : "a positive number of seconds"
            problem(e.value.line, table, key, "must be \(what), got \(e.value.shown)")
            return nil
        }
        return d
    }

    /// Permission bits in octal: the string "660" or "0660", or the TOML integer 0o660.
    mutating func mode(_ t: DocTable, _ key: String) -> UInt32? {
        guard let e = t[key] else { return nil }
        let fix = "write octal permission bits as a string, e.g. socket_mode = \"660\""
        var bits: UInt32?
        if let s = e.value.string {
            bits = s.isEmpty || s.count > 4 ? nil : UInt32(s, radix: 8)
        } else if let i = e.value.integer, e.value.text.hasPrefix("0o") {
            bits = UInt32(exactly: i)
        } else if e.value.integer != nil {
            problem(e.value.line, "", key, "\(e.value.shown) is a decimal integer; \(fix) or as 0o660")
            return nil
        }
        guard let bits, bits <= 0o777 else {
            problem(e.value.line, "", key, "\(e.value.shown) is not a permission mode; \(fix)")
            return nil
        }
        if bits & 0o600 != 0o600 {
            problem(e.value.line, "", key, "\(e.value.shown) denies the daemon's own user read and write; use at least \"600\"")
            return nil
        }
        return bits
    }

    mutating func names(_ t: DocTable, _ key: String, what: String) -> [DaemonConfig.Name] {
        guard let e = t[key] else { return [] }
        guard let a = e.value.array else {
            problem(e.value.line, "command_workloads", key, "must be an array of \(what) names, e.g. \(key) = [\"alice\"]; got \(e.value.typeName) \(e.value.shown)")
            return []
        }
        var out: [DaemonConfig.Name] = []
        for v in a {
            guard let s = v.string, !s.isEmpty, !s.contains(where: { $0.isWhitespace || $0 == ":" }) else {
                problem(v.line, "command_workloads", key, "\(v.shown) is not a \(what) name; write names in quotes, e.g. \(key) = [\"alice\"]")
                continue
            }
            out.append(.init(s, line: v.line))
        }
        return out
    }

    /// Absolute directory paths that can go into a systemd `ReadWritePaths=` line unquoted.
    mutating func directories(_ t: DocTable, _ key: String) -> [DaemonConfig.Name] {
        guard let e = t[key] else { return [] }
        let example = "e.g. \(key) = [\"/srv/ml\"]"
        guard let a = e.value.array else {
            problem(e.value.line, "command_workloads", key, "must be an array of directories, \(example); got \(e.value.typeName) \(e.value.shown)")
            return []
        }
        var out: [DaemonConfig.Name] = []
        for v in a {
            guard let s = v.string else {
                problem(v.line, "command_workloads", key, "\(v.shown) is not a directory; write absolute paths in quotes, \(example)")
                continue
            }
            let path = s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
            let special = path.first { $0.isWhitespace || "\"'\\%;".contains($0) || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) }
            let why: String? =
                if !path.hasPrefix("/") { "is not an absolute path (it must start with /)" }
                else if path == "/" { "is the whole file system; name the directories programs write to, e.g. \"/home\" or \"/srv/ml\"" }
                else if path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                    "is not a normalised path (no `.`, `..` or `//` in it)"
                }
                else if let c = special {
                    "contains \(c.isWhitespace ? "white space" : "`\(c)`"), which systemd's ReadWritePaths= would read specially; rename or link the directory"
                }
                else { nil }
            if let why {
                problem(v.line, "command_workloads", key, "\(v.shown) \(why)")
                continue
            }
            out.append(.init(path, line: v.line))
        }
        return out
    }

    /// Levenshtein distance, for "did you mean" hints.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
