import TunedRPC

/// The lower chart of `tunectl plot` for an ASHA task, which has no lineage: every trial's
/// objective at each rung it reached — promoted (it trained on past the rung), pruned (it
/// stopped there) or at the end of the budget — with the rungs as vertical lines. The rungs
/// are read off the curves: the steps at which pruned trials stopped.
enum ASHARungsPlot {
    static func chart(_ curves: TaskCurves, end: Int64) -> SVGPlot {
        let metric = curves.objective.metric
        var lastStep: [TrialID: Int64] = [:]
        for t in curves.trials { lastStep[t.trialID] = t.series(metric)?.steps.last }
        let pruned = curves.trials.filter { $0.status == .stopped && (lastStep[$0.trialID] ?? end) < end }
        let rungs = Array(Set(pruned.compactMap { lastStep[$0.trialID] })).sorted()
        var promoted: [(x: Double, y: Double, title: String?)] = []
        var stopped: [(x: Double, y: Double, title: String?)] = []
        var finished: [(x: Double, y: Double, title: String?)] = []
        for t in curves.trials {
            guard let s = t.series(metric), let last = lastStep[t.trialID] else { continue }
            for r in rungs where r <= last {
                guard let v = TaskPlot.value(s, atOrBefore: r) else { continue }
                let point = (x: Double(r), y: v, title: Optional("trial \(t.trialID) at step \(r): \(metric) \(PlotAxis.label(v))"))
                if r < last { promoted.append(point) } else if t.status == .stopped { stopped.append(point) }
            }
            if last >= end, let v = TaskPlot.value(s, atOrBefore: last) {
                finished.append((x: Double(last), y: v, title: "trial \(t.trialID) at the end (step \(last)): \(metric) \(PlotAxis.label(v))"))
            }
        }
        let values = (promoted + stopped + finished).map(\.y)
        var chart = SVGPlot(
            title: rungs.isEmpty
                ? "ASHA: no trial pruned yet"
                : "ASHA: \(metric) at each rung (\(rungs.count) rung\(rungs.count == 1 ? "" : "s")), \(pruned.count) of \(curves.trials.count) trials pruned",
            xLabel: "training step", yLabel: metric, xAxis: .linear(0, Double(max(end, 1))), yAxis: .fitting(values))
        chart.scatter.append(.init("promoted past the rung (\(promoted.count))", points: promoted, color: "#2ca02c"))
        chart.scatter.append(.init("pruned at the rung (\(stopped.count))", points: stopped, color: "#d62728"))
        chart.scatter.append(.init("trained to the end (\(finished.count))", points: finished, color: "#1f77b4"))
        chart.verticalLines = rungs.map(Double.init)
        return chart
    }
}
