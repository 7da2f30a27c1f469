import Foundation
import TunedRPC
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: a seeded generator, so that a failing fuzz line can be reproduced.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One generated protocol line and what its single reply must be.
struct FuzzLine {
    enum Expect { case error, result, either }
    var kind: String
    var bytes: [UInt8]
    var expect: Expect
    /// The id the reply must carry when it is a result (errors may carry it or null).
    var id: Int?
}

enum ProtocolFuzzer {
    static func request(_ id: Int, _ method: String, _ params: String? = nil) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\"" + (params.map { ",\"params\":\($0)" } ?? "") + "}"
    }

    static let validRequests: [(String, String?)] = [
        ("daemon.status", nil), ("task.list", "{}"), ("task.list", nil), ("daemon.status", "{}"),
    ]

    static func line(_ n: Int, _ rng: inout SeededRNG) -> FuzzLine {
        let id = n + 1
        func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
        switch Int.random(in: 0..<9, using: &rng) {
        case 0:  // random bytes (never a newline), starting with a non-blank byte
            let count = Int.random(in: 0...300, using: &rng)
            var b: [UInt8] = [ascii("x#!{[\"\u{7F}").randomElement(using: &rng)!]
            for _ in 0..<count {
                var x = UInt8.random(in: 0...255, using: &rng)
                if x == 0x0A { x = 0x0B }
                b.append(x)
            }
            return FuzzLine(kind: "random bytes", bytes: b, expect: .error, id: nil)
        case 1:  // a valid request cut short
            let (m, p) = validRequests.randomElement(using: &rng)!
            let full = ascii(request(id, m, p))
            let cut = Int.random(in: 1..<(full.count - 1), using: &rng)
            return FuzzLine(kind: "truncated", bytes: Array(full[..<cut]), expect: .error, id: nil)
        case 2:  // wrong types and shapes
            let forms = [
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":123}",
                "{\"jsonrpc\":2,\"id\":\(id),\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"1.0\",\"id\":\(id),\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":\"7\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":\"seven\"}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":1.5}}",
                "{\"jsonrpc\":\"2.0\",\"id\":[\(id)],\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":null}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id)}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"daemon.status\",\"extra\":1}",
                "[{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"daemon.status\"}]",
                "[]", "{}", "\"just a string\"", "42", "null", "true",
            ]
            return FuzzLine(kind: "wrong types", bytes: ascii(forms.randomElement(using: &rng)!), expect: .error, id: nil)
        case 3:  // nesting beyond the limit (64)
            let depth = Int.random(in: 65...5000, using: &rng)
            let text: String
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            case 1: text = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
            default:
                text = "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"daemon.status\",\"params\":{\"x\":"
                    + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
            }
            return FuzzLine(kind: "deep nesting", bytes: ascii(text), expect: .error, id: nil)
        case 4:  // huge numbers
            let digits = String((0..<Int.random(in: 20...400, using: &rng)).map { _ in "0123456789".randomElement(using: &rng)! })
            let forms = [
                "{\"jsonrpc\":\"2.0\",\"id\":1\(digits),\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"daemon.status\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":1\(digits)}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":1e309}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":-1\(digits)}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.get\",\"params\":{\"task_id\":9223372036854775807}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"task.results\",\"params\":{\"task_id\":-9223372036854775808}}",
            ]
            return FuzzLine(kind: "huge numbers", bytes: ascii(forms.randomElement(using: &rng)!), expect: .error, id: nil)
        case 5:  // unknown methods
            let name = "x." + String((0..<Int.random(in: 1...40, using: &rng)).map { _ in "abcdefghijklmnopqrstuvwxyz._-/".randomElement(using: &rng)! })
            return FuzzLine(kind: "unknown method", bytes: ascii(request(id, name, "{}")), expect: .error, id: nil)
        case 6:  // known methods, bad params
            let forms: [(String, String?)] = [
                ("task.get", "{}"), ("task.get", nil), ("task.get", "{\"task_id\":424242}"), ("task.get", "{\"task_id\":-3}"),
                ("task.results", "{\"task_id\":424242}"), ("trial.list", "{\"task_id\":\"a\"}"), ("trial.list", "{}"),
                ("task.cancel", "{\"task_id\":424242}"), ("task.cancel", "[]"),
                ("task.submit", "{\"text\":\"name = \",\"format\":\"toml\"}"),
                ("task.submit", "{\"text\":\"{}\",\"format\":\"yaml\"}"),
                ("task.submit", "{\"text\":\"{\\\"name\\\": 3}\",\"format\":\"json\",\"filename\":\"f.json\"}"),
                ("task.submit", "{\"format\":\"toml\"}"), ("worker.finish", "{}"), ("worker.report", "{\"metrics\":7}"),
            ]
            let (m, p) = forms.randomElement(using: &rng)!
            return FuzzLine(kind: "bad params", bytes: ascii(request(id, m, p)), expect: .error, id: nil)
        case 7:  // a valid request with one byte flipped, inserted or deleted: one reply, either kind
            let (m, p) = validRequests.randomElement(using: &rng)!
            var b = ascii(request(id, m, p))
            let at = Int.random(in: 0..<b.count, using: &rng)
            var x = UInt8.random(in: 0...255, using: &rng)
            if x == 0x0A { x = 0x20 }
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: b[at] = x
            case 1: b.insert(x, at: at)
            default: b.remove(at: at)
            }
            if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { b = ascii("x") }
            return FuzzLine(kind: "mutated", bytes: b, expect: .either, id: nil)
        default:  // valid requests
            let (m, p) = validRequests.randomElement(using: &rng)!
            return FuzzLine(kind: "valid", bytes: ascii(request(id, m, p)), expect: .result, id: id)
        }
    }
}

