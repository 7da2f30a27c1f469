import Foundation
import Testing
import TunedDaemon
import TunedRPC
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DaemonConfigTests {
    static let broken: [String] = {
        let dir = Ops.fixtures.appendingPathComponent("config-broken")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
    }()

    /// Parse, then look the names up: what `tuned check-config` does.
    func check(_ text: String, file: String) -> DaemonConfigError? {
        do {
            let c = try DaemonConfig.parse(text, file: file)
            _ = try CommandWorkloadPolicy.resolve(c, file: file)
            return nil
        } catch { return error }
    }

    @Test func thereAreAtLeastFifteenBrokenConfigurationFiles() {
        #expect(Self.broken.count >= 15)
    }

    /// Each fixture's first line is `# expect: FRAGMENT`; its one problem must contain
    /// `NAME.toml` + FRAGMENT (file, line, key and what to fix).
    @Test(arguments: broken) func brokenConfigurationFileNamesItsProblem(_ name: String) throws {
        let text = try String(contentsOf: Ops.fixtures.appendingPathComponent("config-broken/\(name)"), encoding: .utf8)
        let first = try #require(text.split(separator: "\n").first)
        let fragment = try #require(first.split(separator: "# expect: ", maxSplits: 1).last.map(String.init))
        let error = try #require(check(text, file: name), "\(name) was accepted")
        #expect(error.problems.count == 1, "\(error)")
        #expect(error.description.contains(name + fragment), "\(name): got \(error.description); expected …\(fragment)")
    }

    @Test func theShippedDefaultFileParsesToTheDefaults() throws {
        let text = try String(contentsOf: Ops.repositoryRoot.appendingPathComponent("scripts/tuned.toml"), encoding: .utf8)
        #expect(try DaemonConfig.parse(text, file: "tuned.toml") == DaemonConfig())
        // And with every commented key switched on, still the defaults (the comments tell the truth).
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("#") && line.contains(" = ") && !line.hasPrefix("# ") ? String(line.dropFirst()) : String(line)
        }.joined(separator: "\n").replacingOccurrences(of: "allow_users = [\"alice\"]", with: "allow_users = []")
            .replacingOccurrences(of: "allow_groups = [\"ml\"]", with: "allow_groups = []")
        #expect(uncommented.contains("\nsegment_memory_mb = 0"))
        #expect(try DaemonConfig.parse(uncommented, file: "tuned.toml") == DaemonConfig())
    }

    @Test func aFullFileSetsEveryValue() throws {
        let c = try DaemonConfig.parse(
            """
            socket = "/run/x/x.sock"
            socket_mode = 0o640
            store = "/srv/tuned/db.sqlite"
            workers = 3
            lease_seconds = 2.5
            [limits]
            max_request_bytes = 4096
            max_connections = 8
            idle_timeout_seconds = 0
            segment_memory_mb = 256
            segment_cpu_seconds = 30
            segment_wall_seconds = 60.5
            [command_workloads]
            allow_users = ["root", "nobody"]
            allow_groups = ["nogroup"]
            """, file: "full.toml")
        #expect(c.socketPath == "/run/x/x.sock" && c.socketMode == 0o640 && c.storePath == "/srv/tuned/db.sqlite")
        #expect(c.workers == 3 && c.leaseSeconds == 2.5)
        #expect(c.maxRequestBytes == 4096 && c.maxConnections == 8 && c.idleTimeoutSeconds == 0)
        #expect(c.segmentLimits == SegmentLimits(memoryBytes: 256 << 20, cpuSeconds: 30, wallSeconds: 60.5))
        #expect(c.allowUsers.map(\.name) == ["root", "nobody"] && c.allowUsers.map(\.line) == [14, 14])
        let policy = try CommandWorkloadPolicy.resolve(c, file: "full.toml", daemonUID: 999)
        #expect(policy.allowedUIDs == [0, 65534] && policy.allowedGIDs == [65534])
        #expect(try DaemonConfig.parse("socket_mode = \"0600\"\nworkers = 0", file: "m.toml").socketMode == 0o600)
        #expect(try DaemonConfig.parse("workers = 0", file: "w.toml").workers == nil)
    }

    @Test func everyProblemOfAFileIsNamedInLineOrder() throws {
        let text = """
            workerz = 2
            socket_mode = "999"
            [limits]
            max_connections = -1
            segment_cpu_seconds = "10"
            """
        let e = try #require(check(text, file: "many.toml"))
        #expect(e.problems.map(\.line) == [1, 2, 4, 5], "\(e)")
        #expect(e.problems.map(\.field) == ["workerz", "socket_mode", "[limits] max_connections", "[limits] segment_cpu_seconds"])
    }

    @Test func checkConfigCommandExitsZeroOrOneAndPrintsTheProblems() throws {
        let ok = try Ops.run(Ops.tuned, ["check-config", Ops.repositoryRoot.appendingPathComponent("scripts/tuned.toml").path])
        #expect(ok.status == 0 && ok.stdout.hasSuffix("tuned.toml: OK\n"), "\(ok)")
        let badPath = Ops.fixtures.appendingPathComponent("config-broken/10-workers-negative.toml").path
        for args in [["check-config", badPath], ["--check-config", badPath], ["serve", "--check-config", badPath]] {
            let bad = try Ops.run(Ops.tuned, args)
            #expect(bad.status == 1, "\(args): \(bad)")
            #expect(bad.stderr == "\(badPath):2: workers: must be at least 0, got -2 (0 starts one worker per core)\n", "\(args): \(bad)")
        }
        let missing = try Ops.run(Ops.tuned, ["check-config", "/nonexistent/tuned.toml"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/tuned.toml: cannot read the configuration file: no such file"))
        // `tuned serve --config` with a broken file refuses to start and says why.
        let serve = try Ops.run(Ops.tuned, ["serve", "--config", badPath, "--socket", "/tmp/never.sock"])
        #expect(serve.status == 1 && serve.stderr.contains("invalid configuration") && serve.stderr.contains(":2: workers:"), "\(serve)")
    }
}

/// `[command_workloads] writable_paths` → the service's ReadWritePaths= drop-in.
@Suite struct WritablePathsTests {
    @Test func writablePathsParseIntoADropInAndMissingDirectoriesAreProblemsOnTheirLines() throws {
        let dir = Ops.scratch("writable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = """
            [command_workloads]
            writable_paths = ["/tmp", "\(dir.path)/",
              "\(dir.path)/missing"]
            """
        let c = try DaemonConfig.parse(text, file: "w.toml")
        #expect(c.writablePaths == [.init("/tmp", line: 2), .init(dir.path, line: 2), .init(dir.path + "/missing", line: 3)])
        let e = try #require(throws: DaemonConfigError.self) { try WritablePaths.check(c, file: "w.toml") }
        #expect(e.description == "w.toml:3: [command_workloads] writable_paths: no directory \"\(dir.path)/missing\" on this system; create it or remove it from the list")
        try "x".write(to: dir.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        let notDir = try DaemonConfig.parse("[command_workloads]\nwritable_paths = [\"\(dir.path)/file\"]", file: "f.toml")
        #expect(throws: DaemonConfigError.self) { try WritablePaths.check(notDir, file: "f.toml") }

        var ok = c
        ok.writablePaths.removeLast()
        try WritablePaths.check(ok, file: "w.toml")
        #expect(WritablePaths.systemdDropIn(ok, file: "w.toml")?.contains("\n[Service]\nReadWritePaths=/tmp \(dir.path)\n") == true)
        #expect(WritablePaths.systemdDropIn(DaemonConfig(), file: "w.toml") == nil)
        #expect(WritablePaths.covers(["/srv/ml", "/home"], "/home/alice/cnn") && WritablePaths.covers(["/srv/ml"], "/srv/ml"))
        #expect(!WritablePaths.covers(["/srv/ml"], "/srv/mlx") && !WritablePaths.covers([], "/tmp"))
        #expect(WritablePaths.roots(storePath: "/var/lib/tuned/tuned.db", configured: ["/srv/ml"]) == ["/var/lib/tuned", "/tmp", "/dev/shm", "/srv/ml"])
    }

    /// Under systemd (`$INVOCATION_ID`), the daemon warns at start about an unfinished command
    /// task whose workdir no writable root covers; without systemd there is no sandbox and no warning.
    @Test func theDaemonWarnsAtStartAboutAWorkdirOutsideTheWritableRoots() throws {
        let dir = Ops.scratch("wdwarn")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The programs' folders must lie outside /tmp and /dev/shm (writable roots of the
        // service): beside the build products, or — for a checkout under /tmp — in /var/tmp or home.
        let bases = [Ops.productsDirectory.path, "/var/tmp", FileManager.default.homeDirectoryForCurrentUser.path]
        let base = try #require(
            bases.first { !WritablePaths.covers(["/tmp", "/dev/shm"], $0) && FileManager.default.isWritableFile(atPath: $0) },
            "no writable folder outside /tmp and /dev/shm among \(bases)")
        let programs = URL(fileURLWithPath: base).appendingPathComponent("tuned-ops-programs-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: programs) }
        for sub in ["rw/prog", "ro/prog"] {
            try FileManager.default.createDirectory(at: programs.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let config = dir.appendingPathComponent("tuned.toml")
        try "[command_workloads]\nwritable_paths = [\"\(programs.path)/rw\"]\n".write(to: config, atomically: true, encoding: .utf8)
        func task(_ workdir: String) -> String {
            """
            name = "\(workdir.replacingOccurrences(of: "/", with: "-"))"
            [workload]
            kind = "command"
            command = ["python3", "train.py"]
            workdir = "\(workdir)"
            [search]
            optimizer = "sgd"
            lr = 0.1
            [budget]
            steps = 10
            """
        }
        var env = ProcessInfo.processInfo.environment
        env["INVOCATION_ID"] = "0123456789abcdef"
        let first = try Ops.Daemon.start(workers: 0, args: ["--config", config.path], environment: env, in: dir)
        let c = try first.client()
        for w in ["rw/prog", "ro/prog"] {
            _ = try c.call(RPCMethods.TaskSubmit.self, TaskSubmitParams(text: task(w), format: .toml, filename: "t.toml", baseDir: programs.path))
        }
        kill(first.process.processIdentifier, SIGTERM)
        first.process.waitUntilExit()

        func startLog(_ environment: [String: String]) throws -> String {
            let d = try Ops.Daemon.start(workers: 0, args: ["--config", config.path], environment: environment, in: dir)
            kill(d.process.processIdentifier, SIGTERM)
            d.process.waitUntilExit()
            return try String(contentsOf: d.log, encoding: .utf8)
        }
        let log = try startLog(env)
        let warnings = log.split(separator: "\n").filter { $0.contains("warning") && $0.contains("workdir") }
        #expect(warnings.count == 1, "\(log)")
        #expect(warnings.first?.contains("task 2 (ro-prog): its workdir \(programs.path)/ro/prog is outside every directory the service may write to") == true, "\(log)")
        #expect(warnings.first?.contains("[command_workloads] writable_paths") == true)
        var plain = env
        plain["INVOCATION_ID"] = nil
        #expect(!(try startLog(plain)).contains("workdir"))
    }

    /// `tuned check-config FILE --systemd-drop-in` (what install.sh runs): the drop-in on stdout,
    /// and systemd-analyze reads the unit with it without a word.
    @Test func checkConfigPrintsADropInThatSystemdAccepts() throws {
        let dir = Ops.scratch("dropin")
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = dir.appendingPathComponent("tuned.toml")
        try "[command_workloads]\nwritable_paths = [\"/tmp\", \"\(dir.path)\"]\n".write(to: conf, atomically: true, encoding: .utf8)
        let r = try Ops.run(Ops.tuned, ["check-config", conf.path, "--systemd-drop-in"])
        #expect(r.status == 0 && r.stdout.hasSuffix("[Service]\nReadWritePaths=/tmp \(dir.path)\n"), "\(r)")
        let empty = try Ops.run(Ops.tuned, ["check-config", Ops.repositoryRoot.appendingPathComponent("scripts/tuned.toml").path, "--systemd-drop-in"])
        #expect(empty.status == 0 && empty.stdout.isEmpty, "\(empty)")
        try "[command_workloads]\nwritable_paths = [\"/nonexistent/x\"]\nallow_users = [\"no-such-user-x\"]\n".write(to: conf, atomically: true, encoding: .utf8)
        let bad = try Ops.run(Ops.tuned, ["check-config", conf.path, "--systemd-drop-in"])
        #expect(bad.status == 1 && bad.stdout.isEmpty, "\(bad)")
        #expect(bad.stderr.contains("\(conf.path):2: [command_workloads] writable_paths: no directory \"/nonexistent/x\""), "\(bad)")
        #expect(bad.stderr.contains("\(conf.path):3: [command_workloads] allow_users: no user `no-such-user-x`"), "\(bad)")

        let unitDir = dir.appendingPathComponent("units")
        try FileManager.default.createDirectory(at: unitDir.appendingPathComponent("tuned.service.d"), withIntermediateDirectories: true)
        try SystemdTests.unitForVerify().write(to: unitDir.appendingPathComponent("tuned.service"), atomically: true, encoding: .utf8)
        try r.stdout.write(to: unitDir.appendingPathComponent("tuned.service.d/writable-paths.conf"), atomically: true, encoding: .utf8)
        let verify = try Ops.run("/usr/bin/systemd-analyze", ["verify", unitDir.appendingPathComponent("tuned.service").path])
        #expect(verify.status == 0 && verify.stdout.isEmpty && verify.stderr.isEmpty, "\(verify)")
    }
}

@Suite struct CommandWorkloadPolicyTests {
    let policy = CommandWorkloadPolicy(daemonUID: 998, allowedUIDs: [1001], allowedGIDs: [2000], configPath: "/etc/tuned/tuned.toml")

    @Test func rootAndTheDaemonsOwnUserAreAlwaysAllowed() {
        #expect(CommandWorkloadPolicy(daemonUID: 998).allows(uid: 0, gid: 0, groups: []))
        #expect(CommandWorkloadPolicy(daemonUID: 998).allows(uid: 998, gid: 998, groups: []))
    }

    @Test func othersNeedToBeListedByUserOrGroup() {
        #expect(!CommandWorkloadPolicy(daemonUID: 998).allows(uid: 1000, gid: 1000, groups: [1000, 27]))
        #expect(policy.allows(uid: 1001, gid: 1001, groups: []))  // listed user
        #expect(policy.allows(uid: 1002, gid: 2000, groups: []))  // primary group listed
        #expect(policy.allows(uid: 1003, gid: 1003, groups: [1003, 2000]))  // supplementary group listed
        #expect(!policy.allows(uid: 1004, gid: 1004, groups: [1004, 27]))
    }

    @Test func theRefusalNamesTheUserAndTheKeyToChange() {
        let m = policy.refusal(uid: 1004, userName: "carol")
        #expect(m.contains("user `carol` (uid 1004) may not submit command workloads"))
        #expect(m.contains("/etc/tuned/tuned.toml: [command_workloads] allow_users = [\"carol\"]"))
        #expect(m.contains("allow_groups"))
        #expect(policy.check(nil) != nil)  // unknown peer: refused
        #expect(policy.check(PeerCredentials(uid: 0, gid: 0, pid: 1)) == nil)
    }
}
