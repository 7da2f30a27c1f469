import Foundation
import TunedOptim

/// Online estimate of the simple gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et
/// al. 2018, "An Empirical Model of Large-Batch Training", App. A.1).
///
/// Each measurement gives the squared norms of two minibatch gradients, |G_small|² at
/// B_small and |G_big|² at B_big. Since E|G_B|² = |G|² + tr(Σ)/B, the unbiased estimates are
///
///     |𝒢|² = (B_big|G_big|² − B_small|G_small|²) / (B_big − B_small)
///     𝒮    = (|G_small|² − |G_big|²) / (1/B_small − 1/B_big)
///
/// Both are averaged by separate exponential moving averages, bias-corrected as Adam's
/// moments are (m_t = βm_{t−1} + (1−β)x_t, m̂_t = m_t/(1−βᵗ); gpt-neox uses β = 0.99), and
/// B_simple = m̂(𝒮)/m̂(|𝒢|²). The ratio of averages (not the average of ratios) is what
/// keeps the estimate consistent. B_simple is nil before the first measurement, when the
/// averaged |𝒢|² is ≤ 0 (the gradient is lost in the noise) and when the averaged 𝒮 is < 0:
/// never negative, never NaN. Measurements with a non-finite norm are skipped.
///
/// `saveState()`/`restoreState(_:)` round-trip every field bit for bit.
public struct GradientNoiseScale: Sendable, Equatable {
    public private(set) var smallBatch: Int
    public private(set) var bigBatch: Int
    public private(set) var beta: Double
    /// Measurements folded in so far.
    public private(set) var updates = 0
    /// The raw (biased) moving averages of |𝒢|² and 𝒮.
    public private(set) var averageGradientSquaredNorm = 0.0
    public private(set) var averageTrace = 0.0

    /// One measurement's unbiased estimates.
    public struct Estimate: Sendable, Equatable {
        /// |𝒢|², the estimate of the true gradient's squared norm.
        public var gradientSquaredNorm: Double
        /// 𝒮, the estimate of tr(Σ) at batch size 1.
        public var trace: Double
        /// 𝒮/|𝒢|² when both are usable, else nil.
        public var simpleNoiseScale: Double? { GradientNoiseScale.ratio(trace, gradientSquaredNorm) }
    }

    /// - Throws: `WorkloadError` naming `small_batch`, `big_batch` or `beta` unless
    ///   1 ≤ B_small < B_big and 0 ≤ β < 1.
    public init(smallBatch: Int, bigBatch: Int, beta: Double = 0.99) throws {
        try Self.check(smallBatch: smallBatch, bigBatch: bigBatch, beta: beta)
        self.smallBatch = smallBatch
        self.bigBatch = bigBatch
        self.beta = beta
    }

    static func check(smallBatch: Int, bigBatch: Int, beta: Double) throws {
        guard smallBatch >= 1 else {
            throw WorkloadError("gradient noise scale: 'small_batch' must be ≥ 1, got \(smallBatch)")
        }
        guard bigBatch > smallBatch else {
            throw WorkloadError(
                "gradient noise scale: 'big_batch' (\(bigBatch)) must be greater than 'small_batch' (\(smallBatch))")
        }
        guard beta.isFinite, beta >= 0, beta < 1 else {
            throw WorkloadError("gradient noise scale: 'beta' must be in [0, 1), got \(beta)")
        }
    }

    /// The two-batch unbiased estimates (App. A.1) for one pair of squared norms.
    public static func estimate(
        smallBatch: Int, smallSquaredNorm: Double, bigBatch: Int, bigSquaredNorm: Double
    ) throws -> Estimate {
        try check(smallBatch: smallBatch, bigBatch: bigBatch, beta: 0)
        return unchecked(Double(smallBatch), smallSquaredNorm, Double(bigBatch), bigSquaredNorm)
    }

    static func unchecked(_ bs: Double, _ gs: Double, _ bb: Double, _ gb: Double) -> Estimate {
        Estimate(gradientSquaredNorm: (bb * gb - bs * gs) / (bb - bs), trace: (gs - gb) / (1 / bs - 1 / bb))
    }

    static func ratio(_ trace: Double, _ g2: Double) -> Double? {
        guard g2 > 0, trace >= 0 else { return nil }
        let r = trace / g2
        return r.isFinite ? r : nil
    }

    /// Folds one measurement into the averages and returns its own estimates, or nil (and
    /// changes nothing) when a norm is not finite.
    @discardableResult
    public mutating func update(smallSquaredNorm: Double, bigSquaredNorm: Double) -> Estimate? {
        guard smallSquaredNorm.isFinite, bigSquaredNorm.isFinite else { return nil }
        let e = Self.unchecked(Double(smallBatch), smallSquaredNorm, Double(bigBatch), bigSquaredNorm)
        guard e.gradientSquaredNorm.isFinite, e.trace.isFinite else { return nil }
        updates += 1
        averageGradientSquaredNorm = beta * averageGradientSquaredNorm + (1 - beta) * e.gradientSquaredNorm
        averageTrace = beta * averageTrace + (1 - beta) * e.trace
        return e
    }

    /// 1 − βᵗ, the bias correction after t = `updates` measurements.
    var biasCorrection: Double { 1 - pow(beta, Double(updates)) }

    /// The bias-corrected average of |𝒢|²; nil before the first measurement.
    public var gradientSquaredNorm: Double? { updates > 0 ? averageGradientSquaredNorm / biasCorrection : nil }

    /// The bias-corrected average of 𝒮 (tr Σ at batch size 1); nil before the first measurement.
    public var trace: Double? { updates > 0 ? averageTrace / biasCorrection : nil }

    /// B_simple = m̂(𝒮)/m̂(|𝒢|²), or nil (see the type's documentation).
    public var simpleNoiseScale: Double? {
        guard let g2 = gradientSquaredNorm, let s = trace else { return nil }
        return Self.ratio(s, g2)
    }

    // MARK: state

    public func saveState() -> StateDict {
        var s = StateDict()
        s["small_batch"] = .int(smallBatch)
        s["big_batch"] = .int(bigBatch)
        s["beta"] = .double(beta)
        s["updates"] = .int(updates)
        s["ema_gradient_squared_norm"] = .double(averageGradientSquaredNorm)
        s["ema_trace"] = .double(averageTrace)
        return s
    }

    /// Restores every field, configuration included, from `saveState()`'s output.
    public mutating func restoreState(_ state: StateDict) throws {
        let small = try state.int("small_batch"), big = try state.int("big_batch"), beta = try state.double("beta")
        try Self.check(smallBatch: small, bigBatch: big, beta: beta)
        let updates = try state.int("updates")
        guard updates >= 0 else {
            throw WorkloadError("gradient noise scale state: 'updates' must be ≥ 0, got \(updates)")
        }
        let g2 = try state.double("ema_gradient_squared_norm"), tr = try state.double("ema_trace")
        (smallBatch, bigBatch, self.beta, self.updates) = (small, big, beta, updates)
        (averageGradientSquaredNorm, averageTrace) = (g2, tr)
    }

    /// A fresh estimator holding `state`.
    public init(state: StateDict) throws {
        try self.init(smallBatch: 1, bigBatch: 2)
        try restoreState(state)
    }
}
