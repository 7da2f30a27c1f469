import TunedRPC

/// Text for people: what `tunectl list`, `status` and `daemon status` print. Every function
/// returns the whole output, ending with a newline.
public enum Render {
    /// `tunectl list`: one row per task, newest first as the daemon sends them.
    public static func taskList(_ tasks: [TaskSummary]) -> String {
        if tasks.isEmpty { return "no tasks yet; submit one with `tunectl submit FILE`\n" }
        var table = TextTable(columns: [
            .init("ID", .right), .init("NAME"), .init("STATUS"), .init("STRATEGY"), .init("WORKLOAD"),
            .init("STEPS", .right), .init("BEST", .right), .init("CREATED"),
        ])
        for t in tasks {
            table.append([
                String(t.taskID), t.name, t.paused == nil ? t.status.rawValue : "paused", t.strategy, t.workload,
                Formatting.steps(done: t.stepsDone, total: t.stepsTotal), Formatting.metric(t.best?.value),
                Formatting.timestamp(t.createdAt),
            ])
        }
        return table.render()
    }

    /// `tunectl status TASK`: the task's fields, then its members.
    public static func taskDetail(_ d: TaskDetail) -> String {
        var out = "task \(d.taskID) \(d.name): \(d.status.rawValue)\n"
        var fields: [(String, String)] = [
            ("strategy", d.strategy), ("workload", d.workload),
            ("objective", "\(d.objective.mode.rawValue) \(d.objective.metric)" + (d.objective.select.map { " (\($0.rawValue))" } ?? "")),
            ("steps", Formatting.steps(done: d.stepsDone, total: d.stepsTotal)),
            ("best", best(d.best, objective: d.objective)),
        ]
        if !d.status.isFinal { fields.append(("eta", Formatting.duration(d.etaSeconds))) }
        fields.append(("created", Formatting.timestamp(d.createdAt)))
        if let s = d.startedAt { fields.append(("started", Formatting.timestamp(s))) }
        if let f = d.finishedAt { fields.append(("finished", Formatting.timestamp(f))) }
        if let e = d.error { fields.append(("error", TunectlError.oneLine(e))) }
        if let p = d.paused { fields.insert(("paused", TunectlError.oneLine(p) + " (resumes by itself once writes succeed)"), at: 0) }
        out += keyValues(fields)
        if !d.members.isEmpty {
            out += "\n" + memberTable(d.members, metric: d.objective.metric).render()
        }
        return out
    }

    /// The members of a running task: trial, slot, status, step, last metric, worker, config.
    public static func memberTable(_ members: [MemberSummary], metric: String?) -> TextTable {
        var table = TextTable(columns: [
            .init("TRIAL", .right), .init("MEMBER", .right), .init("STATUS"), .init("STEP", .right),
            .init((metric ?? "metric").uppercased(), .right), .init("WORKER"), .init("CONFIG"),
        ])
        for m in members {
            table.append([
                String(m.trialID), String(m.member), m.status.rawValue, String(m.step),
                Formatting.metric(m.lastMetric), m.workerID ?? "-", Formatting.config(m.config),
            ])
        }
        return table
    }

    /// `tunectl status` without a task: the daemon's summary, then the task list.
    public static func overview(_ status: DaemonStatus, tasks: [TaskSummary]) -> String {
        daemonStatus(status) + "\n" + taskList(tasks)
    }

    /// `tunectl daemon status`.
    public static func daemonStatus(_ s: DaemonStatus) -> String {
        let counts = s.tasks.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        var store = s.store.path + " (" + Formatting.bytes(s.store.sizeBytes) + ")"
        if let e = s.store.error { store += " — UNHEALTHY: " + TunectlError.oneLine(e) }
        return "tuned \(s.version) (protocol \(s.protocolVersion)), pid \(s.pid), up \(Formatting.duration(s.uptimeSeconds))\n"
            + keyValues([
                ("socket", s.socket), ("store", store),
                ("workers", "\(s.workers.alive)/\(s.workers.configured) alive, \(s.workers.busy) busy"),
                ("tasks", counts.isEmpty ? "none" : counts.joined(separator: ", ")),
            ])
    }

    /// `best val_loss 0.0712 (trial 12, step 4000)`, or `-`.
    public static func best(_ b: BestMetric?, objective: Objective?) -> String {
        guard let b else { return "-" }
        let name = objective.map { $0.metric + " " } ?? ""
        return "\(name)\(Formatting.metric(b.value)) (trial \(b.trialID), step \(b.step))"
    }

    /// Aligned `key: value` lines, indented two spaces.
    public static func keyValues(_ pairs: [(String, String)]) -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { "  " + $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 + "\n" }
            .joined()
    }
}
