import Foundation
import TunedRPC
import Testing

/// Issue 12, items 1–3 through the real daemon: a program with hyperparameters of its own (an
/// integer `width` that shapes its model and a float `scale`) and an objective of its own
/// (`score`, maximised), under random search, ASHA and synchronous PBT.
extension DaemonEndToEndTests {
    /// The program: numpy when it is importable, plain Python otherwise (same arithmetic).
    /// It refuses a `width` that is not a JSON integer, and a checkpoint whose width differs
    /// from TUNED_CONFIG's (a PBT exploit that did not copy the shaping key with the weights),
    /// and appends what it received to $OWN_LOG.
    static let ownProgram = """
        import json, os, random, sys
        try:
            import numpy as np
        except ImportError:
            np = None
        raw = os.environ["TUNED_CONFIG"]
        cfg = json.loads(raw)
        width, scale, lr, fade = cfg["width"], cfg["scale"], cfg["lr"], cfg.get("fade", 0)
        gate = os.environ.get("OWN_GATE", "")
        start, end = int(os.environ["TUNED_START_STEP"]), int(os.environ["TUNED_END_STEP"])
        restore, ckpt = os.environ["TUNED_RESTORE_DIR"], os.environ["TUNED_CHECKPOINT_DIR"]
        entry = {"trial": int(os.environ["TUNED_TRIAL"]), "start": start, "raw": raw,
                 "width_type": type(width).__name__, "scale_type": type(scale).__name__,
                 "gain_type": type(cfg.get("gain", 0.5)).__name__, "numpy": np is not None}
        if type(width) is not int:
            sys.exit("width must be an integer, got %r" % (width,))
        target = [((i * 37) % 11) / 10.0 for i in range(width)]
        rng = random.Random(int(os.environ["TUNED_SEED"]))
        w = [0.0] * width
        if restore:
            with open(os.path.join(restore, "state.json")) as f:
                state = json.load(f)
            entry["checkpoint_width"] = len(state["w"])
            if len(state["w"]) != width:
                sys.exit("the checkpoint's model has width %d, TUNED_CONFIG says %d" % (len(state["w"]), width))
            if state["step"] != start:
                sys.exit("checkpoint at step %d, asked to start at %d" % (state["step"], start))
            w = state["w"]
            rng.setstate((state["rng"][0], tuple(state["rng"][1]), state["rng"][2]))
        with open(os.environ["OWN_LOG"], "a") as f:
            f.write(json.dumps(entry) + "\\n")
        for step in range(start + 1, end + 1):
            noise = rng.gauss(0.0, 0.01)
            if np is not None:
                wa, ta = np.asarray(w, dtype=np.float64), np.asarray(target)
                wa = wa - lr * scale * 2 * (wa - ta) + noise
                w, loss = wa.tolist(), float(np.mean((wa - ta) ** 2))
            else:
                w = [x - lr * scale * 2 * (x - t) + noise for x, t in zip(w, target)]
                loss = sum((x - t) ** 2 for x, t in zip(w, target)) / width
            if step % 5 == 0 or step == end:
                score = 1.0 / (1.0 + loss) + 0.001 * width - fade * step
                print(f"tuned: step={step} score={score!r} train_loss={loss!r}", flush=True)
                if gate and step == 5:  # wait until the test has seen this value in task.get
                    import time
                    deadline = time.time() + 30
                    while not os.path.exists(gate) and time.time() < deadline:
                        time.sleep(0.01)
        tmp = os.path.join(ckpt, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"w": w, "step": end, "rng": rng.getstate()}, f)
        os.replace(tmp, os.path.join(ckpt, "state.json"))
        """

    func ownProgramTask(
        _ d: Daemon, name: String, strategy: String, search: String = "", objective: String = "", env: String = ""
    ) throws -> (task: String, log: URL) {
        let script = d.dir.appendingPathComponent("own.py")
        try Self.ownProgram.write(to: script, atomically: true, encoding: .utf8)
        let log = d.dir.appendingPathComponent("\(name).jsonl")
        let task = """
            name = "\(name)"

            [workload]
            kind = "command"
            command = ["python3", "\(script.path)"]
            env = { OWN_LOG = "\(log.path)"\(env) }

            [search]
            lr = { log_uniform = [0.01, 0.2] }
            width = { int_uniform = [4, 32] }
            scale = { uniform = [0.5, 2.0] }
            \(search)

            [strategy]
            \(strategy)

            [budget]
            steps = 40
            segment_steps = 20
            seed = 5

            [objective]
            metric = "score"
            mode = "max"
            \(objective)
            """
        return (task, log)
    }

