import Foundation
import TunedEngine
import TunedOptim

/// `[command_workloads] writable_paths`: the directories that programs started by the service
/// may write to, besides the service's own (/var/lib/tuned, a private /tmp, /dev/shm).
///
/// The unit runs with `ProtectSystem=strict` and `ProtectHome=read-only`, and a service's
/// `ReadWritePaths=` is fixed when it starts: a task's `workdir` cannot be made writable at
/// submit time. So the administrator lists the roots once; `tuned check-config FILE
/// --systemd-drop-in` prints them as a drop-in, which `scripts/install.sh` installs as
/// `/etc/systemd/system/tuned.service.d/writable-paths.conf`.
public enum WritablePaths {
    /// The drop-in for `config`'s writable paths, or nil when there are none.
    public static func systemdDropIn(_ config: DaemonConfig, file: String) -> String? {
        guard !config.writablePaths.isEmpty else { return nil }
        return """
            # Generated from [command_workloads] writable_paths of \(file) by
            # `tuned check-config \(file) --systemd-drop-in` (scripts/install.sh). Edit that file, not this one.
            [Service]
            ReadWritePaths=\(config.writablePaths.map(\.name).joined(separator: " "))

            """
    }

    /// Every listed path that is not an existing directory, as a problem on its line: systemd
    /// refuses to start a service whose ReadWritePaths= names a missing path.
    public static func check(_ config: DaemonConfig, file: String, fileManager: FileManager = .default) throws(DaemonConfigError) {
        var problems: [TaskProblem] = []
        for p in config.writablePaths {
            var isDirectory: ObjCBool = false
            let exists = fileManager.fileExists(atPath: p.name, isDirectory: &isDirectory)
            guard !exists || !isDirectory.boolValue else { continue }
            problems.append(TaskProblem(
                file: file, line: p.line, field: "[command_workloads] writable_paths",
                message: exists ? "\"\(p.name)\" is not a directory" : "no directory \"\(p.name)\" on this system; create it or remove it from the list"))
        }
        if !problems.isEmpty { throw DaemonConfigError(problems) }
    }

    /// The directories a program of the service may write to: the store's folder
    /// (/var/lib/tuned), /tmp, /dev/shm and the configured `writable_paths`.
    public static func roots(storePath: String, configured: [String]) -> [String] {
        [URL(fileURLWithPath: storePath).deletingLastPathComponent().path, "/tmp", "/dev/shm"] + configured
    }

    /// One warning per unfinished command task whose `workdir` lies outside every root: under
    /// the service its program cannot write there (EROFS). `tasks`: (id, name, normalised spec).
    public static func warnings(tasks: [(id: Int64, name: String, specJSON: String)], roots: [String]) -> [String] {
        tasks.compactMap { t in
            guard let spec = try? JSONValue.parse(Data(t.specJSON.utf8)), let workload = spec["workload"],
                  workload["kind"]?.stringValue == "command", let workdir = workload["workdir"]?.stringValue,
                  !covers(roots, workdir)
            else { return nil }
            return "task \(t.id) (\(t.name)): its workdir \(workdir) is outside every directory the service may write to "
                + "(\(roots.joined(separator: ", "))): its program cannot write there. Add the directory to "
                + "[command_workloads] writable_paths in tuned.toml, re-run scripts/install.sh, restart tuned"
        }
    }

    /// Whether `path` (absolute) is one of `roots` or lies below one.
    public static func covers(_ roots: [String], _ path: String) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
    }
}
