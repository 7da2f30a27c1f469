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
        out += "\n" + trialTable(ranked(r.trials, mode: r.objective.mode), objective: r.objective).render()
        return out
    }

    /// `tunectl trials TASK`: the rows as the daemon sends them (ranked by the task's objective).
    public static func trials(_ rows: [TrialRow], objective: Objective? = nil) -> String {
        if rows.isEmpty { return "no trials yet\n" }
        return trialTable(rows, objective: objective).render()
    }

    /// The value a row ranks by: the daemon's `objective_value` (the task's `[objective]
    /// select`), or from a daemon that predates it, the best value along the curve.
    static func rankValue(_ t: TrialRow) -> Double? { t.objectiveValue ?? t.bestMetric }

    /// The objective column's title: `SCORE` (the final value), `BEST SCORE` (`select =
    /// "best"`, or a daemon that predates `select`).
    static func objectiveColumn(_ o: Objective?) -> String {
        guard let o else { return "BEST" }
        return o.select == .final ? o.metric.uppercased() : "BEST " + o.metric.uppercased()
    }

    /// Trial, member, status, steps, the objective's value (final or best, as the task ranks),
    /// parent, then each other final metric present in any row, then the configuration.
    public static func trialTable(_ rows: [TrialRow], objective: Objective?) -> TextTable {
        // With select = final the objective's column is its final value: not a second time.
        let shown = objective?.select == .final ? objective?.metric : nil
        let metricNames = Set(rows.flatMap(\.finalMetrics.keys)).subtracting(shown.map { [$0] } ?? []).sorted()
        var columns: [TextTable.Column] = [
            .init("TRIAL", .right), .init("MEMBER", .right), .init("STATUS"), .init("STEPS", .right),
            .init(objectiveColumn(objective), .right), .init("PARENT", .right),
        ]
        columns += metricNames.map { TextTable.Column($0.uppercased(), .right) }
        columns.append(.init("CONFIG"))
        var table = TextTable(columns: columns)
        for t in rows {
            var cells = [
                String(t.trialID), String(t.member), t.status.rawValue, String(t.stepsDone),
                Formatting.metric(rankValue(t)), t.parentTrialID.map(String.init) ?? "-",
            ]
            cells += metricNames.map { Formatting.metric(t.finalMetrics[$0]) }
            cells.append(Formatting.config(t.config))
            table.append(cells)
        }
        return table
    }

    /// Best first by the task's value of each trial (`rankValue`) for the objective's mode;
    /// trials without one (or NaN) last, ties by trial id.
    public static func ranked(_ rows: [TrialRow], mode: Objective.Mode) -> [TrialRow] {
        rows.sorted { a, b in
            switch (rankValue(a).flatMap { $0.isNaN ? nil : $0 }, rankValue(b).flatMap { $0.isNaN ? nil : $0 }) {
            case (let x?, let y?) where x != y: return mode == .min ? x < y : x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.trialID < b.trialID
            }
        }
    }
}
