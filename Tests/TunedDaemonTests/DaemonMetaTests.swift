import Foundation
import TunedRPC
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `recommend`, `policy.fit`, `policy.show` and `tunectl recommend` against a real daemon.
@Suite(.serialized) struct DaemonMetaTests {
    let e2e = DaemonEndToEndTests()

    static let features = """
        model_kind = "mlp"
        parameter_count = 2410
        depth = 2
        widest_layer = 64
        matrix_parameter_fraction = 0.98
        dataset_size = 1797
        input_size = 64
        output_size = 10
        task_type = "classification"
        batch_size = 64
        step_budget = 400
        """

    func recommend(_ c: RPCClient, _ text: String, file: String = "f.toml", top: Int = 1) throws -> RecommendResult {
        try c.call(RPCMethods.Recommend.self, RecommendParams(text: text, filename: file, topK: top))
    }

    func tinyTask(_ name: String, dimension: Int) -> String {
        """
        name = "\(name)"
        [workload]
        kind = "nqm"
        dimension = \(dimension)
        batch_size = 4
        [search]
        optimizer = ["sgd", "adamw"]
        lr = { log_uniform = [1e-3, 0.5] }
        [strategy]
        kind = "random"
        trials = 4
        [budget]
        steps = 40
        seed = 3
        [objective]
        metric = "val_loss"
        mode = "min"
        """
    }

