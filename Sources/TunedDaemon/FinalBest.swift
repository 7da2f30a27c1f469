import TunedStore

/// The task's best trial as the strategies rank trials: among completed trials, the best
/// value of the objective at the trial's final step (ties: the lower member). Until a trial
/// has completed, the best value seen on any curve so far stands in (`fallback`).
struct FinalBest {
    struct Candidate {
        var index: Int
        var member: Int
        var completed: Bool
        var final: Double?
        var steps: Int
    }

    static func pick(_ candidates: [Candidate], mode: ObjectiveMode) -> (index: Int, value: Double, step: Int)? {
        var best: (index: Int, value: Double, step: Int, member: Int)?
        for c in candidates where c.completed {
            guard let v = c.final, !v.isNaN else { continue }
            if let b = best, !(mode.isBetter(v, than: b.value) || (v == b.value && c.member < b.member)) { continue }
            best = (c.index, v, c.steps, c.member)
        }
        return best.map { ($0.index, $0.value, $0.step) }
    }

    /// `items` best first by `value` under `mode`; those without a (non-NaN) value after them,
    /// each group otherwise in its given order (a stable sort).
    static func ranked<T>(_ items: [T], value: (T) -> Double?, mode: ObjectiveMode) -> [T] {
        let keyed = items.enumerated().map { (i: $0.offset, v: value($0.element).flatMap { $0.isNaN ? nil : $0 }, item: $0.element) }
        return keyed.sorted { a, b in
            switch (a.v, b.v) {
            case (let x?, let y?) where x != y: return mode.isBetter(x, than: y)
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.i < b.i
            }
        }.map(\.item)
    }
}
