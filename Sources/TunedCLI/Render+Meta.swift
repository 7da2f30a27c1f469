import Foundation
import TunedRPC

extension Render {
    /// `tunectl recommend`: each option's configuration, schedule, loss band, and why.
    public static func recommendation(_ r: RecommendResult) -> String {
        var out = ""
        for (i, o) in r.options.enumerated() {
            out += r.options.count > 1 ? "#\(i + 1) \(o.optimizer)\n" : "optimizer      \(o.optimizer)\n"
            let c = o.config.objectValue ?? [:]
            func line(_ label: String, _ value: String) { out += label.padding(toLength: 15, withPad: " ", startingAt: 0) + value + "\n" }
            if let lr = c["lr"] { line("learning rate", Formatting.scalar(lr)) }
            if let s = c["schedule"]?.objectValue {
                line(
                    "schedule",
                    "\(s["kind"].map(Formatting.scalar) ?? "?"): warm-up \(s["warmup_steps"].map(Formatting.scalar) ?? "0") steps, "
                        + "cosine to step \(s["total_steps"].map(Formatting.scalar) ?? "?"), floor \(s["floor"].map(Formatting.scalar) ?? "0")")
            } else {
                line("schedule", "constant (give step_budget for warm-up + cosine)")
            }
            if let wd = c["weight_decay"] { line("weight decay", Formatting.scalar(wd)) }
            let betas = ["beta1", "beta2"].compactMap { c[$0].map(Formatting.scalar) }
            if !betas.isEmpty { line("betas", betas.joined(separator: ", ")) }
            if let m = c["momentum"] { line("momentum", Formatting.scalar(m)) }
            if let b = c["batch_size"] { line("batch size", Formatting.scalar(b)) }
            line(
                "HD beta_h",
                o.hypergradientBeta > 0
                    ? Formatting.shortNumber(o.hypergradientBeta) + " (the lr is constant: let hypergradient descent adapt it)"
                    : "off (the schedule drives the lr; HD on top of it did worse on the suite)")
            if let g = o.parameterGroups { line("parameters", g) }
            if let s = o.stateBytesPerParameter { line("state memory", "\(Formatting.shortNumber(s)) bytes/parameter") }
            line(
                "val loss", "\(fmt(o.predictedLoss)) predicted, band [\(fmt(o.lossLow)), \(fmt(o.lossHigh))]")
            line("config", o.config.jsonText)
            out += "\n"
        }
        out += "confidence     \(String(format: "%.2f", r.confidence))"
        out += r.missingFeatures.isEmpty ? "\n" : " (missing: \(r.missingFeatures.joined(separator: ", ")))\n"
        out += "policy         \(r.policy)\n"
        for key in r.excluded.keys.sorted() { out += "excluded       \(key): \(r.excluded[key]!)\n" }
        if !r.nearest.isEmpty {
            out += "\nwhy: the nearest tasks in the history\n"
            var t = TextTable(columns: [.init("TASK"), .init("DISTANCE", .right), .init("BEST LOSS", .right), .init("BEST CONFIG")])
            for n in r.nearest {
                t.append([n.name, String(format: "%.2f", n.distance), fmt(n.bestLoss), Formatting.compactConfig(n.bestConfig)])
            }
            out += t.render()
        }
        return out
    }

    /// `tunectl policy fit`.
    public static func policyFit(_ r: PolicyFitResult) -> String {
        var out = "policy \(r.name) (store version \(r.policyVersion)) fitted from \(r.tasksUsed) task(s) at \(r.fittedAt); now active\n"
        for key in r.metrics.keys.sorted() { out += "  \(key) = \(fmt(r.metrics[key]!))\n" }
        return out
    }

    /// `tunectl policy show`: provenance, models, statistics.
    public static func policy(_ r: PolicyShowResult) -> String {
        let d = r.document.objectValue ?? [:]
        var out = "policy \(d["name"].map(Formatting.scalar) ?? "?") — \(r.source)"
        out += r.version.map { " version \($0)" } ?? " (policies/default.json)"
        out += ", created \(d["created_at"].map(Formatting.scalar) ?? "?")\n"
        if let p = d["provenance"]?.objectValue {
            out += "source: \(p["source"].map(Formatting.scalar) ?? "?")\n"
            if let note = p["note"], note != .null { out += "note: \(Formatting.scalar(note))\n" }
            let tasks = p["tasks"]?.arrayValue ?? []
            out += "tasks: \(tasks.count): " + tasks.compactMap { $0.objectValue?["name"].map(Formatting.scalar) }.joined(separator: ", ") + "\n"
        }
        var t = TextTable(columns: [.init("OPTIMIZER"), .init("TASKS", .right), .init("GAP RMSE", .right), .init("LOG10 LR RMSE", .right)])
        for f in d["families"]?.arrayValue ?? [] {
            let o = f.objectValue ?? [:]
            func rmse(_ k: String) -> String { o[k]?.objectValue?["loto_rmse"]?.doubleValue.map(fmt) ?? "-" }
            t.append([o["optimizer"].map(Formatting.scalar) ?? "?", o["tasks"].map(Formatting.scalar) ?? "?", rmse("gap"), rmse("log10_lr")])
        }
        return out + "\n" + t.render()
    }

    static func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}
