import Foundation
import TunedEngine
#if canImport(Glibc)
import Glibc
#endif

/// Who may submit a task with a command workload. Such a task runs an arbitrary program as
/// the daemon's user, so by default only that user and root may; `[command_workloads]
/// allow_users` / `allow_groups` of the configuration file extend the list.
///
/// `allows` is a pure decision on numbers; `resolve` turns the file's names into them.
public struct CommandWorkloadPolicy: Sendable, Equatable {
    /// The daemon's own uid (always allowed, as is root).
    public var daemonUID: UInt32
    public var allowedUIDs: Set<UInt32>
    public var allowedGIDs: Set<UInt32>
    /// Where the allow-list lives, for the refusal message.
    public var configPath: String

    public init(daemonUID: UInt32, allowedUIDs: Set<UInt32> = [], allowedGIDs: Set<UInt32> = [], configPath: String = DaemonConfig.defaultPath) {
        self.daemonUID = daemonUID
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
        self.configPath = configPath
    }

    /// Root, the daemon's uid, a listed uid, or a member (primary `gid` or supplementary
    /// `groups`) of a listed group.
    public func allows(uid: UInt32, gid: UInt32, groups: [UInt32]) -> Bool {
        if uid == 0 || uid == daemonUID || allowedUIDs.contains(uid) { return true }
        if allowedGIDs.contains(gid) { return true }
        return groups.contains { allowedGIDs.contains($0) }
    }

    /// The refusal sent to a client that `allows` rejected: who, why, and the key to change.
    public func refusal(uid: UInt32, userName: String?) -> String {
        let who = userName.map { "user `\($0)` (uid \(uid))" } ?? "uid \(uid)"
        let name = userName ?? String(uid)
        return "\(who) may not submit command workloads: they run arbitrary programs as the daemon's user. "
            + "An administrator can allow it in \(configPath): [command_workloads] allow_users = [\"\(name)\"] "
            + "(or allow_groups = [\"GROUP\"]), then restart tuned"
    }

    /// Looks up the names of `config` (`getpwnam`, `getgrnam`); a name that does not exist is
    /// a problem on its line.
    public static func resolve(_ config: DaemonConfig, file: String, daemonUID: UInt32 = getuid()) throws(DaemonConfigError) -> CommandWorkloadPolicy {
        var policy = CommandWorkloadPolicy(daemonUID: daemonUID, configPath: file)
        var problems: [TaskProblem] = []
        for u in config.allowUsers {
            if let uid = Self.uid(of: u.name) { policy.allowedUIDs.insert(uid) } else {
                problems.append(TaskProblem(
                    file: file, line: u.line, field: "[command_workloads] allow_users",
                    message: "no user `\(u.name)` on this system (see `getent passwd`); remove it or create the user"))
            }
        }
        for g in config.allowGroups {
            if let gid = Self.gid(of: g.name) { policy.allowedGIDs.insert(gid) } else {
                problems.append(TaskProblem(
                    file: file, line: g.line, field: "[command_workloads] allow_groups",
                    message: "no group `\(g.name)` on this system (see `getent group`); remove it or create the group"))
            }
        }
        if !problems.isEmpty { throw DaemonConfigError(problems) }
        return policy
    }

    static func uid(of name: String) -> UInt32? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &pwd, &buf, buf.count, &result) == 0, result != nil else { return nil }
        return pwd.pw_uid
    }

    static func gid(of name: String) -> UInt32? {
        var grp = group()
        var result: UnsafeMutablePointer<group>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &grp, &buf, buf.count, &result) == 0, result != nil else { return nil }
        return grp.gr_gid
    }

    /// The user name of `uid`, if it has one.
    public static func userName(of uid: UInt32) -> String? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let n = pwd.pw_name else { return nil }
        return String(cString: n)
    }
}

extension CommandWorkloadPolicy {
    /// The supplementary groups of `uid`'s user (`getgrouplist`); empty for a uid without a name.
    public static func groups(ofUID uid: UInt32) -> [UInt32] {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let name = pwd.pw_name else { return [] }
        var n: Int32 = 64
        while n <= 65536 {
            var groups = [gid_t](repeating: 0, count: Int(n))
            let count = n
            if getgrouplist(name, pwd.pw_gid, &groups, &n) >= 0 { return Array(groups[..<Int(n)]) }
            n = max(n, count * 2)
        }
        return []
    }

    /// Checks a submission of a command workload by `peer`; nil peer (credentials unknown) is refused.
    public func check(_ peer: PeerCredentials?) -> String? {
        guard let peer else { return "the daemon cannot tell who sent this request (no peer credentials), so it refuses command workloads" }
        if allows(uid: peer.uid, gid: peer.gid, groups: Self.groups(ofUID: peer.uid)) { return nil }
        return refusal(uid: peer.uid, userName: Self.userName(of: peer.uid))
    }
}
