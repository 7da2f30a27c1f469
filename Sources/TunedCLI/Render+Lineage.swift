import TunedRPC

extension Render {
    /// `tunectl lineage TASK`: one row per exploit, in the order they happened — the step,
    /// the generation, who copied whom (recipient ← donor, and the donor's step), and each
    /// changed hyperparameter as `key old→new`, with how explore changed it when recorded.
    ///
    ///     STEP  GEN  RECIPIENT ← DONOR  DONOR STEP  OPT RESET  CHANGES
    ///      400    1  trial 3 ← trial 1         400  no         lr 0.1→0.12 (perturb x1.2)
    public static func lineage(_ l: TaskLineage) -> String {
        if l.edges.isEmpty {
            return "task \(l.taskID): no exploits recorded (lineage comes from PBT; other strategies have none)\n"
        }
        var table = TextTable(columns: [
            .init("STEP", .right), .init("GEN", .right), .init("RECIPIENT ← DONOR"), .init("DONOR STEP", .right),
            .init("OPT RESET"), .init("CHANGES"), .init("TIME"),
        ])
        for e in l.edges {
            table.append([
                String(e.step), e.generation.map(String.init) ?? "-", "trial \(e.trialID) ← trial \(e.donorTrialID)",
                String(e.donorStep), e.optimizerReset ? "yes" : "no", changes(e), Formatting.timestamp(e.at),
            ])
        }
        let n = l.edges.count
        let recipients = Set(l.edges.map(\.trialID)).count
        return "task \(l.taskID): \(n) exploit\(n == 1 ? "" : "s") into \(recipients) member\(recipients == 1 ? "" : "s")\n"
            + table.render()
    }

    /// `lr 0.1→0.12 (perturb x1.2), optimizer sgd→lion`; `copied` when explore changed nothing.
    public static func changes(_ e: LineageEdge) -> String {
        if e.changed.isEmpty { return "copied" }
        return e.changed.map { key in
            let old = e.configBefore[key].map(Formatting.tableScalar) ?? "-"
            let new = e.configAfter[key].map(Formatting.tableScalar) ?? "-"
            var text = "\(key) \(old)→\(new)"
            if let how = e.changes?[key]?["how"]?.stringValue, !how.isEmpty { text += " (\(how))" }
            return text
        }.joined(separator: ", ")
    }
}
