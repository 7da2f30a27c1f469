import Foundation
import Testing
import TunedDaemon

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