    /// What the program logged, one object per segment it ran.
    func ownLog(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    /// Submits, waits, and checks what every strategy must give: the program got `width` as a
    /// JSON integer (`"width":17`, never `17.0`) in every segment; the results name `score`,
    /// maximise it, and rank by it (the final value, `select` = final) best first; the task's
    /// best is the first row.
    func runOwnProgram(_ d: Daemon, name: String, strategy: String, search: String = "") throws -> (Int64, TaskResults, [[String: Any]]) {
        let (task, log) = try ownProgramTask(d, name: name, strategy: strategy, search: search)
        let c = try RPCClient(socketPath: d.socket)
        let submitted = try c.call(
            RPCMethods.TaskSubmit.self, TaskSubmitParams(text: task, format: .toml, filename: "own.toml", baseDir: d.dir.path))
        #expect(submitted.warnings.isEmpty, "\(submitted.warnings)")
        let detail = try waitFinished(c, submitted.taskID, timeout: 50)
        #expect(detail.status == .completed, "\(detail)")
        #expect(detail.objective.metric == "score" && detail.objective.mode == .max && detail.objective.select == .final)
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: submitted.taskID))
        #expect(results.objective.metric == "score" && results.objective.mode == .max)
        let values = results.trials.compactMap(\.objectiveValue)
        #expect(!values.isEmpty)
        #expect(values == values.sorted(by: >), "ranked best (largest score) first: \(values)")
        for t in results.trials where t.status == .completed {
            #expect(t.objectiveValue == t.finalMetrics["score"], "\(t)")
        }
        #expect(results.best?.value == values.first, "\(String(describing: results.best)) vs \(values)")
        #expect(results.best?.trialID == results.trials.first?.trialID)
        let entries = try ownLog(log)
        #expect(!entries.isEmpty)
        for e in entries {
            #expect(e["width_type"] as? String == "int", "\(e)")
            // A float key stays a float even when whole (scale clipped to 2.0, gain = 1.0).
            #expect(e["scale_type"] as? String == "float" && e["gain_type"] as? String == "float", "\(e)")
            let raw = e["raw"] as? String ?? ""
            #expect(raw.range(of: #""width":[0-9]+[,}]"#, options: .regularExpression) != nil, "\(raw)")
        }
        return (submitted.taskID, results, entries)
    }

    @Test(.timeLimit(.minutes(1))) func ownProgramUnderRandomSearch() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let (_, results, entries) = try runOwnProgram(
            d, name: "own-random", strategy: "kind = \"random\"\ntrials = 3", search: "gain = 1.0\nwords = { choice = [\"a\", \"b\"] }")
        for e in entries {
            let raw = e["raw"] as? String ?? ""
            #expect(raw.contains("\"gain\":1.0") && (raw.contains("\"words\":\"a\"") || raw.contains("\"words\":\"b\"")), "\(raw)")
        }
        #expect(results.trials.count == 3 && results.trials.allSatisfy { $0.status == .completed })
        #expect(entries.count == 6, "3 trials × 2 segments: \(entries.count)")

        // tunectl shows the objective's own column, ranked in its direction.
        let out = try run(Self.productsDirectory.appendingPathComponent("tunectl").path, ["--socket", d.socket, "results", "1"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("max score"), "\(out.stdout)")
        #expect(out.stdout.contains("SCORE"), "\(out.stdout)")
        #expect(!out.stdout.contains("VAL_LOSS"), "\(out.stdout)")
    }

    @Test(.timeLimit(.minutes(1))) func ownProgramUnderASHA() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let (_, results, _) = try runOwnProgram(
            d, name: "own-asha", strategy: "kind = \"asha\"\ntrials = 6\nreduction_factor = 2\ngrace_period = 10")
        #expect(results.trials.count == 6)
        #expect(results.trials.contains { $0.status == .completed })
        #expect(results.trials.contains { $0.status == .stopped }, "some trials pruned at the rungs: \(results.trials.map(\.status))")
    }

    /// Sync PBT with `mutate = ["lr", "scale"]`: explore perturbs the float, never the width;
    /// every exploit hands the recipient the donor's width together with the donor's checkpoint
    /// (the program refuses a checkpoint of another width, which would fail the segment).
    @Test(.timeLimit(.minutes(1))) func ownProgramUnderSyncPBTCopiesTheShapingKey() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let (id, results, entries) = try runOwnProgram(
            d, name: "own-pbt",
            strategy: "kind = \"pbt\"\npopulation = 4\ninterval = 10\nsynchronous = true\nmutate = [\"lr\", \"scale\"]\nperturbation_factors = [0.5, 3.0]")
        #expect(results.trials.allSatisfy { $0.status == .completed }, "\(results.trials.map(\.status))")
        let c = try RPCClient(socketPath: d.socket)
        let edges = try c.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: id)).edges
        #expect(edges.count == 3, "one exploit per barrier at steps 10, 20, 30: \(edges.count)")
        for e in edges {
            // `changes` is what explore did; `changed` also lists what the exploit copied.
            #expect(e.changes?["width"] == nil, "explore never touches width: \(String(describing: e.changes))")
            #expect({ if case .int? = e.configAfter["width"] { return true } else { return false } }(), "\(e.configAfter)")
        }
        #expect(edges.contains { $0.changes?["scale"] != nil }, "scale is mutated: \(edges.map(\.changes))")
        #expect(edges.allSatisfy { $0.changed.contains("width") || $0.configBefore["width"] == $0.configAfter["width"] })
        // The first exploit: members start with distinct widths (a Latin hypercube over 4…32),
        // so the recipient's width changes to the donor's.
        if let first = edges.min(by: { $0.step < $1.step }) {
            #expect(first.configBefore["width"] != first.configAfter["width"], "\(first)")
        }
        // Explore clipped scale to its upper end (factor 3.0; sync PBT is deterministic for the
        // seed): the program got 2.0, a float, not 2 (checked for every entry above).
        #expect(entries.contains { ($0["raw"] as? String ?? "").contains("\"scale\":2.0") }, "\(entries.map { $0["raw"] ?? "" })")
        // Every restore the program saw had the width of TUNED_CONFIG (it exits otherwise).
        let restores = entries.filter { $0["checkpoint_width"] != nil }
        #expect(!restores.isEmpty)
        for e in restores {
            let cfg = try JSONSerialization.jsonObject(with: Data((e["raw"] as! String).utf8)) as! [String: Any]
            #expect(e["checkpoint_width"] as? Int == cfg["width"] as? Int, "\(e)")
        }
    }

    /// `select = "best"`: a program whose score fades after its peak (`fade`). The results rank
    /// by each trial's best value and the task's best is the largest of them; a key one edit
    /// from `weight_decay` comes back as a warning, through RPC and on tunectl's stderr.
    @Test(.timeLimit(.minutes(1))) func ownProgramWithSelectBestAndAWarning() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let (task, _) = try ownProgramTask(
            d, name: "own-best", strategy: "kind = \"random\"\ntrials = 3",
            search: "fade = { uniform = [0.001, 0.02] }\nweight_decy = 0.01", objective: "select = \"best\"")
        let file = d.dir.appendingPathComponent("own-best.toml")
        try task.write(to: file, atomically: true, encoding: .utf8)
        let out = try run(Self.productsDirectory.appendingPathComponent("tunectl").path, ["--socket", d.socket, "submit", file.path, "--wait"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("warning: own-best.toml:13: [search] weight_decy: not a key tuned knows; it is passed to your program as is. Did you mean 'weight_decay'?"), "\(out.stderr)")
        #expect(out.stdout.hasPrefix("1\n"), "stdout stays the task id first: \(out.stdout)")
        let c = try RPCClient(socketPath: d.socket)
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: 1))
        #expect(results.objective.select == .best)
        #expect(results.trials.allSatisfy { $0.status == .completed })
        for t in results.trials {
            #expect(t.objectiveValue == t.bestMetric, "\(t)")
            #expect(t.objectiveValue! > t.finalMetrics["score"]!, "the score fades after its peak: \(t)")
        }
        let values = results.trials.compactMap(\.objectiveValue)
        #expect(values.count == 3 && values == values.sorted(by: >), "\(values)")
        #expect(results.best?.value == values.first && results.best?.trialID == results.trials.first?.trialID)
        let table = try run(Self.productsDirectory.appendingPathComponent("tunectl").path, ["--socket", d.socket, "trials", "1"])
        #expect(table.stdout.contains("BEST SCORE"), "\(table.stdout)")
    }

    /// `status`/`watch`'s objective column while a trial runs: the program reports score at
    /// step 5 and waits for a file that the test creates only once task.get shows that value.
    @Test(.timeLimit(.minutes(1))) func theObjectiveColumnIsFilledWhileTrialsRun() throws {
        let d = try startDaemon(workers: 1)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let gate = d.dir.appendingPathComponent("go")
        let (task, _) = try ownProgramTask(d, name: "own-live", strategy: "kind = \"random\"\ntrials = 1", env: ", OWN_GATE = \"\(gate.path)\"")
        let c = try RPCClient(socketPath: d.socket)
        let id = try c.call(
            RPCMethods.TaskSubmit.self, TaskSubmitParams(text: task, format: .toml, filename: "own.toml", baseDir: d.dir.path)).taskID
        var seen: Double?
        let deadline = Date().addingTimeInterval(40)
        while seen == nil, Date() < deadline {
            let detail = try c.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: id))
            seen = detail.members.first { $0.status == .running }?.lastMetric
            if seen == nil { usleep(50_000) }
        }
        #expect(seen != nil, "a running member's score appears in task.get before its segment ends")
        let status = try run(Self.productsDirectory.appendingPathComponent("tunectl").path, ["--socket", d.socket, "status", "\(id)"])
        #expect(status.stdout.contains("SCORE") && status.stdout.contains("objective: max score (final)"), "\(status.stdout)")
        FileManager.default.createFile(atPath: gate.path, contents: nil)
        let detail = try waitFinished(c, id, timeout: 40)
        #expect(detail.status == .completed)
        #expect(detail.members.first?.lastMetric == detail.best?.value, "after the run: the committed final score")
    }
}
