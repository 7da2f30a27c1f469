/// Time left for a task, from how fast its steps have been completing.
///
/// The rate is measured over a sliding window of recent samples (steps done at a time), so a
/// task that sped up or slowed down is estimated at its current pace:
///
///     rate = (steps[last] − steps[first]) / (t[last] − t[first])      (window of `window` samples)
///     eta  = (total − done) / rate
///
/// With fewer than two samples, or no progress in the window, there is no estimate (nil).
/// The daemon's own `eta_seconds` is preferred when it sends one (`best(daemon:)`).
public struct ETAEstimator: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var at: Double
        public var stepsDone: Int64
        public init(at: Double, stepsDone: Int64) {
            self.at = at
            self.stepsDone = stepsDone
        }
    }

    /// How many of the latest samples the rate is measured over.
    public let window: Int
    public private(set) var samples: [Sample] = []
    public private(set) var stepsTotal: Int64 = 0

    public init(window: Int = 30) {
        precondition(window >= 2, "an ETA needs at least two samples")
        self.window = window
    }

    /// Records that `stepsDone` of `stepsTotal` steps were done at `at` (seconds).
    /// A sample older than the last one is ignored; steps going backwards (a re-queued
    /// segment) restart the window.
    public mutating func record(at: Double, stepsDone: Int64, stepsTotal: Int64) {
        self.stepsTotal = stepsTotal
        if let last = samples.last {
            if at < last.at { return }
            if stepsDone < last.stepsDone { samples.removeAll() }
            if at == last.at {
                samples[samples.count - 1] = Sample(at: at, stepsDone: stepsDone)
                return
            }
        }
        samples.append(Sample(at: at, stepsDone: stepsDone))
        if samples.count > window { samples.removeFirst(samples.count - window) }
    }

    /// Steps per second over the window, or nil without two samples and some progress.
    public var rate: Double? {
        guard let first = samples.first, let last = samples.last, last.at > first.at,
            last.stepsDone > first.stepsDone
        else { return nil }
        return Double(last.stepsDone - first.stepsDone) / (last.at - first.at)
    }

    /// Seconds left at the current rate (0 when all steps are done), or nil when unknown.
    public var secondsRemaining: Double? {
        guard let last = samples.last else { return nil }
        let left = stepsTotal - last.stepsDone
        if left <= 0 { return 0 }
        guard let rate else { return nil }
        return Double(left) / rate
    }

    /// The daemon's estimate when it gave one, else this estimator's.
    public func best(daemon: Double?) -> Double? {
        if let daemon, daemon.isFinite, daemon >= 0 { return daemon }
        return secondsRemaining
    }

    /// The ETA from a task's start alone, when only one snapshot is at hand:
    /// `elapsed × (total − done) / done`. Nil before any step is done.
    public static func fromStart(startedAt: Double?, now: Double, stepsDone: Int64, stepsTotal: Int64) -> Double? {
        guard let startedAt, now > startedAt, stepsDone > 0 else { return nil }
        if stepsDone >= stepsTotal { return 0 }
        return (now - startedAt) * Double(stepsTotal - stepsDone) / Double(stepsDone)
    }
}
