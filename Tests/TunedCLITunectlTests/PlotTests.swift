import Foundation
import Testing
import TunedRPC

@testable import TunedCLI

@Suite struct PlotAxisTests {
    @Test func linearTicksAreRoundAndCoverTheData() {
        let a = PlotAxis.linear(0, 4000)
        #expect(a.ticks == [0, 1000, 2000, 3000, 4000])
        let b = PlotAxis.linear(0.07, 2.31)
        #expect(b.lower <= 0.07 && b.upper >= 2.31)
        #expect(b.ticks == [0, 0.5, 1, 1.5, 2, 2.5])
        let c = PlotAxis.linear(0.1, 0.3)
        #expect(c.ticks.map { PlotAxis.label($0) } == ["0.1", "0.15", "0.2", "0.25", "0.3"])
        // A constant series still gets a usable range around its value.
        let d = PlotAxis.linear(5, 5)
        #expect(d.lower < 5 && d.upper > 5 && d.ticks.count >= 2)
    }

    @Test func logTicksAreDecadesWithTwoAndFiveWhenTheRangeIsShort() {
        let a = PlotAxis.log(1e-4, 0.9)
        #expect(a.ticks == [1e-4, 1e-3, 1e-2, 1e-1, 1])
        #expect(a.ticks.map { PlotAxis.label($0) } == ["1e-4", "0.001", "0.01", "0.1", "1"])
        let b = PlotAxis.log(0.06, 0.5)
        #expect(b.ticks == [0.05, 0.1, 0.2, 0.5])
        #expect(b.fraction(0.06) > 0 && b.fraction(0.5) < 1, "padded: no curve on the frame")
        #expect(abs(b.fraction(b.lower)) < 1e-12 && abs(b.fraction(b.upper) - 1) < 1e-12)
        #expect(b.fraction(0) == -.infinity)
        // A narrow range still gets ticks; a huge one not too many.
        #expect(PlotAxis.log(0.3, 0.35).ticks == [0.3, 0.4])
        #expect(PlotAxis.log(1e-6, 1e6).ticks.count <= 10)
    }

    @Test func fittingPicksLogForWideRangesOfPositiveValues() {
        #expect(PlotAxis.fitting([2.3, 0.08, .nan, .infinity]).scale == .log)
        #expect(PlotAxis.fitting([0.3, 0.2]).scale == .linear)
        #expect(PlotAxis.fitting([-1, 100]).scale == .linear)
        #expect(PlotAxis.fitting([]).ticks == [0, 0.2, 0.4, 0.6, 0.8, 1])
    }
}

@Suite struct SVGDocumentTests {
    @Test func textIsEscapedAndNumbersAreShort() {
        var doc = SVGDocument(width: 100, height: 50)
        doc.text("a < b & \"c\"", x: 1.005, y: 2)
        doc.polyline([(0, 0), (1.25, 3.333333)], .init(stroke: "#123"))
        doc.polyline([(0, 0)])
        let svg = doc.render()
        #expect(svg.contains("a &lt; b &amp; &quot;c&quot;"))
        #expect(svg.contains("points=\"0,0 1.25,3.33\""))
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(doc.elements.count == 2, "a one-point polyline draws nothing")
        #expect(SVGDocument.number(.nan) == "0" && SVGDocument.number(-0.5) == "-0.5")
    }
}

@Suite struct LineageTraceTests {
    let configs = Dictionary(uniqueKeysWithValues: LineageSamples.curves.trials.map { ($0.trialID, $0.config) })

    @Test func theWinnersAncestryFollowsTheDonorsBackToStepZero() {
        let t = LineageTrace.trace(4, edges: LineageSamples.lineage.edges, configs: configs)
        #expect(t.pieces.map(\.trialID) == [1, 3, 4])
        #expect(t.pieces.map(\.from) == [0, 100, 300])
        #expect(t.pieces.map(\.to) == [100, 300, nil])
        #expect(t.pieces[1].config["lr"] == 0.012)
        #expect(t.exploits.map(\.step) == [100, 300])
        #expect(t.changedKeys == ["optimizer", "lr"])
    }

    @Test func edgesInAnyOrderGiveTheSameTrace() {
        let edges = LineageSamples.lineage.edges
        let a = LineageTrace.trace(4, edges: edges, configs: configs)
        let b = LineageTrace.trace(4, edges: edges.reversed(), configs: configs)
        #expect(a == b)
        // A member nobody copied into is its own lineage.
        let alone = LineageTrace.trace(1, edges: edges, configs: configs)
        #expect(alone.pieces.map(\.trialID) == [1] && alone.exploits.isEmpty)
    }

    @Test func scheduleUsesTheReportedSeriesElseTheConfiguration() {
        let t = LineageTrace.trace(4, edges: LineageSamples.lineage.edges, configs: configs)
        let byTrial = Dictionary(uniqueKeysWithValues: LineageSamples.curves.trials.map { ($0.trialID, $0) })
        let lr = t.values(of: "lr", curves: byTrial, end: 400)
        // Trial 1's report, trial 3's from its exploit at 100 on, trial 4's configured lr from 300.
        #expect(lr.map(\.x) == [100, 100, 200, 300, 300, 400])
        #expect(lr.map(\.y) == [0.01, 0.012, 0.012, 0.013, 0.0001, 0.0001])
    }

