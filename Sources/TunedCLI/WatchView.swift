import TunedRPC

/// What `tunectl watch` shows: the task's progress, best metric so far and ETA, and its
/// members. A terminal gets the whole frame redrawn in place; a pipe or a file gets one
/// plain line per update.
public struct WatchView: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var status: TaskStatus
        public var stepsDone: Int64
        public var stepsTotal: Int64
        public var best: BestMetric?
        public var etaSeconds: Double?
        public var members: [MemberSummary]
        public var at: Double
        /// Why the daemon has paused (a full disk), while it has.
        public var paused: String?

        public init(
            status: TaskStatus, stepsDone: Int64, stepsTotal: Int64, best: BestMetric?, etaSeconds: Double?,
            members: [MemberSummary], at: Double
        ) {
            self.status = status
            self.stepsDone = stepsDone
            self.stepsTotal = stepsTotal
            self.best = best
            self.etaSeconds = etaSeconds
            self.members = members
            self.at = at
        }

        public init(_ d: TaskDetail, at: Double) {
            self.init(
                status: d.status, stepsDone: d.stepsDone, stepsTotal: d.stepsTotal, best: d.best,
                etaSeconds: d.etaSeconds, members: d.members, at: at)
            paused = d.paused
        }

        public init(_ p: TaskProgress) {
            self.init(
                status: p.status, stepsDone: p.stepsDone, stepsTotal: p.stepsTotal, best: p.best,
                etaSeconds: p.etaSeconds, members: p.members, at: p.at)
            paused = p.paused
        }
    }

    public let taskID: TaskID
    public let name: String
    public let objective: Objective
    public private(set) var estimator = ETAEstimator()
    /// Lines of the last frame drawn on the terminal (to move back over).
    private var drawnLines = 0

    public init(taskID: TaskID, name: String, objective: Objective) {
        self.taskID = taskID
        self.name = name
        self.objective = objective
    }

    /// Feeds a snapshot to the ETA estimator; returns the ETA to show (the daemon's if sent).
    public mutating func update(_ s: Snapshot) -> Double? {
        estimator.record(at: s.at, stepsDone: s.stepsDone, stepsTotal: s.stepsTotal)
        return s.status.isFinal ? nil : estimator.best(daemon: s.etaSeconds)
    }

    /// One line: `task 7 digits-pbt: running 9600/32000 (30%) best val_loss 0.0712 (trial 12, step 4000) eta 41s`.
    public func line(_ s: Snapshot, eta: Double?) -> String {
        var text = "task \(taskID) \(name): \(s.status.rawValue) \(Formatting.steps(done: s.stepsDone, total: s.stepsTotal))"
        text += " best " + Render.best(s.best, objective: objective)
        if !s.status.isFinal { text += " eta " + Formatting.duration(eta) }
        let running = s.members.filter { $0.status == .running }.count
        if !s.members.isEmpty { text += " members \(running)/\(s.members.count) running" }
        if let p = s.paused { text += " — paused: " + TunectlError.oneLine(p) }
        return text
    }

    /// The whole frame for a terminal: the summary line, a progress bar, the member table.
    public func frame(_ s: Snapshot, eta: Double?, width: Int = 40) -> [String] {
        var lines = [line(s, eta: eta)]
        lines.append(Self.bar(done: s.stepsDone, total: s.stepsTotal, width: width))
        if !s.members.isEmpty { lines += Render.memberTable(s.members, metric: objective.metric).lines() }
        return lines
    }

    /// The frame as bytes for a terminal: cursor back to the top of the previous frame and
    /// clear to the end of the screen (ANSI CSI `F` and `J`), then the new frame.
    public mutating func redraw(_ s: Snapshot, eta: Double?) -> String {
        let lines = frame(s, eta: eta)
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)F\u{1B}[J" : ""
        out += lines.joined(separator: "\n") + "\n"
        drawnLines = lines.count
        return out
    }

    /// `[##########..........]  50%`.
    public static func bar(done: Int64, total: Int64, width: Int) -> String {
        guard total > 0 else { return "[" + String(repeating: ".", count: width) + "]" }
        let fraction = min(max(Double(done) / Double(total), 0), 1)
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(Int((fraction * 100).rounded(.down))) + "%"
    }
}
