import Foundation
import TunedRPC
import Testing

/// Ask/tell through the real daemon: a sync PBT task whose segments a loop of this test runs
/// (`[workload] kind = "external"`, `study.ask/report/tell`) ends exactly as the same task run
/// by the workers with an equivalent command program; a segment asked and never told expires
/// and is asked again; the protocol's refusals.
extension DaemonEndToEndTests {
    /// The training both sides run: w ← w − lr·2(w − 3) per step from w = 0, val_loss = (w−3)² + c·0.01,
    /// where c is the program's own integer key `offset`. State: {"w", "step"} in state.json.
    static let quadraticProgram = """
        import json, os
        cfg = json.loads(os.environ["TUNED_CONFIG"])
        start, end = int(os.environ["TUNED_START_STEP"]), int(os.environ["TUNED_END_STEP"])
        restore = os.environ["TUNED_RESTORE_DIR"]
        w = 0.0
        if restore:
            with open(os.path.join(restore, "state.json")) as f:
                w = json.load(f)["w"]
        for step in range(start + 1, end + 1):
            w -= cfg["lr"] * 2 * (w - 3)
            print(f"tuned: step={step} val_loss={(w - 3) ** 2 + cfg['offset'] * 0.01!r}", flush=True)
        with open(os.path.join(os.environ["TUNED_CHECKPOINT_DIR"], "state.json"), "w") as f:
            json.dump({"w": w, "step": end}, f)
        """

    func quadraticTask(kind: String, script: String) -> String {
        """
        name = "ask-tell-\(kind)"
        [workload]
        kind = "\(kind)"
        \(kind == "command" ? "command = [\"python3\", \"\(script)\"]" : "")
        [search]
        lr = { log_uniform = [1e-3, 3e-1] }
        offset = { int_uniform = [1, 5] }
        [strategy]
        kind = "pbt"
        population = 4
        interval = 25
        quantile = 0.25
        synchronous = true
        mutate = ["lr"]
        [budget]
        steps = 100
        seed = 5
        [objective]
        metric = "val_loss"
        mode = "min"
        """
    }

