#if canImport(Glibc)
    import Glibc
#endif

/// Who is at the other end of a connection, as the kernel reports it (`SO_PEERCRED`, read once
/// when the connection is accepted). Passed with every request through `DaemonCore.handle`, so
/// that methods can decide by the caller's identity (who may run command workloads, say).
public struct PeerCredentials: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32

    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}

/// `struct ucred` (not exported by the Glibc module): the layout `SO_PEERCRED` fills in.
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = .max
    var gid: UInt32 = .max
}

extension PeerCredentials {
    init(_ c: UCred) { self.init(uid: c.uid, gid: c.gid, pid: c.pid) }

    /// Served: the daemon's own uid, root, and members (primary or supplementary) of the
    /// socket file's group. Everyone else is refused with `unauthorized`.
    func mayConnect(socketGID: gid_t?) -> Bool {
        if uid == 0 || uid == getuid() || uid == geteuid() { return true }
        guard let socketGID else { return false }
        if gid == socketGID { return true }
        return Self.supplementaryGroups(of: uid).contains(socketGID)
    }

    static func supplementaryGroups(of uid: UInt32) -> [gid_t] {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let name = pwd.pw_name else {
            return []
        }
        var n: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(n))
            let count = n
            if getgrouplist(name, pwd.pw_gid, &groups, &n) >= 0 { return Array(groups[..<Int(n)]) }
            if n <= count { n = count * 2 }
            if n > 65536 { return [] }
        }
    }

    /// A group's name in backquotes, or its number when it has none.
    static func groupName(_ gid: gid_t) -> String {
        var grp = group()
        var result: UnsafeMutablePointer<group>?
        var buf = [CChar](repeating: 0, count: 16384)
        if getgrgid_r(gid, &grp, &buf, buf.count, &result) == 0, result != nil, let name = grp.gr_name {
            return "`\(String(cString: name))`"
        }
        return "\(gid)"
    }
}