    @Test func anEmptyHistoryAnswersFromTheShippedPolicyAndValidatesTheFile() throws {
        let d = try e2e.startDaemon(workers: 1)
        defer { _ = e2e.stop(d) }
        let c = try RPCClient(socketPath: d.socket)
        let r = try recommend(c, Self.features, top: 3)
        #expect(r.policy.hasPrefix("shipped:"))
        #expect(r.options.count == 3)
        let first = try #require(r.options.first)
        #expect(first.config.objectValue?["lr"]?.doubleValue.map { $0 > 0 } == true)
        #expect(first.config.objectValue?["batch_size"]?.doubleValue == 64)
        #expect(first.lossLow < first.predictedLoss && first.predictedLoss < first.lossHigh)
        #expect(!r.nearest.isEmpty)

        let two = try recommend(c, "parameter_count = 5000\ntask_type = \"classification\"\n")
        #expect(!two.options.isEmpty)
        #expect(two.confidence < r.confidence)
        #expect(two.missingFeatures.contains("depth"))

        #expect {
            try recommend(c, "model_kind = \"mlp\"\nparameter_cuont = 12\n", file: "bad.toml")
        } throws: { error in
            "\(error)".contains("bad.toml:2: parameter_cuont: unknown key; did you mean 'parameter_count'?")
        }
        #expect {
            try recommend(c, "dataset_size = -4\n", file: "neg.toml")
        } throws: { error in "\(error)".contains("neg.toml:1: dataset_size: must be an integer in [1, 10^15], got -4") }
        #expect {
            try recommend(c, "depth = \"deep\"\n", file: "type.toml")
        } throws: { error in "\(error)".contains("type.toml:1: depth:") }

        let shown = try c.call(RPCMethods.PolicyShow.self)
        #expect(shown.source == "shipped")
        #expect(shown.version == nil)
        #expect((shown.document.objectValue?["provenance"]?.objectValue?["tasks"]?.arrayValue?.count ?? 0) >= 24)
    }

    @Test func policyFitLearnsFromFinishedTasksAndBecomesTheActivePolicy() throws {
        let d = try e2e.startDaemon(workers: 2)
        defer { _ = e2e.stop(d) }
        let c = try RPCClient(socketPath: d.socket)
        #expect {
            try c.call(RPCMethods.PolicyFit.self, PolicyFitParams())
        } throws: { error in "\(error)".contains("at least 2 finished tasks") }
        let ids = try [20, 60].map { try e2e.submit(c, tinyTask("nqm\($0)", dimension: $0)) }
        for id in ids { #expect(try e2e.waitFinished(c, id).status == .completed) }
        let fit = try c.call(RPCMethods.PolicyFit.self, PolicyFitParams())
        #expect(fit.policyVersion == 1)
        #expect(fit.tasksUsed == 2)
        #expect(fit.metrics["trials"] == 8)
        let shown = try c.call(RPCMethods.PolicyShow.self)
        #expect(shown.source == "store" && shown.version == 1)
        let tasks = shown.document.objectValue?["provenance"]?.objectValue?["tasks"]?.arrayValue ?? []
        // The features recorded at submit are the workload's own: an NQM of 20 parameters.
        #expect(tasks.first?.objectValue?["features"]?.objectValue?["parameter_count"]?.doubleValue == 20)
        #expect(tasks.first?.objectValue?["features"]?.objectValue?["step_budget"]?.doubleValue == 40)
        let r = try recommend(c, "model_kind = \"nqm\"\nparameter_count = 40\nbatch_size = 4\n")
        #expect(r.policy == "store:1 store-1")
        #expect(["sgd", "adamw"].contains(r.options.first?.optimizer ?? ""))
    }

    /// A recommendation is usable as is: train it (no search) and land in the predicted band.
    @Test func theRecommendedConfigurationTrainsIntoThePredictedLossBand() throws {
        let d = try e2e.startDaemon(workers: 1)
        defer { _ = e2e.stop(d) }
        let c = try RPCClient(socketPath: d.socket)
        let r = try recommend(c, Self.features)
        let option = try #require(r.options.first)
        var search = ""
        for (key, value) in (option.config.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) where key != "batch_size" {
            search += key == "optimizer" ? "optimizer = [\(value.jsonText)]\n" : "\(key) = \(toml(value))\n"
        }
        let task = """
            name = "recommended"
            [workload]
            kind = "mlp"
            dataset = "datasets/digits.csv"
            target = "target"
            hidden = [32]
            batch_size = 64
            [search]
            \(search)
            [strategy]
            kind = "random"
            trials = 1
            [budget]
            steps = 400
            seed = 1
            [objective]
            metric = "val_loss"
            mode = "min"
            """
        let id = try e2e.submit(c, task)
        #expect(try e2e.waitFinished(c, id).status == .completed)
        let results = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        let loss = try #require(results.trials.first?.finalMetrics["val_loss"])
        print("recommended \(option.config.jsonText): val_loss \(loss), band [\(option.lossLow), \(option.lossHigh)]")
        #expect(option.lossLow <= loss && loss <= option.lossHigh)
    }

    @Test func tunectlRecommendPrintsTheConfigurationAndNamesBadKeys() throws {
        let d = try e2e.startDaemon(workers: 1)
        defer { _ = e2e.stop(d) }
        let dir = d.dir
        let good = dir.appendingPathComponent("f.toml"), bad = dir.appendingPathComponent("bad.toml")
        try Self.features.write(to: good, atomically: true, encoding: .utf8)
        try "model_kind = \"mlp\"\nwidth = 3\n".write(to: bad, atomically: true, encoding: .utf8)
        let ok = try tunectl(["--socket", d.socket, "recommend", "--task-features", good.path, "--top", "2"])
        #expect(ok.status == 0)
        #expect(ok.out.contains("learning rate") && ok.out.contains("warmup_cosine") && ok.out.contains("confidence"))
        #expect(ok.out.contains("why: the nearest tasks"))
        let failed = try tunectl(["--socket", d.socket, "recommend", "--task-features", bad.path])
        #expect(failed.status == 1)
        #expect(failed.err.contains("bad.toml:2: width: unknown key"))
        let show = try tunectl(["--socket", d.socket, "policy", "show"])
        #expect(show.status == 0 && show.out.contains("OPTIMIZER") && show.out.contains("shipped"))
    }

    /// A batch-sweep task on the NQM: one run per batch size, then `task.batchsize` measures
    /// steps to target from the stored metrics and fits S(B); `tunectl batchsize --out` draws it.
    @Test func aBatchSweepMeasuresStepsToTargetAndFitsTheCriticalBatchSize() throws {
        let d = try e2e.startDaemon(workers: 2)
        defer { _ = e2e.stop(d) }
        let c = try RPCClient(socketPath: d.socket)
        let task = """
            name = "nqm-sweep"
            [workload]
            kind = "nqm"
            dimension = 100
            [search]
            optimizer = ["sgd"]
            lr = 0.1
            [strategy]
            kind = "batch-sweep"
            batch_sizes = [1, 2, 4, 8, 32, 128]
            target_loss = 0.3
            lr_scaling = "none"           # the same lr at every size (rescaling: BatchSweepTests)
            noise_scale_every = 500       # explicit: no overhead cap, so batch 1 is measured too
            [budget]
            steps = 1000
            seed = 5
            [objective]
            metric = "val_loss"
            mode = "min"
            """
        let id = try e2e.submit(c, task)
        #expect(try e2e.waitFinished(c, id).status == .completed)
        let r = try c.call(RPCMethods.TaskBatchSize.self, TaskIDParams(taskID: id))
        #expect(r.points.map(\.batchSize) == [1, 2, 4, 8, 32, 128])
        let steps = r.points.compactMap(\.steps)
        #expect(steps.count == 6)
        #expect(steps.first! > steps.last!)
        let bCrit = try #require(r.criticalBatchSize)
        #expect(bCrit.low <= bCrit.value && bCrit.value <= bCrit.high)
        #expect(bCrit.value > 0.1 && bCrit.value < 128)
        print("batch sweep: S \(steps), B_crit \(bCrit), B_simple \(r.points.map(\.noiseScale))")
        // B_simple is measured online in every run and stored beside its losses.
        let scales = r.points.compactMap(\.noiseScale)
        #expect(scales.count == 6 && scales.allSatisfy { $0 > 0 }, "\(r.points)")

        let svg = d.dir.appendingPathComponent("sweep.svg").path
        let out = try tunectl(["--socket", d.socket, "batchsize", "\(id)", "--out", svg])
        #expect(out.status == 0 && out.out.contains("B_crit"), "\(out.err)")
        let drawn = try String(contentsOfFile: svg, encoding: .utf8)
        // Six measured points (dots with a tooltip each), the fitted curve, B_crit marked.
        #expect(drawn.components(separatedBy: "<title>B = ").count == 7)
        #expect(drawn.contains("<polyline"))
        try e2e.expectRasterises(svg, containing: ["batch size B", "steps to target S", "B_crit = ", "measured"])
        // A task of another strategy is refused with a message saying why.
        let other = try e2e.submit(c, tinyTask("plain", dimension: 10))
        #expect {
            try c.call(RPCMethods.TaskBatchSize.self, TaskIDParams(taskID: other))
        } throws: { error in "\(error)".contains("batch-sweep") }
    }

    func toml(_ v: RPCValue) -> String {
        if let o = v.objectValue {
            return "{ " + o.keys.sorted().map { "\($0) = \(toml(o[$0]!))" }.joined(separator: ", ") + " }"
        }
        return v.jsonText
    }

    func tunectl(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = DaemonEndToEndTests.productsDirectory.appendingPathComponent("tunectl")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