    @Test func bestSoFarIsAStaircaseOfImprovements() {
        let best = BestSoFar.curve(LineageSamples.curves.trials, metric: "val_loss", mode: .min)
        #expect(best.map(\.x) == [100, 200, 200, 300, 300, 400, 400])
        #expect(best.map(\.y) == [1.2, 1.2, 0.55, 0.55, 0.3, 0.3, 0.09])
        let worst = BestSoFar.curve(LineageSamples.curves.trials, metric: "val_loss", mode: .max)
        #expect(worst.first?.y == 2.2 && worst.last?.x == 400)
    }
}

@Suite struct LineageRenderTests {
    @Test func tableShowsWhoCopiedWhomAndWhatChanged() {
        let text = Render.lineage(LineageSamples.lineage)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "task 7: 3 exploits into 3 members")
        #expect(lines[1].hasPrefix("STEP  GEN  RECIPIENT ← DONOR  DONOR STEP  OPT RESET  CHANGES"), "\(lines[1])")
        #expect(lines[3].contains("trial 3 ← trial 1") && lines[3].contains("lr 0.5→0.012 (perturb x1.2)"))
        #expect(lines[3].contains(" no "))
        #expect(lines[5].contains("trial 4 ← trial 3") && lines[5].contains("optimizer sgd→lion, lr 0.2→0.0001"))
        #expect(lines[5].contains(" yes "))
        #expect(lines.count == 6)
    }

    @Test func aTaskWithoutExploitsSaysSo() {
        #expect(Render.lineage(TaskLineage(taskID: 3, edges: [])).contains("no exploits recorded"))
    }
}

@Suite struct TaskPlotTests {
    @Test func theFigureHasLabelledChartsALegendAndRasterises() throws {
        let svg = TaskPlot.svg(curves: LineageSamples.curves, lineage: LineageSamples.lineage)
        for text in [
            "Task 7 digits-pbt: val_loss of every member", "training step", "val_loss (log scale)",
            "best so far (min)", "trial 4 · lion lr=1e-4", "exploit (copy of a donor)",
            "Winning lineage (trial 4): lr over steps, 2 exploits", "lr, winning lineage", "← trial 3", "← trial 1",
            "exploit (← donor trial)", "Ancestry: trial 1 (0–100) → trial 3 (100–300) → trial 4 (300–400)",
        ] {
            #expect(svg.contains(SVGDocument.escape(text)), "missing \(text)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-plot-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("task7.svg").path
        try OutputFile.write(svg, to: file)
        let out = try Rasteriser.convert(file)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Rasteriser.isPNG(out.png))
        let size = try #require(Rasteriser.size(out.png))
        #expect(size.0 == Int(TaskPlot.width) && size.1 == Int(TaskPlot.chartHeight * 2 + 40))
    }

    @Test func manyMembersShareOneLegendRowAndDivergedValuesBreakTheLine() throws {
        var curves = LineageSamples.curves
        curves.trials = (1...12).map { i in
            TrialCurves(
                trialID: TrialID(i), member: i - 1, status: i == 5 ? .diverged : .completed,
                config: ["optimizer": "sgd", "lr": 0.1],
                series: [
                    MetricSeries(
                        name: "val_loss", steps: [100, 200, 300],
                        values: i == 5 ? [1.0, .nan, .infinity] : [1.0, 0.5, 0.1 * Double(i)])
                ])
        }
        curves.best = BestMetric(value: 0.1, trialID: 1, step: 300)
        let svg = TaskPlot.svg(curves: curves, lineage: TaskLineage(taskID: 7, edges: []))
        #expect(svg.contains("each member (12)"))
        #expect(!svg.contains("trial 12 ·"))
        #expect(svg.contains("Winning lineage (trial 1): lr over steps, 0 exploits"))
        #expect(!svg.contains("NaN") && !svg.contains("inf"))
    }

    /// An ASHA task has no lineage: the lower chart shows each trial at each rung, promoted
    /// or pruned, and the trials that trained to the end (was: an empty lineage panel).
    @Test func anASHATaskShowsItsRungsAndPrunedTrials() {
        func trial(_ id: Int64, _ steps: [Int64], _ status: TrialStatus) -> TrialCurves {
            TrialCurves(
                trialID: id, member: Int(id) - 1, status: status, config: ["optimizer": "sgd", "lr": 0.1],
                series: [MetricSeries(name: "val_loss", steps: steps, values: steps.map { 1 / Double($0 + Int64(id)) })])
        }
        let curves = TaskCurves(
            taskID: 9, name: "asha", objective: Objective(metric: "val_loss", mode: .min),
            best: BestMetric(value: 0.01, trialID: 4, step: 90),
            trials: [
                trial(1, [10], .stopped), trial(2, [10], .stopped), trial(3, [10, 20, 30], .stopped),
                trial(4, [10, 20, 30, 60, 90], .completed),
            ])
        let svg = TaskPlot.svg(curves: curves, lineage: TaskLineage(taskID: 9, edges: []), strategy: "asha")
        #expect(svg.contains("ASHA: val_loss at each rung (2 rungs), 3 of 4 trials pruned"), "\(svg)")
        #expect(svg.contains("pruned at the rung (3)"))
        #expect(svg.contains("promoted past the rung (3)"))  // trial 3 past 10; trial 4 past 10 and 30
        #expect(svg.contains("trained to the end (1)"))
        #expect(svg.contains("trial 3 at step 30"))
        #expect(!svg.contains("Winning lineage"))
    }

    @Test func writingIntoAMissingFolderNamesIt() {
        #expect(throws: TunectlError.self) { try OutputFile.write("x", to: "/nonexistent-folder-\(UUID())/a.svg") }
        do {
            try OutputFile.write("x", to: "/nonexistent-folder/a.svg")
        } catch {
            #expect(error.description.contains("/nonexistent-folder does not exist"))
        }
    }
}
