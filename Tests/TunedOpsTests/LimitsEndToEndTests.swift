import Foundation
import Testing
import TunedRPC
#if canImport(Glibc)
import Glibc
#endif

/// The real daemon with a configuration file: per-segment limits reach the workers, a
/// segment over a limit is recorded with the limit's name and the task still finishes; the
/// command-workload allow-list refuses another user until the file lists them.
@Suite(.serialized) struct LimitsEndToEndTests {
    @Test func segmentsOverTheirLimitsAreRecordedAndTheTaskFinishes() throws {
        let dir = Ops.scratch("limits")
        try WorkerLimitTests.behaviour.write(to: dir.appendingPathComponent("b.py"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("tuned.toml")
        // The wall limit is far above the CPU limit: on a loaded machine the CPU-bound trial
        // must reach 1 s of CPU before 20 s of wall time pass, whatever else runs.
        try """
            [limits]
            segment_memory_mb = 128
            segment_cpu_seconds = 1
            segment_wall_seconds = 20
            """.write(to: config, atomically: true, encoding: .utf8)
        let d = try Ops.Daemon.start(workers: 2, args: ["--config", config.path], in: dir)
        defer { d.stop() }
        // A grid of four trials; the program reads its behaviour from lr: 1 ok, 2 alloc, 3 burn, 4 sleep.
        let task = """
            name = "limits"
            [workload]
            kind = "command"
            command = ["python3", "b.py"]
            [search]
            optimizer = "sgd"
            lr = { choice = [1, 2, 3, 4] }
            [strategy]
            kind = "grid"
            max_retries = 0
            [budget]
            steps = 10
            seed = 1
            [objective]
            metric = "val_loss"
            mode = "min"
            """
        let c = try d.client()
        let id = try c.call(RPCMethods.TaskSubmit.self, TaskSubmitParams(text: task, format: .toml, filename: "limits.toml", baseDir: dir.path)).taskID
        let detail = try d.waitFinished(c, id, timeout: 90)
        #expect(detail.status == .completed, "\(detail)")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        let byLR = Dictionary(uniqueKeysWithValues: results.trials.map { (Int($0.config["lr"]?.doubleValue ?? 0), $0) })
        #expect(byLR[1]?.status == .completed)
        for k in [2, 3, 4] { #expect(byLR[k]?.status == .failed, "lr \(k): \(String(describing: byLR[k]))") }

        let q = try Ops.run("/usr/bin/sqlite3", [
            "-readonly", d.store,
            "SELECT t.config_json, s.error FROM segments s JOIN trials t ON t.id = s.trial_id WHERE t.task_id = \(id) AND s.error IS NOT NULL ORDER BY t.member",
        ])
        #expect(q.status == 0, "\(q.stderr)")
        let errors = q.stdout
        #expect(errors.contains("exceeded the memory limit of 128 MiB per segment"), "\(errors)")
        #expect(errors.contains("exceeded the CPU-time limit of 1 s per segment"), "\(errors)")
        #expect(errors.contains("wall-clock limit of 20 s per segment"), "\(errors)")
        #expect(errors.split(separator: "\n").count == 3, "\(errors)")
    }

    /// The file's settings reach the daemon; a flag wins over the file.
    @Test func configurationFileSettingsApplyAndFlagsWin() throws {
        let dir = Ops.scratch("conf")
        let config = dir.appendingPathComponent("tuned.toml")
        try """
            socket = "/nonexistent/overridden-by-the-flag.sock"
            socket_mode = "640"
            workers = 5
            lease_seconds = 7
            [limits]
            max_request_bytes = 4096
            """.write(to: config, atomically: true, encoding: .utf8)
        let d = try Ops.Daemon.start(workers: 0, args: ["--config", config.path], in: dir)
        defer { d.stop() }
        let c = try d.client()
        let status = try c.call(RPCMethods.DaemonStatusMethod.self)
        #expect(status.socket == d.socket)  // --socket beat the file
        #expect(status.workers.configured == 0)  // --workers beat the file
        var st = stat()
        #expect(stat(d.socket, &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try c.call(RPCMethods.WorkerHello.self, WorkerHelloParams(workerID: "probe", pid: 1, secret: Ops.Daemon.workerSecret)).leaseSeconds == 7)
        do {
            _ = try c.call(RPCMethods.TaskSubmit.self, TaskSubmitParams(text: String(repeating: "#", count: 5000), format: .toml))
            Issue.record("a 5000-byte line passed a 4096-byte limit")
        } catch {
            #expect(error.remoteError?.knownCode == .requestTooLarge, "\(error)")
            #expect(error.message.contains("4096"), "\(error)")
        }
    }

    /// uid 65534 may use the socket (its gid is the socket's group) but not submit a command
    /// workload — until `[command_workloads] allow_users` names it; a built-in task is fine.
    @Test func commandWorkloadsNeedTheAllowList() throws {
        func submitAsNobody(_ d: Ops.Daemon, kind: String) throws -> String {
            let workload = kind == "command" ? "kind = \"command\"\ncommand = [\"true\"]" : "kind = \"rosenbrock\""
            let text = """
                name = "x"
                [workload]
                \(workload)
                [search]
                optimizer = "sgd"
                lr = 0.001
                [strategy]
                kind = "random"
                trials = 1
                [budget]
                steps = 10
                seed = 1
                [objective]
                metric = "val_loss"
                mode = "min"
                """
            let request: [String: Any] = [
                "jsonrpc": "2.0", "id": 1, "method": "task.submit",
                "params": ["text": text, "format": "toml", "filename": "x.toml", "base_dir": "/tmp"],
            ]
            let line = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
            let py = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX)
                s.connect(sys.argv[1])
                s.sendall(sys.argv[2].encode() + b"\\n")
                data = b""
                while not data.endswith(b"\\n"):
                    b = s.recv(65536)
                    if not b: break
                    data += b
                sys.stdout.write(data.decode())
                """
            let r = try Ops.run("/usr/bin/setpriv", [
                "--reuid", "65534", "--regid", "0", "--clear-groups", "/usr/bin/python3", "-c", py, d.socket, line,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }
        for allowed in [false, true] {
            let dir = Ops.scratch("allow")
            chmod(dir.path, 0o755)
            let config = dir.appendingPathComponent("tuned.toml")
            try (allowed ? "[command_workloads]\nallow_users = [\"nobody\"]\n" : "").write(to: config, atomically: true, encoding: .utf8)
            let d = try Ops.Daemon.start(workers: 0, args: ["--config", config.path, "--socket-mode", "666"], in: dir)
            defer { d.stop() }
            let reply = try submitAsNobody(d, kind: "command")
            if allowed {
                #expect(reply.contains("\"task_id\""), "\(reply)")
            } else {
                #expect(reply.contains("-32002"), "\(reply)")
                #expect(reply.contains("user `nobody` (uid 65534) may not submit command workloads"), "\(reply)")
                #expect(reply.contains("allow_users = [\\\"nobody\\\"]"), "\(reply)")
                #expect(reply.contains(config.path), "\(reply)")
            }
            #expect(try submitAsNobody(d, kind: "builtin").contains("\"task_id\""))
        }
    }
}
