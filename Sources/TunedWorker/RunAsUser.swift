import Foundation
import TunedRPC

#if canImport(Glibc)
    import Glibc
#endif

/// Running a command workload's program as the user who submitted its task (`Lease.runAs`,
/// set when the daemon runs as root): setpriv(1) sets the real and effective uid, gid and
/// supplementary groups and then executes the program (through prlimit when there are
/// limits), so nothing of the user's runs as root. The segment's checkpoint directory is
/// handed to the user; the folders above it are made traversable (not listable) for them.
public enum RunAsUser {
    /// The PATH a program run as another user gets (systemd's default), unless its task sets one.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static let setprivPath: String? = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/local/bin/setpriv"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The argv prefix that runs what follows as `who`.
    static func prefix(_ who: RunAs) throws -> [String] {
        if geteuid() == who.uid { return [] }
        guard geteuid() == 0 else {
            throw WorkerError(
                "this task's program must run as uid \(who.uid), who submitted it, but the worker runs as uid \(geteuid()), not root; run the daemon as root or as that user")
        }
        guard let setpriv = setprivPath else {
            throw WorkerError("running the program as uid \(who.uid) needs setpriv(1), which is not installed (Debian: apt-get install util-linux)")
        }
        let groups = who.groups.isEmpty ? [who.gid] : who.groups
        return [
            setpriv, "--reuid=\(who.uid)", "--regid=\(who.gid)", "--groups=" + groups.map(String.init).joined(separator: ","),
            "--",
        ]
    }

    /// Gives `directory` to `who` (owner, mode 0700) and lets them traverse the three folders
    /// above it (task, trial and checkpoint root: the execute bit for others, not read).
    public static func hand(_ directory: URL, to who: RunAs) throws {
        guard geteuid() == 0, geteuid() != who.uid else { return }
        guard chown(directory.path, who.uid, who.gid) == 0, chmod(directory.path, 0o700) == 0 else {
            throw WorkerError("cannot give \(directory.path) to uid \(who.uid): \(String(cString: strerror(errno)))")
        }
        var parent = directory.deletingLastPathComponent()
        for _ in 0..<3 {
            var st = stat()
            if stat(parent.path, &st) == 0, st.st_mode & 0o001 == 0 { chmod(parent.path, (st.st_mode & 0o7777) | 0o111) }
            parent = parent.deletingLastPathComponent()
        }
    }

    /// The account's name and home folder, if the uid has one.
    static func account(_ uid: UInt32) -> (name: String, home: String)? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let name = pwd.pw_name, let home = pwd.pw_dir
        else { return nil }
        return (String(cString: name), String(cString: home))
    }
}
