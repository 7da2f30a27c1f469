import TunedRPC

/// The ancestry of one member's weights, traced back through the exploits that copied them:
/// the member itself after its last exploit, before that the donor it copied (up to that
/// step), that donor's own donor before its last exploit, and so on back to step 0.
/// A pure function of the lineage edges; `tunectl plot` draws the hyperparameters along it.
public struct LineageTrace: Sendable, Equatable {
    /// Steps (from, to] of the trace during which `trialID` trained with `config`.
    public struct Piece: Sendable, Equatable {
        public var trialID: TrialID
        public var from: Int64
        /// Inclusive; nil for the last piece (open ended: the member's end).
        public var to: Int64?
        public var config: RPCValue
    }

    /// Oldest first.
    public var pieces: [Piece]
    /// The exploits followed, oldest first: each one's `trialID` inherits from `donorTrialID`.
    public var exploits: [LineageEdge]

    /// Traces `trial` back through `edges` (in any order). `configs` are the trials' current
    /// configurations, used for a trial's steps before any exploit of its own when no edge
    /// records its configuration before one.
    public static func trace(_ trial: TrialID, edges: [LineageEdge], configs: [TrialID: RPCValue]) -> LineageTrace {
        // Edges in the order they happened (step, then their position in the daemon's list).
        let ordered = edges.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }
            .map(\.element)
        var pieces: [Piece] = []
        var followed: [LineageEdge] = []
        var current = trial
        var upper: Int64? = nil
        var visited = 0
        while true {
            let own = ordered.filter { $0.trialID == current && (upper == nil || $0.step < upper!) }
            guard let last = own.last, visited < ordered.count else {
                pieces.append(Piece(trialID: current, from: 0, to: upper, config: initialConfig(current, ordered, configs)))
                break
            }
            visited += 1
            pieces.append(Piece(trialID: current, from: last.step, to: upper, config: last.configAfter))
            followed.append(last)
            current = last.donorTrialID
            upper = last.step
        }
        return LineageTrace(pieces: pieces.reversed(), exploits: followed.reversed())
    }

    /// A trial's configuration before its first exploit.
    static func initialConfig(_ trial: TrialID, _ ordered: [LineageEdge], _ configs: [TrialID: RPCValue]) -> RPCValue {
        ordered.first { $0.trialID == trial }?.configBefore ?? configs[trial] ?? .null
    }

    /// A hyperparameter along the trace, as (step, value) points: from the trial's reported
    /// series named `key` where it has one (the `lr` metric follows schedules and
    /// hypergradient descent), else the piece's configured value held constant. `end` closes
    /// the last piece when its trial reported no series.
    public func values(of key: String, curves: [TrialID: TrialCurves], end: Int64) -> [(x: Double, y: Double)] {
        var out: [(x: Double, y: Double)] = []
        for piece in pieces {
            let upper = piece.to ?? end
            if let s = curves[piece.trialID]?.series(key), !s.steps.isEmpty {
                let inside = zip(s.steps, s.values).filter { step, _ in
                    (piece.from == 0 ? step >= 0 : step > piece.from) && step <= upper
                }
                // The change happens at the exploit, not at the recipient's next report.
                if piece.from > 0, let first = inside.first { out.append((Double(piece.from), first.1)) }
                out += inside.map { (Double($0.0), $0.1) }
            } else if let v = piece.config[key]?.doubleValue {
                out.append((Double(piece.from), v))
                out.append((Double(max(upper, piece.from)), v))
            }
        }
        return out
    }

    /// The hyperparameter keys any followed exploit changed, `optimizer` first.
    public var changedKeys: [String] {
        Formatting.orderedKeys(Set(exploits.flatMap(\.changed)))
    }
}

/// The task's best value up to each step, under its `[objective] select`: with `best` (and
/// from daemons that predate `select`) the best value any trial reached so far, a staircase
/// through the steps where it improved; with `final`, the best of the trials' latest values
/// at each step (what the task's result would be if every trial ended there), which may also
/// get worse. Both end at the last step any trial reported.
public enum BestSoFar {
    public static func curve(
        _ trials: [TrialCurves], metric: String, mode: Objective.Mode, select: Objective.Select? = nil
    ) -> [(x: Double, y: Double)] {
        if select == .final { return latestCurve(trials, metric: metric, mode: mode) }
        var points: [(step: Int64, value: Double)] = []
        for t in trials {
            guard let s = t.series(metric) else { continue }
            for (step, value) in zip(s.steps, s.values) where value.isFinite { points.append((step, value)) }
        }
        points.sort { $0.step < $1.step }
        var out: [(x: Double, y: Double)] = []
        var best: Double?
        var i = 0
        while i < points.count {
            let step = points[i].step
            var improved = false
            while i < points.count, points[i].step == step {
                let v = points[i].value
                if best == nil || (mode == .min ? v < best! : v > best!) {
                    best = v
                    improved = true
                }
                i += 1
            }
            if improved {
                if let last = out.last { out.append((Double(step), last.y)) }
                out.append((Double(step), best!))
            }
        }
        if let last = out.last, let end = points.last, Double(end.step) > last.x { out.append((Double(end.step), last.y)) }
        return out
    }

    /// `select = "final"`: at each step, the best over trials of each one's latest finite value.
    static func latestCurve(_ trials: [TrialCurves], metric: String, mode: Objective.Mode) -> [(x: Double, y: Double)] {
        var points: [(step: Int64, trial: Int, value: Double)] = []
        for (i, t) in trials.enumerated() {
            guard let s = t.series(metric) else { continue }
            for (step, value) in zip(s.steps, s.values) where value.isFinite { points.append((step, i, value)) }
        }
        points.sort { ($0.step, $0.trial) < ($1.step, $1.trial) }
        var latest: [Int: Double] = [:]
        var out: [(x: Double, y: Double)] = []
        var i = 0
        while i < points.count {
            let step = points[i].step
            while i < points.count, points[i].step == step {
                latest[points[i].trial] = points[i].value
                i += 1
            }
            let best = mode == .min ? latest.values.min()! : latest.values.max()!
            if let last = out.last, last.y == best { continue }
            if let last = out.last { out.append((Double(step), last.y)) }
            out.append((Double(step), best))
        }
        if let last = out.last, let end = points.last, Double(end.step) > last.x { out.append((Double(end.step), last.y)) }
        return out
    }
}
