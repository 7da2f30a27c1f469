import Foundation
import TunedRPC

/// The `[workload]` table of a command workload:
///
///     [workload]
///     kind = "command"
///     command = ["python3", "train.py", "--data", "digits.csv"]
///     workdir = "experiments/mlp"          # optional; relative to the worker's work directory
///     env = { CUDA_VISIBLE_DEVICES = "", OPENBLAS_NUM_THREADS = "2" }   # optional
///
/// `command[0]` is a path (with a `/`, relative to `workdir`) or a name looked up in `PATH`.
/// Environment values may be strings, numbers or booleans.
public struct CommandWorkload: Sendable, Equatable {
    public static let kind = "command"
    public static let keys: Set<String> = ["kind", "command", "workdir", "env"]

    public var command: [String]
    public var workdir: String?
    public var env: [String: String]

    public init(command: [String], workdir: String? = nil, env: [String: String] = [:]) {
        self.command = command
        self.workdir = workdir
        self.env = env
    }

    /// Keys other than `keys` are ignored and listed in `ignoredKeys`.
    public init(table: [String: RPCValue], context: String = "[workload]") throws {
        guard let cmd = table["command"]?.arrayValue, !cmd.isEmpty else {
            throw WorkerError("\(context): kind 'command' needs 'command', a non-empty array of strings such as [\"python3\", \"train.py\"]")
        }
        command = try cmd.enumerated().map { i, v in
            guard let s = v.stringValue, !(i == 0 && s.isEmpty) else {
                throw WorkerError("\(context): 'command' must be an array of strings (element \(i) is \(v.jsonText))")
            }
            return s
        }
        switch table["workdir"] {
        case nil, .null?: workdir = nil
        case .string(let s)?: workdir = s
        case let v?: throw WorkerError("\(context): 'workdir' must be a string, got \(v.jsonText)")
        }
        env = [:]
        switch table["env"] {
        case nil, .null?: break
        case .object(let o)?:
            for (k, v) in o {
                guard !k.isEmpty, !k.contains("="), !k.contains("\0") else {
                    throw WorkerError("\(context): 'env' has an invalid variable name '\(k)'")
                }
                switch v {
                case .string(let s): env[k] = s
                case .int(let i): env[k] = String(i)
                case .double(let d): env[k] = String(d)
                case .bool(let b): env[k] = b ? "1" : "0"
                default: throw WorkerError("\(context): 'env.\(k)' must be a string, a number or a boolean")
                }
            }
        case let v?: throw WorkerError("\(context): 'env' must be a table of strings, got \(v.jsonText)")
        }
        ignoredKeys = table.keys.filter { !Self.keys.contains($0) }.sorted()
    }

    /// Keys of the table this runner does not use.
    public var ignoredKeys: [String] = []

    /// The executable for `command[0]`: a path containing `/` (relative to `directory`), or
    /// the first executable of that name in `searchPath` (colon-separated).
    public static func resolveExecutable(_ name: String, directory: URL, searchPath: String) throws -> URL {
        let fm = FileManager.default
        if name.contains("/") {
            let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)
            guard fm.isExecutableFile(atPath: url.path) else {
                throw WorkerError(fm.fileExists(atPath: url.path)
                    ? "command \(url.path) is not executable (chmod +x, or run it through its interpreter, e.g. [\"python3\", \"\(name)\"])"
                    : "command \(url.path) does not exist")
            }
            return url
        }
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue, fm.isExecutableFile(atPath: url.path) {
                return url
            }
        }
        throw WorkerError("command '\(name)' not found in PATH (\(searchPath)); give its full path or set PATH in [workload] env")
    }
}
