import TunedRPC

extension Render {
    /// `tunectl results TASK`: the best configuration, its final metrics, and every trial
    /// ranked best first by the objective.
    public static func results(_ r: TaskResults) -> String {
        var out = "task \(r.taskID): \(r.status.rawValue), \(r.objective.mode.rawValue) \(r.objective.metric)\n"
        out += "best: \(best(r.best, objective: r.objective))\n"
        if let config = r.bestConfig?.objectValue, !config.isEmpty {
            out += "\nbest config:\n"
            out += keyValues(Formatting.orderedKeys(config.keys).map { ($0, Formatting.scalar(config[$0]!)) })
        } else if r.bestConfig == nil {
            out += "\nno trial has reported \(r.objective.metric) yet\n"
        }
        if !r.finalMetrics.isEmpty {
            out += "\nfinal metrics:\n"
            out += keyValues(r.finalMetrics.keys.sorted().map { ($0, Formatting.metric(r.finalMetrics[$0])) })
        }
        out += "\n" + trialTable(ranked(r.trials, mode: r.objective.mode), metric: r.objective.metric).render()
        return out
    }

    /// `tunectl trials TASK`: the rows as the daemon sends them.
    public static func trials(_ rows: [TrialRow], metric: String? = nil) -> String {
        if rows.isEmpty { return "no trials yet\n" }
        return trialTable(rows, metric: metric).render()
    }

    /// Trial, member, status, steps, best objective, parent, then each final metric
    /// present in any row, then the configuration.
    public static func trialTable(_ rows: [TrialRow], metric: String?) -> TextTable {
        let metricNames = Set(rows.flatMap(\.finalMetrics.keys)).sorted()
        var columns: [TextTable.Column] = [
            .init("TRIAL", .right), .init("MEMBER", .right), .init("STATUS"), .init("STEPS", .right),
            .init("BEST" + (metric.map { " " + $0.uppercased() } ?? ""), .right), .init("PARENT", .right),
        ]
        columns += metricNames.map { TextTable.Column($0.uppercased(), .right) }
        columns.append(.init("CONFIG"))
        var table = TextTable(columns: columns)
        for t in rows {
            var cells = [
                String(t.trialID), String(t.member), t.status.rawValue, String(t.stepsDone),
                Formatting.metric(t.bestMetric), t.parentTrialID.map(String.init) ?? "-",
            ]
            cells += metricNames.map { Formatting.metric(t.finalMetrics[$0]) }
            cells.append(Formatting.config(t.config))
            table.append(cells)
        }
        return table
    }

    /// Best first by `bestMetric` for the objective's mode; trials without one (or NaN) last,
    /// ties by trial id.
    public static func ranked(_ rows: [TrialRow], mode: Objective.Mode) -> [TrialRow] {
        rows.sorted { a, b in
            switch (a.bestMetric.flatMap { $0.isNaN ? nil : $0 }, b.bestMetric.flatMap { $0.isNaN ? nil : $0 }) {
            case (let x?, let y?) where x != y: return mode == .min ? x < y : x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.trialID < b.trialID
            }
        }
    }
}
