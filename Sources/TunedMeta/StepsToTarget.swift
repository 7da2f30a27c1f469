/// The steps a run needed to reach a target validation loss, from its recorded metric rows:
/// the measurement a batch-size sweep feeds to `BatchSizeFit` (one run per batch size).
///
/// The crossing is interpolated linearly between the last evaluation above the target and
/// the first at or below it (evaluations are every `eval_every` steps, so without
/// interpolation S would be quantised to that grid). Nil if the run never reached the target.
public enum StepsToTarget {
    public static func steps(_ rows: [(step: Int, value: Double)], target: Double) -> Double? {
        let sorted = rows.filter { $0.value.isFinite }.sorted { $0.step < $1.step }
        guard let hit = sorted.firstIndex(where: { $0.value <= target }) else { return nil }
        let b = sorted[hit]
        guard hit > 0 else { return Double(b.step) }
        let a = sorted[hit - 1]
        let t = (a.value - target) / (a.value - b.value)
        return Double(a.step) + t * Double(b.step - a.step)
    }

    /// (B, S) points of a sweep: one run per batch size; runs that never reached the target
    /// are left out (they are reported, not fitted).
    public static func points(_ runs: [(batchSize: Int, rows: [(step: Int, value: Double)])], target: Double)
        -> (points: [BatchSizeFit.Point], missed: [Int])
    {
        var points: [BatchSizeFit.Point] = [], missed: [Int] = []
        for r in runs {
            if let s = steps(r.rows, target: target), s > 0 {
                points.append(.init(batchSize: Double(r.batchSize), steps: s))
            } else {
                missed.append(r.batchSize)
            }
        }
        return (points, missed)
    }
}
