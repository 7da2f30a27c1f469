import Foundation
import TunedRPC

/// `tunectl plot TASK --out FILE.svg`: two stacked charts of a task's history.
///
/// 1. The objective (e.g. `val_loss`) of every member over steps, the best value so far in
///    bold, exploits marked where the recipient restarted.
/// 2. The winning lineage's hyperparameter schedule (`lr` by default): the best member's
///    ancestry traced back through its exploits, each exploit marked with its donor — or, for
///    an ASHA task (no lineage), every trial's objective at each rung, promoted or pruned.
public enum TaskPlot {
    /// Ten distinguishable colours (the "category10" palette), then grey for the rest.
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8",
    ]
    /// Up to this many members get a colour and a legend row each; beyond it, all are grey.
    static let colouredMembers = 10

    public static let width = 1000.0
    public static let chartHeight = 380.0

    public static func svg(curves: TaskCurves, lineage: TaskLineage, hyperparameter: String = "lr", strategy: String? = nil) -> String {
        var doc = SVGDocument(width: width, height: chartHeight * 2 + 40)
        doc.comment("tuned task \(curves.taskID) (\(curves.name)): made by tunectl plot")
        let metric = curves.objective.metric
        let end = curves.trials.flatMap { $0.series.flatMap(\.steps) }.max() ?? 0
        let winner = winningTrial(curves)
        var configs: [TrialID: RPCValue] = [:]
        var byTrial: [TrialID: TrialCurves] = [:]
        for t in curves.trials {
            configs[t.trialID] = t.config
            byTrial[t.trialID] = t
        }

        // Chart 1: every member's objective and the best so far.
        let best = BestSoFar.curve(curves.trials, metric: metric, mode: curves.objective.mode, select: curves.objective.select)
        let allValues = curves.trials.flatMap { $0.series(metric)?.values ?? [] }
        let firsts = curves.trials.compactMap { $0.series(metric)?.values.first(where: \.isFinite) }
        var members = SVGPlot(
            title: "Task \(curves.taskID) \(curves.name): \(metric) of every member",
            xLabel: "training step", yLabel: metric, xAxis: .linear(0, Double(max(end, 1))),
            yAxis: .fitting(visible(allValues, firsts: firsts, mode: curves.objective.mode)))
        let coloured = curves.trials.count <= colouredMembers
        for (i, t) in curves.trials.enumerated() {
            guard let s = t.series(metric) else { continue }
            let points = zip(s.steps, s.values).map { (x: Double($0), y: $1) }
            if coloured {
                members.series.append(.init(memberLabel(t), points: points, color: palette[i % palette.count], width: 1.3))
            } else {
                let label = i == 0 ? "each member (\(curves.trials.count))" : nil
                members.series.append(.init(label, points: points, color: "#888", width: 1, opacity: 0.5))
            }
        }
        members.series.append(
            .init("best so far (\(curves.objective.mode.rawValue)\(curves.objective.select.map { ", " + $0.rawValue } ?? ""))", points: best, color: "#000", width: 3))
        for e in lineage.edges {
            guard let s = byTrial[e.donorTrialID]?.series(metric), let y = value(s, atOrBefore: e.step) else { continue }
            members.markers.append(.init(x: Double(e.step), y: y))
        }
        members.markerLabel = "exploit (copy of a donor)"
        members.draw(into: &doc, x: 0, y: 0, width: width, height: chartHeight, id: "members")

        // Chart 2: ASHA's rungs, or the winning lineage's schedule.
        if strategy == "asha" {
            ASHARungsPlot.chart(curves, end: end).draw(into: &doc, x: 0, y: chartHeight, width: width, height: chartHeight, id: "rungs")
            return doc.render()
        }
        let trace = winner.map { LineageTrace.trace($0, edges: lineage.edges, configs: configs) }
        let points = trace?.values(of: hyperparameter, curves: byTrial, end: end) ?? []
        let title: String
        if let winner, let trace {
            let n = trace.exploits.count
            title = "Winning lineage (trial \(winner)): \(hyperparameter) over steps, \(n) exploit\(n == 1 ? "" : "s")"
        } else {
            title = "Winning lineage: no trial has reported \(metric) yet"
        }
        let positive = points.map(\.y).filter { $0.isFinite && $0 > 0 }
        var schedule = SVGPlot(
            title: title, xLabel: "training step", yLabel: hyperparameter,
            xAxis: .linear(0, Double(max(end, 1))),
            yAxis: positive.count == points.count && !points.isEmpty
                ? .log(positive.min()!, positive.max()!) : .fitting(points.map(\.y), log: false))
        schedule.series.append(
            .init("\(hyperparameter), winning lineage", points: points, color: "#1f77b4", width: 2.2))
        for e in trace?.exploits ?? [] {
            schedule.verticalLines.append(Double(e.step))
            // On the line, where the recipient's piece starts: the value it trained with.
            let x = Double(e.step)
            let onLine = points.last { $0.x == x }?.y ?? points.first { $0.x > x }?.y
            if let y = onLine ?? e.configAfter[hyperparameter]?.doubleValue {
                schedule.markers.append(.init(x: Double(e.step), y: y, caption: "← trial \(e.donorTrialID)"))
            }
        }
        schedule.markerLabel = "exploit (← donor trial)"
        schedule.draw(into: &doc, x: 0, y: chartHeight, width: width, height: chartHeight, id: "lineage")
        if let trace {
            let path = trace.pieces.map { p in
                "trial \(p.trialID) (\(p.from)–\(p.to.map(String.init) ?? String(end)))"
            }.joined(separator: " → ")
            doc.text("Ancestry: " + path, x: SVGPlot.margin.left, y: chartHeight * 2 + 22, size: 11, color: "#333")
        }
        return doc.render()
    }

    /// The task's best trial as the daemon reports it, else the one with the best last value.
    static func winningTrial(_ curves: TaskCurves) -> TrialID? {
        if let b = curves.best { return b.trialID }
        let finals = curves.trials.compactMap { t in t.series(curves.objective.metric)?.values.last.map { (t.trialID, $0) } }
            .filter { $0.1.isFinite }
        let pick = curves.objective.mode == .min ? finals.min { $0.1 < $1.1 } : finals.max { $0.1 < $1.1 }
        return pick?.0
    }

    /// "trial 12 · adamw lr=0.001".
    static func memberLabel(_ t: TrialCurves) -> String {
        var s = "trial \(t.trialID)"
        if let o = t.config["optimizer"]?.stringValue { s += " · \(o)" }
        if let lr = t.config["lr"]?.doubleValue { s += " lr=" + PlotAxis.label(Double(String(format: "%.2g", lr)) ?? lr) }
        return s
    }

    /// The value of a series at the last point at or before `step`.
    static func value(_ s: MetricSeries, atOrBefore step: Int64) -> Double? {
        var found: Double?
        for (st, v) in zip(s.steps, s.values) where st <= step && v.isFinite { found = v }
        return found
    }

    /// The values the objective's axis should span. When minimising, a member that blows up
    /// must not squash everybody else's curves: values above twice the median first value
    /// (the untrained loss) run off the top of the chart.
    static func visible(_ values: [Double], firsts: [Double], mode: Objective.Mode) -> [Double] {
        let finite = values.filter(\.isFinite)
        guard mode == .min, !firsts.isEmpty else { return finite }
        let sorted = firsts.sorted()
        let median = sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let cap = 2 * median
        guard cap > 0 else { return finite }
        return finite.filter { $0 <= cap }
    }
}
