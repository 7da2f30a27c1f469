import Foundation
import Testing
import TunedRPC
import TunedStore

/// task.curves and task.lineage of the real daemon, and `tunectl lineage`/`plot` against it:
/// a real random search first (curves, an empty lineage); then lineage edges written into the
/// daemon's own store file with `Store.addLineageEdge`, served by the restarted daemon.
extension DaemonEndToEndTests {
    var tunectl: String { Self.productsDirectory.appendingPathComponent("tunectl").path }

    @Test func curvesAndLineageThroughRPCAndTunectl() async throws {
        let t0 = Date()
        let d = try startDaemon(workers: 2)
        defer { try? FileManager.default.removeItem(at: d.dir) }
        var c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, taskText(trials: 3, steps: 300, segment: 150))
        #expect(try waitFinished(c, id).status == .completed)

        // Curves: every trial, every metric, step-ordered, ending at the budget.
        let all = try c.call(RPCMethods.TaskCurves.self, TaskCurvesParams(taskID: id))
        #expect(all.trials.count == 3 && all.objective.metric == "val_loss" && all.name == "e2e-random")
        let best = try #require(all.best)
        for t in all.trials {
            let loss = try #require(t.series("val_loss"), "\(t.series.map(\.name))")
            #expect(loss.steps.last == 300 && loss.steps == loss.steps.sorted() && loss.totalPoints == loss.steps.count)
            #expect(loss.values.allSatisfy { $0.isFinite && $0 > 0 })
            #expect(t.series("lr") != nil && t.series("train_loss") != nil)
            if t.trialID == best.trialID { #expect(loss.values.min() == best.value) }
        }
        // Only the named metrics, thinned to two points: the first and the last.
        let thin = try c.call(
            RPCMethods.TaskCurves.self, TaskCurvesParams(taskID: id, metrics: ["val_loss"], maxPoints: 2))
        for t in thin.trials {
            #expect(t.series.map(\.name) == ["val_loss"])
            #expect(t.series[0].steps.count == 2 && t.series[0].steps.last == 300)
            #expect(t.series[0].totalPoints == all.trials.first { $0.trialID == t.trialID }?.series("val_loss")?.steps.count)
        }
        do {
            _ = try c.call(RPCMethods.TaskCurves.self, TaskCurvesParams(taskID: id, maxPoints: 1))
            Issue.record("max_points 1 was accepted")
        } catch {
            #expect(error.remoteError?.knownCode == .invalidParams && error.message.contains("max_points"), "\(error)")
        }
        do {
            _ = try c.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: 999))
            Issue.record("an unknown task has a lineage")
        } catch {
            #expect(error.remoteError?.knownCode == .taskNotFound, "\(error)")
        }
        // A random search has no exploits.
        #expect(try c.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: id)).edges.isEmpty)
        let none = try run(tunectl, ["--socket", d.socket, "lineage", "\(id)"])
        #expect(none.status == 0 && none.stdout.contains("no exploits recorded"), "\(none)")
        let svg1 = d.dir.appendingPathComponent("random.svg").path
        let plot1 = try run(tunectl, ["--socket", d.socket, "plot", "\(id)", "--out", svg1])
        #expect(plot1.status == 0 && plot1.stdout == "wrote \(svg1): 3 members, 0 exploits\n", "\(plot1)")
        try expectRasterises(svg1, containing: ["e2e-random", "best so far (min, final)", "Winning lineage (trial \(best.trialID))"])
        #expect(stop(d) == 0)

        // Two exploits written into the daemon's own store, served after a restart: the best
        // trial copied `mid` at step 200, which had copied `first` at step 150.
        let store = try Store(path: d.store)
        let trials = try await store.trials(task: TunedStore.TaskID(id))
        let winner = try #require(trials.first { $0.id.rawValue == best.trialID })
        let others = trials.filter { $0.id != winner.id }.sorted { $0.member < $1.member }
        let (first, mid) = (others[0], others[1])
        let midConfig = #"{"optimizer":"adamw","lr":0.012,"batch_size":32}"#
        try await store.addLineageEdge(
            NewLineageEdge(
                task: TunedStore.TaskID(id), step: 150, generation: 1, donor: first.id, recipient: mid.id,
                donorCheckpoint: nil, oldConfigJSON: #"{"optimizer":"adamw","lr":0.01,"batch_size":32}"#,
                newConfigJSON: midConfig,
                changesJSON: #"{"lr":{"from":0.01,"to":0.012,"how":"perturb x1.2"}}"#))
        try await store.addLineageEdge(
            NewLineageEdge(
                task: TunedStore.TaskID(id), step: 200, generation: 2, donor: mid.id, recipient: winner.id,
                donorCheckpoint: mid.checkpointID, oldConfigJSON: #"{"optimizer":"sgd","lr":0.05,"batch_size":32}"#,
                newConfigJSON: #"{"optimizer":"lion","lr":0.0003,"batch_size":32}"#,
                changesJSON: #"{"optimizer":{"how":"resample"},"lr":{"how":"resample"}}"#))

        let d2 = try startDaemon(workers: 1, in: d.dir)
        defer { _ = stop(d2) }
        c = try RPCClient(socketPath: d2.socket)
        let lineage = try c.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: id))
        #expect(lineage.edges.map(\.step) == [150, 200])
        #expect(lineage.edges.map(\.trialID) == [mid.id.rawValue, winner.id.rawValue])
        #expect(lineage.edges.map(\.donorTrialID) == [first.id.rawValue, mid.id.rawValue])
        #expect(lineage.edges.map(\.generation) == [1, 2])
        #expect(lineage.edges[1].changed == ["optimizer", "lr"] && lineage.edges[1].optimizerReset)
        #expect(lineage.edges[1].donorStep == 300, "the donor's checkpoint is its last, at step 300")

        let table = try run(tunectl, ["--socket", d2.socket, "lineage", "\(id)"])
        #expect(table.status == 0, "\(table)")
        let rows = table.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first == "task \(id): 2 exploits into 2 members")
        #expect(rows.count == 5)
        #expect(rows[3].contains("trial \(mid.id) ← trial \(first.id)") && rows[3].contains("lr 0.01→0.012 (perturb x1.2)"))
        #expect(rows[4].contains("trial \(winner.id) ← trial \(mid.id)"))
        #expect(rows[4].contains("optimizer sgd→lion (resample), lr 0.05→0.0003 (resample)"), "\(rows[4])")
        let json = try run(tunectl, ["--socket", d2.socket, "--json", "lineage", "\(id)"])
        #expect(json.stdout.contains(#""generation":2"#) && json.stdout.contains(#""donor_step":300"#), "\(json)")

        let svg2 = d.dir.appendingPathComponent("lineage.svg").path
        let plot2 = try run(tunectl, ["--socket", d2.socket, "plot", "\(id)", "--out", svg2])
        #expect(plot2.status == 0 && plot2.stdout.hasSuffix("3 members, 2 exploits\n"), "\(plot2)")
        try expectRasterises(svg2, containing: [
            "Winning lineage (trial \(winner.id)): lr over steps, 2 exploits", "← trial \(mid.id)", "← trial \(first.id)",
            "Ancestry: trial \(first.id) (0–150) → trial \(mid.id) (150–200) → trial \(winner.id) (200–300)",
        ])
        let bad = try run(tunectl, ["--socket", d2.socket, "plot", "\(id)", "--out", "picture.png"])
        #expect(bad.status == 2 && bad.stderr.contains("--out must name an .svg file"), "\(bad)")
        print("e2e curves + lineage + plot: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// The file exists, names `texts`, and rsvg-convert turns it into a non-empty PNG.
    func expectRasterises(_ svgFile: String, containing texts: [String]) throws {
        let svg = try String(contentsOfFile: svgFile, encoding: .utf8)
        for t in texts { #expect(svg.contains(t), "\(svgFile) lacks \(t)") }
        let rsvg = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let exe = try #require(rsvg, "rsvg-convert is missing: run scripts/setup.sh (librsvg2-bin)")
        let png = svgFile + ".png"
        let r = try run(exe, ["--format", "png", "--output", png, svgFile])
        #expect(r.status == 0, "rsvg-convert: \(r.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.count > 1000 && Array(bytes.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    }
}
