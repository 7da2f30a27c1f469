import Foundation
import Testing

/// scripts/install.sh into a temporary root (--root), with the built binaries (--binaries):
/// the files, the user, idempotence, and --uninstall.
@Suite struct InstallTests {
    static let script = Ops.repositoryRoot.appendingPathComponent("scripts/install.sh").path

    func install(_ root: URL, _ extra: [String] = []) throws -> Ops.Run {
        try Ops.run("/bin/bash", [Self.script, "--root", root.path, "--binaries", Ops.productsDirectory.path] + extra)
    }

    func files(_ root: URL) -> [String] {
        let e = FileManager.default.enumerator(atPath: root.path)
        var out: [String] = []
        while let p = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(p).path, isDirectory: &isDir), !isDir.boolValue { out.append(p) }
        }
        return out.sorted()
    }

    @Test func installsIntoARootTwiceIdenticallyAndUninstalls() throws {
        let root = Ops.scratch("root")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try install(root)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let fm = FileManager.default
        for f in ["usr/local/bin/tuned", "usr/local/bin/tunectl"] {
            #expect(fm.isExecutableFile(atPath: root.appendingPathComponent(f).path), "\(f)")
        }
        let unit = try String(contentsOfFile: root.appendingPathComponent("etc/systemd/system/tuned.service").path, encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/tuned serve --config /etc/tuned/tuned.toml"))
        let conf = root.appendingPathComponent("etc/tuned/tuned.toml").path
        #expect(try String(contentsOfFile: conf, encoding: .utf8)
            == String(contentsOf: Ops.repositoryRoot.appendingPathComponent("scripts/tuned.toml"), encoding: .utf8))
        #expect(fm.fileExists(atPath: root.appendingPathComponent("usr/local/share/tuned/policies").path))
        #expect(fm.fileExists(atPath: root.appendingPathComponent("usr/local/share/doc/tuned/README.md").path))
        let passwd = try String(contentsOfFile: root.appendingPathComponent("etc/passwd").path, encoding: .utf8)
        #expect(passwd.split(separator: "\n").filter { $0.hasPrefix("tuned:") }.count == 1, "\(passwd)")
        #expect(passwd.contains(":/var/lib/tuned:/usr/sbin/nologin"))
        let group = try String(contentsOfFile: root.appendingPathComponent("etc/group").path, encoding: .utf8)
        #expect(group.hasPrefix("tuned:x:"), "\(group)")

        // Twice: the same files, the same user; an edited configuration is kept.
        let before = files(root)
        try "workers = 2\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let second = try install(root)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("kept \(conf)"))
        #expect(files(root) == before)
        #expect(try String(contentsOfFile: conf, encoding: .utf8) == "workers = 2\n")
        #expect(try String(contentsOfFile: root.appendingPathComponent("etc/passwd").path, encoding: .utf8) == passwd)

        // Uninstall: everything but the edited configuration and the user database.
        let un = try install(root, ["--uninstall"])
        #expect(un.status == 0, "\(un.stdout)\(un.stderr)")
        #expect(un.stdout.contains("kept \(conf) (edited"))
        #expect(files(root).filter { $0 != "etc/.pwd.lock" } == ["etc/group", "etc/gshadow", "etc/passwd", "etc/shadow", "etc/tuned/tuned.toml"], "\(files(root))")
        // An unchanged default goes too; uninstalling twice is fine.
        try fm.removeItem(atPath: conf)
        #expect(try install(root).status == 0)
        #expect(try install(root, ["--uninstall"]).status == 0)
        #expect(!fm.fileExists(atPath: conf))
        #expect(try install(root, ["--uninstall"]).status == 0)
    }

    @Test func aPrefixMovesTheBinariesAndTheUnitsExecStart() throws {
        let root = Ops.scratch("prefix")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try install(root, ["--prefix", "/opt/tuned"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("opt/tuned/bin/tuned").path))
        let unit = try String(contentsOfFile: root.appendingPathComponent("etc/systemd/system/tuned.service").path, encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/tuned/bin/tuned serve"))
        let bad = try Ops.run("/bin/bash", [Self.script, "--prefix", "relative"])
        #expect(bad.status == 2 && bad.stderr.contains("--prefix must be an absolute path"))
    }

    /// Writes `files` (path relative to `root` → content) into `root`.
    func put(_ root: URL, _ files: [String: String]) throws {
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    /// The text files under `root` (the binaries left out) with their contents.
    func contents(_ root: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in files(root) where !f.contains("/bin/") { out[f] = try String(contentsOfFile: root.appendingPathComponent(f).path, encoding: .utf8) }
        return out
    }

    /// The system-tuning daemon of the Debian/Fedora package `tuned` (as that package lays
    /// itself out): install.sh refuses, names what it found and how to proceed, changes nothing.
    @Test(arguments: [
        ["usr/sbin/tuned": "#!/usr/bin/python3 -Es\n", "usr/sbin/tuned-adm": "#!/usr/bin/python3 -Es\n",
         "usr/lib/systemd/system/tuned.service": "[Unit]\nDescription=Dynamic System Tuning Daemon\n[Service]\nType=dbus\nBusName=com.redhat.tuned\nExecStart=/usr/sbin/tuned -l -P\n",
         "etc/tuned/tuned-main.conf": "daemon = 1\ndynamic_tuning = 0\n", "etc/tuned/active_profile": "balanced\n", "etc/tuned/profile_mode": "auto\n"],
        ["lib/systemd/system/tuned.service": "[Unit]\nDescription=Dynamic System Tuning Daemon\n"],
        ["etc/systemd/system/tuned.service": "[Unit]\nDescription=Dynamic System Tuning Daemon (local copy)\n"],
    ])
    func refusesToInstallOverTheSystemTuningDaemonNamedTuned(_ package: [String: String]) throws {
        let root = Ops.scratch("other-tuned")
        defer { try? FileManager.default.removeItem(at: root) }
        try put(root, package)
        let before = try contents(root)
        let r = try install(root)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.hasPrefix("install.sh: refusing to install: this system has the other program named tuned"), "\(r.stderr)")
        for path in package.keys {
            #expect(r.stderr.contains("  \(root.path)/\(path) ("), "\(path) not named: \(r.stderr)")
        }
        if package.keys.contains(where: { $0.hasSuffix("tuned.service") }) {
            #expect(r.stderr.contains("\"Dynamic System Tuning Daemon"), "\(r.stderr)")
        }
        #expect(r.stderr.contains("sudo apt-get purge tuned") && r.stderr.contains("sudo dnf remove tuned"), "\(r.stderr)")
        #expect(r.stderr.contains("tuned serve --socket ~/.tuned/tuned.sock"), "\(r.stderr)")
        #expect(try contents(root) == before, "install.sh changed files: \(files(root))")
        // --uninstall never removes a tuned.service that is not ours either.
        let un = try install(root, ["--uninstall"])
        #expect(un.status == 0, "\(un)")
        #expect(try contents(root) == before, "uninstall changed files: \(files(root))")
    }

    /// A removed (not purged) package leaves its /etc/tuned files: they are no conflict; the
    /// install says so and leaves them, and so does the uninstall.
    @Test func configurationLeftByARemovedSystemTuningDaemonIsLeftAlone() throws {
        let root = Ops.scratch("other-leftover")
        defer { try? FileManager.default.removeItem(at: root) }
        let leftover = ["etc/tuned/tuned-main.conf": "daemon = 1\n", "etc/tuned/active_profile": "balanced\n"]
        try put(root, leftover)
        let r = try install(root)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("found configuration of the other tuned") && r.stdout.contains("\(root.path)/etc/tuned/active_profile"), "\(r.stdout)")
        #expect(try install(root, ["--uninstall"]).status == 0)
        let left = try contents(root).filter { $0.key.hasPrefix("etc/tuned/") }
        #expect(left == leftover, "\(left)")
    }

    /// The sandbox's drop-ins: --builtin-only installs scripts/tuned-builtin-only.conf (and a
    /// run without the flag removes it); [command_workloads] writable_paths of tuned.toml
    /// become writable-paths.conf; --uninstall removes both.
    @Test func dropInsFollowTheFlagAndTheConfiguration() throws {
        let root = Ops.scratch("dropins")
        defer { try? FileManager.default.removeItem(at: root) }
        let dropins = "etc/systemd/system/tuned.service.d"
        let tight = try install(root, ["--builtin-only"])
        #expect(tight.status == 0, "\(tight)")
        #expect(try contents(root)["\(dropins)/builtin-only.conf"]
            == String(contentsOf: Ops.repositoryRoot.appendingPathComponent("scripts/tuned-builtin-only.conf"), encoding: .utf8))
        #expect(!files(root).contains("\(dropins)/writable-paths.conf"))
        #expect(tight.stdout.contains("no [command_workloads] writable_paths"), "\(tight.stdout)")

        let writable = Ops.scratch("writable-root")
        defer { try? FileManager.default.removeItem(at: writable) }
        try "[command_workloads]\nwritable_paths = [\"\(writable.path)\", \"/tmp\"]\n"
            .write(to: root.appendingPathComponent("etc/tuned/tuned.toml"), atomically: true, encoding: .utf8)
        let open = try install(root)
        #expect(open.status == 0, "\(open)")
        #expect(open.stdout.contains("removed \(root.path)/\(dropins)/builtin-only.conf"), "\(open.stdout)")
        let written = try #require(try contents(root)["\(dropins)/writable-paths.conf"], "\(files(root))")
        #expect(written.hasSuffix("[Service]\nReadWritePaths=\(writable.path) /tmp\n"), "\(written)")
        #expect(!files(root).contains("\(dropins)/builtin-only.conf"))

        // A directory that does not exist: install.sh stops at check-config, naming it.
        try "[command_workloads]\nwritable_paths = [\"/nonexistent/ml\"]\n"
            .write(to: root.appendingPathComponent("etc/tuned/tuned.toml"), atomically: true, encoding: .utf8)
        let missing = try install(root)
        #expect(missing.status != 0 && missing.stderr.contains("tuned.toml:2: [command_workloads] writable_paths: no directory \"/nonexistent/ml\""), "\(missing)")

        #expect(try install(root, ["--uninstall"]).status == 0)
        #expect(!files(root).contains { $0.hasPrefix(dropins) })
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(dropins).path))
    }
}