    /// Runs every segment of external task `id` in this process, as a user's loop would.
    /// `abandonFirst`: ask the first segment with a 1 s lease and never tell it.
    func runLoop(_ c: RPCClient, task id: Int64, abandonFirst: Bool = false) throws -> (segments: Int, reasked: Bool) {
        var segments = 0, abandoned: Int64?, reasked = false
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let leaseFor: Double? = abandonFirst && abandoned == nil ? 1 : nil
            let r = try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: id, clientID: "loop", waitSeconds: 5, leaseSeconds: leaseFor))
            if r.finished { return (segments, reasked) }
            guard let s = r.segment else { continue }
            if abandonFirst, abandoned == nil {
                abandoned = s.segmentID  // a loop killed mid-segment: never told
                continue
            }
            if s.segmentID == abandoned { reasked = true }
            guard case .object(let cfg) = s.config, let lr = cfg["lr"]?.doubleValue, let offset = cfg["offset"], case .int(let off) = offset
            else { throw RPCClientError.protocolViolation("config \(s.config.jsonText): lr must be a number, offset an integer") }
            var w = 0.0
            if let dir = s.restoreCheckpoint {  // the state as IEEE bits (this loop's own format)
                let text = try String(contentsOfFile: dir + "/state.bits", encoding: .utf8)
                w = Double(bitPattern: UInt64(text)!)
            }
            var metrics: [MetricPoint] = []
            for step in (s.startStep + 1)...s.endStep {
                w -= lr * 2 * (w - 3)
                metrics.append(MetricPoint(step: step, name: "val_loss", value: (w - 3) * (w - 3) + Double(off) * 0.01))
            }
            _ = try c.call(RPCMethods.StudyReport.self, StudyReportParams(taskID: id, segmentID: s.segmentID, clientID: "loop", metrics: metrics))
            try String(w.bitPattern).write(toFile: s.checkpointDir + "/state.bits", atomically: true, encoding: .utf8)
            let told = try c.call(RPCMethods.StudyTell.self, StudyTellParams(taskID: id, segmentID: s.segmentID, clientID: "loop", status: .ok, checkpoint: s.checkpointDir))
            #expect(told.committed && told.status == .ok, "\(told)")
            segments += 1
        }
        Issue.record("the external task did not finish within 90 s")
        return (segments, reasked)
    }

    func comparable(_ r: TaskResults) -> [String] {
        r.trials.sorted { $0.member < $1.member }.map {
            "\($0.member) \($0.status) \($0.stepsDone) \($0.config.jsonText) \($0.finalMetrics["val_loss"].map { String($0.bitPattern) } ?? "-")"
        } + ["best \(r.best?.value.bitPattern ?? 0) \(r.bestConfig?.jsonText ?? "-")"]
    }

    @Test(.timeLimit(.minutes(3))) func anExternalLoopRunsPBTExactlyAsTheWorkersDo() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let script = d.dir.appendingPathComponent("quadratic.py")
        try Self.quadraticProgram.write(to: script, atomically: true, encoding: .utf8)
        let c = try RPCClient(socketPath: d.socket)

        let byWorkers = try submit(c, quadraticTask(kind: "command", script: script.path))
        #expect(try waitFinished(c, byWorkers).status == .completed)
        let reference = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: byWorkers))

        let external = try submit(c, quadraticTask(kind: "external", script: ""))
        let loop = try RPCClient(socketPath: d.socket, timeout: .seconds(60))
        let run = try runLoop(loop, task: external, abandonFirst: true)
        #expect(run.reasked, "the abandoned segment was asked again after its lease expired")
        #expect(run.segments == 16, "4 members × 4 intervals")
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: external))
        #expect(results.status == .completed)
        #expect(comparable(results) == comparable(reference), "\n\(comparable(results))\nvs\n\(comparable(reference))")
        let lineage = try c.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: external))
        #expect(!lineage.edges.isEmpty, "PBT exploited through ask/tell")

        // The workers never lease an external task's segments; ask/tell is only for external tasks.
        do {
            _ = try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: byWorkers))
            Issue.record("study.ask on a workers' task was accepted")
        } catch {
            #expect(error.remoteError?.knownCode == .invalidParams, "\(error)")
        }
        // A finished study answers finished; an unknown task is an error naming it.
        #expect(try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: external)).finished)
        #expect(throws: RPCClientError.self) { try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: 999)) }
        #expect(throws: RPCClientError.self) { try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: external, clientID: "no spaces allowed")) }
    }

    /// A loop that tells `ok` after reporting a NaN loss gets `diverged`, as a worker would.
    @Test(.timeLimit(.minutes(2))) func aNaNLossToldOkIsDiverged() throws {
        let d = try startDaemon(workers: 0)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let text = quadraticTask(kind: "external", script: "").replacingOccurrences(of: "kind = \"pbt\"", with: "kind = \"random\"\ntrials = 1")
            .replacingOccurrences(of: "population = 4\ninterval = 25\nquantile = 0.25\nsynchronous = true\nmutate = [\"lr\"]\n", with: "")
        let id = try submit(c, text)
        let s = try #require(try c.call(RPCMethods.StudyAsk.self, StudyAskParams(taskID: id, waitSeconds: 5)).segment)
        _ = try c.call(RPCMethods.StudyReport.self, StudyReportParams(taskID: id, segmentID: s.segmentID, metrics: [MetricPoint(step: 1, name: "val_loss", value: .nan)]))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: s.checkpointDir + "/state.json"))
        let told = try c.call(RPCMethods.StudyTell.self, StudyTellParams(taskID: id, segmentID: s.segmentID, status: .ok, checkpoint: s.checkpointDir))
        #expect(told.status == .diverged)
        #expect(try waitFinished(c, id).status == .failed)
    }
}