extension DaemonEndToEndTests {
    /// 1,000 seeded malformed or mutated lines over 4 connections: each gets exactly one
    /// JSON-RPC reply (an error, or a result for the valid ones); the daemon keeps serving.
    @Test func fuzzedProtocolLinesEachGetOneReply() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        var rng = SeededRNG(seed: 0x7E_2026)
        let conns = try (0..<4).map { _ in try RawConnection(path: d.socket) }
        var kinds: [String: Int] = [:]
        var failures = 0
        for n in 0..<1000 {
            let line = ProtocolFuzzer.line(n, &rng)
            kinds[line.kind, default: 0] += 1
            let c = conns[n % conns.count]
            c.sendBytes(line.bytes + [0x0A])
            guard let reply = c.readLine() else {
                Issue.record("line \(n) (\(line.kind)): no reply; sent \(String(decoding: line.bytes.prefix(200), as: UTF8.self))")
                failures += 1
                break
            }
            let obj = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any]
            let ok: Bool
            if let obj, obj["jsonrpc"] as? String == "2.0" {
                let err = obj["error"] as? [String: Any]
                let code = err?["code"] as? Int
                let isError = err != nil && code != nil && (-32768 ... -32000).contains(code!) && err?["message"] is String
                let isResult = obj["result"] != nil && err == nil
                switch line.expect {
                case .error: ok = isError
                case .result: ok = isResult && obj["id"] as? Int == line.id
                case .either: ok = isError || isResult
                }
            } else {
                ok = false
            }
            if !ok {
                failures += 1
                Issue.record("line \(n) (\(line.kind)): unexpected reply \(reply.prefix(300)) to \(String(decoding: line.bytes.prefix(200), as: UTF8.self))")
                if failures > 10 { break }
            }
        }
        // Exactly one reply per line: the next reply on every connection answers a fresh request.
        for (i, c) in conns.enumerated() {
            c.send("{\"jsonrpc\":\"2.0\",\"id\":\(900_000 + i),\"method\":\"daemon.status\"}\n")
            let sync = try #require(c.readLine())
            #expect(sync.contains("\"id\":\(900_000 + i)") && sync.contains("\"result\""), "connection \(i): \(sync.prefix(300))")
        }
        #expect(d.process.isRunning)
        let status = try RPCClient(socketPath: d.socket).call(RPCMethods.DaemonStatusMethod.self)
        #expect(status.pid == d.process.processIdentifier)
        #expect(status.tasks.values.reduce(0, +) == 0, "no fuzz line created a task: \(status.tasks)")
        print("e2e fuzz: 1000 lines \(kinds.sorted { $0.key < $1.key }) in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// The engine's 20 broken task files through `task.submit`: a validation error naming
    /// file and line for each, and the daemon still serves.
    @Test func brokenTaskFilesAreRejectedWithFileAndLine() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let dir = Self.repositoryRoot.appendingPathComponent("Tests/TunedEngineTests/Fixtures/broken")
        // The line of each file's first located problem (Tests/TunedEngineTests/BrokenTaskFileTests).
        let lines: [String: Int] = [
            "01_missing_equals.toml": 1, "02_unclosed_string.toml": 4, "03_duplicate_key.toml": 9,
            "04_duplicate_table.toml": 17, "05_date_value.toml": 16, "06_unknown_table.toml": 6,
            "07_unknown_key.toml": 8, "08_wrong_type.json": 9, "09_unknown_workload_kind.toml": 4,
            "10_missing_dataset.toml": 5, "11_unknown_optimizer.toml": 7, "12_negative_budget.toml": 15,
            "13_inverted_range.toml": 8, "14_log_uniform_zero.toml": 8, "15_empty_choice.toml": 8,
            "16_pbt_settings.toml": 12, "17_asha_settings.toml": 13, "18_batch_sweep.toml": 10,
            "19_hypergradient.toml": 13, "20_conditional_key.toml": 8,
        ]
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files.count == 20)
        #expect(Set(files) == Set(lines.keys))
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            let params = TaskSubmitParams(
                text: text, format: file.hasSuffix(".json") ? .json : .toml, filename: file, baseDir: dir.path)
            do {
                let r = try c.call(RPCMethods.TaskSubmit.self, params)
                Issue.record("\(file) was accepted as task \(r.taskID)")
            } catch {
                let remote = error.remoteError
                #expect(remote?.knownCode == .validationFailed, "\(file): \(error)")
                let line = lines[file] ?? -1
                #expect(remote?.message.hasPrefix("\(file):\(line):") == true, "\(file): \(remote?.message ?? "\(error)")")
                #expect(remote?.data?["line"]?.int64Value == Int64(line), "\(file): \(String(describing: remote?.data))")
                #expect(remote?.data?["file"] == .string(file), "\(file): \(String(describing: remote?.data))")
            }
        }
        let status = try c.call(RPCMethods.DaemonStatusMethod.self)
        #expect(status.tasks.values.reduce(0, +) == 0)
        #expect(d.process.isRunning)
        print("e2e 20 broken task files: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// A command workload (a Python script following docs/COMMAND_WORKLOADS.md) end to end:
    /// random search, 2 trials × 200 steps in segments of 100; both complete with val_loss and
    /// a metric row at every step 1…200 (the second segment resumed from the first's checkpoint).
    @Test func commandWorkloadTaskEndToEnd() throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let script = d.dir.appendingPathComponent("train.py")
        try """
            import json, os, sys
            config = json.loads(os.environ["TUNED_CONFIG"])
            lr = config["lr"]
            start, end = int(os.environ["TUNED_START_STEP"]), int(os.environ["TUNED_END_STEP"])
            restore = os.environ["TUNED_RESTORE_DIR"]
            w = 0.0
            if restore:
                with open(os.path.join(restore, "state.json")) as f:
                    state = json.load(f)
                if state["step"] != start:
                    sys.exit("checkpoint at step %d, asked to start at %d" % (state["step"], start))
                w = state["w"]
            elif start != 0:
                sys.exit("no checkpoint to resume step %d from" % start)
            for step in range(start + 1, end + 1):
                w -= lr * 2 * (w - 3)
                print(f"tuned: step={step} val_loss={(w - 3) ** 2 + 0.01!r}", flush=True)
            tmp = os.path.join(os.environ["TUNED_CHECKPOINT_DIR"], "state.json.tmp")
            with open(tmp, "w") as f:
                json.dump({"w": w, "step": end}, f)
            os.rename(tmp, os.path.join(os.environ["TUNED_CHECKPOINT_DIR"], "state.json"))
            """.write(to: script, atomically: true, encoding: .utf8)
        let task = """
            name = "e2e-command"

            [workload]
            kind = "command"
            command = ["python3", "\(script.path)"]

            [search]
            optimizer = ["sgd"]
            lr = { log_uniform = [1e-3, 1e-1] }

            [strategy]
            kind = "random"
            trials = 2

            [budget]
            steps = 200
            segment_steps = 100
            seed = 3

            [objective]
            metric = "val_loss"
            mode = "min"
            """
        let c = try RPCClient(socketPath: d.socket)
        let id = try c.call(
            RPCMethods.TaskSubmit.self,
            TaskSubmitParams(text: task, format: .toml, filename: "command.toml", baseDir: d.dir.path)).taskID
        let detail = try waitFinished(c, id)
        #expect(detail.status == .completed, "\(detail)")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(results.trials.count == 2)
        for t in results.trials {
            #expect(t.status == .completed, "\(t)")
            #expect(t.stepsDone == 200, "\(t)")
            #expect(t.finalMetrics["val_loss"] != nil, "\(t)")
        }
        #expect(results.best != nil)

        // Metric rows straight from the store: val_loss at each step 1…200 exactly once per trial.
        let q = try run("/usr/bin/sqlite3", [
            "-readonly", d.store,
            "SELECT m.trial_id, COUNT(*), COUNT(DISTINCT m.step), MIN(m.step), MAX(m.step) FROM metrics m "
                + "JOIN trials t ON t.id = m.trial_id WHERE t.task_id = \(id) AND m.name = 'val_loss' "
                + "GROUP BY m.trial_id ORDER BY m.trial_id",
        ])
        #expect(q.status == 0, "\(q.stderr)")
        let rows = q.stdout.split(separator: "\n").map { $0.split(separator: "|").dropFirst().map(String.init) }
        #expect(rows.count == 2, "\(q.stdout)")
        for r in rows { #expect(r == ["200", "200", "1", "200"], "\(q.stdout)") }
        print("e2e command workload: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }
}

extension RawConnection {
    func sendBytes(_ b: [UInt8]) {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }
}
