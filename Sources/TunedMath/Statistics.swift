@preconcurrency import CGSL

/// Descriptive statistics on `[Double]`, through GSL's `gsl_stats_*` (GSL manual §21).
///
/// Every function throws `GSLError` naming the argument when the input is empty, too short,
/// or contains a NaN or an infinity (GSL would silently return NaN or, for sorting, an
/// unspecified order). Results are those of GSL's one-pass, rounding-error-compensated
/// algorithms; against closed forms they agree to a few ulps (tests use 1e-12 relative).
///
/// Summary:
/// - `mean` (x̄ = Σxᵢ/n), `variance` (sample, Σ(xᵢ−x̄)²/(n−1)), `standardDeviation` (√variance)
/// - `quantile` / `quantiles` / `median`: linear interpolation between order statistics
/// - `correlation` (Pearson r), `weightedMean` (Σwᵢxᵢ/Σwᵢ)
/// - `min`, `max`, `minMax`
public enum Statistics {
    /// Arithmetic mean x̄ = (1/n)·Σxᵢ (`gsl_stats_mean`). Needs n ≥ 1.
    public static func mean(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 1)
        return gsl_stats_mean(data, 1, data.count)
    }

    /// Sample variance s² = Σ(xᵢ − x̄)² / (n − 1), the unbiased estimator
    /// (`gsl_stats_variance`; numpy `var(ddof=1)`). Needs n ≥ 2.
    public static func variance(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 2)
        return gsl_stats_variance(data, 1, data.count)
    }

    /// Sample standard deviation s = √(Σ(xᵢ − x̄)² / (n − 1)) (`gsl_stats_sd`). Needs n ≥ 2.
    public static func standardDeviation(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 2)
        return gsl_stats_sd(data, 1, data.count)
    }

    /// The `p`-quantile, p ∈ [0, 1], of `data` (unsorted; a sorted copy is made).
    ///
    /// GSL's `gsl_stats_quantile_from_sorted_data`: with the sorted values x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎,
    /// δ = (n − 1)·p, i = ⌊δ⌋, the result is (1 − (δ − i))·x₍ᵢ₎ + (δ − i)·x₍ᵢ₊₁₎: linear
    /// interpolation between order statistics, the same as numpy's default
    /// `np.quantile(method="linear")` and R's type 7. p = 0 gives the minimum, p = 1 the maximum.
    public static func quantile(_ data: [Double], _ p: Double) throws -> Double {
        try quantiles(data, [p])[0]
    }

    /// Several quantiles of the same data with one sort; see `quantile(_:_:)` for the rule.
    public static func quantiles(_ data: [Double], _ ps: [Double]) throws -> [Double] {
        try check(data, "data", minCount: 1)
        guard !ps.isEmpty else { throw GSLError.invalid("quantiles: ps is empty") }
        for (i, p) in ps.enumerated() where !(p >= 0 && p <= 1) {
            throw GSLError.domain("quantile: p\(ps.count > 1 ? "[\(i)]" : "") = \(p) is outside [0, 1]")
        }
        var sorted = data
        sorted.withUnsafeMutableBufferPointer { gsl_sort($0.baseAddress, 1, $0.count) }
        return ps.map { gsl_stats_quantile_from_sorted_data(sorted, 1, sorted.count, $0) }
    }

    /// The median: the 0.5-quantile, i.e. the middle order statistic for odd n and the mean
    /// of the two middle ones for even n (`gsl_stats_median_from_sorted_data` on a sorted copy).
    public static func median(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 1)
        var sorted = data
        sorted.withUnsafeMutableBufferPointer { gsl_sort($0.baseAddress, 1, $0.count) }
        return gsl_stats_median_from_sorted_data(sorted, 1, sorted.count)
    }

    /// Pearson correlation r = Σ(xᵢ−x̄)(yᵢ−ȳ) / √(Σ(xᵢ−x̄)²·Σ(yᵢ−ȳ)²) (`gsl_stats_correlation`).
    ///
    /// Needs equal lengths n ≥ 2; throws `GSL_EDOM` if either sample is constant (r undefined).
    public static func correlation(_ x: [Double], _ y: [Double]) throws -> Double {
        try check(x, "x", minCount: 2)
        try check(y, "y", minCount: 2)
        guard x.count == y.count else {
            throw GSLError.badLength("correlation: x has \(x.count) values, y has \(y.count)")
        }
        if x.allSatisfy({ $0 == x[0] }) { throw GSLError.domain("correlation: x is constant, r is undefined") }
        if y.allSatisfy({ $0 == y[0] }) { throw GSLError.domain("correlation: y is constant, r is undefined") }
        return gsl_stats_correlation(x, 1, y, 1, x.count)
    }

    /// Weighted mean Σwᵢxᵢ / Σwᵢ (`gsl_stats_wmean`).
    ///
    /// Needs equal lengths n ≥ 1, finite weights wᵢ ≥ 0 with Σwᵢ > 0.
    public static func weightedMean(_ data: [Double], weights: [Double]) throws -> Double {
        try check(data, "data", minCount: 1)
        try checkWeights(weights, "weights", count: data.count)
        return gsl_stats_wmean(weights, 1, data, 1, data.count)
    }

    /// The smallest value (`gsl_stats_min`).
    public static func min(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 1)
        return gsl_stats_min(data, 1, data.count)
    }

    /// The largest value (`gsl_stats_max`).
    public static func max(_ data: [Double]) throws -> Double {
        try check(data, "data", minCount: 1)
        return gsl_stats_max(data, 1, data.count)
    }

    /// Smallest and largest value in one pass (`gsl_stats_minmax`).
    public static func minMax(_ data: [Double]) throws -> (min: Double, max: Double) {
        try check(data, "data", minCount: 1)
        var lo = 0.0, hi = 0.0
        gsl_stats_minmax(&lo, &hi, data, 1, data.count)
        return (lo, hi)
    }

    // MARK: validation (shared with the fitting code)

    /// Throws unless `values` has at least `minCount` elements, all finite.
    /// Also runs `GSL.configure()`, so every public entry point that validates through here
    /// has GSL's abort handler off before its first GSL call.
    static func check(_ values: [Double], _ name: String, minCount: Int) throws {
        GSL.configure()
        if values.count < minCount {
            throw GSLError.invalid(
                values.isEmpty
                    ? "\(name) is empty" : "\(name) has \(values.count) value(s), at least \(minCount) needed")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw GSLError.domain("\(name)[\(i)] is \(values[i]); only finite values are allowed")
        }
    }

    /// Throws unless `weights` has `count` finite, non-negative elements with a positive sum.
    static func checkWeights(_ weights: [Double], _ name: String, count: Int) throws {
        guard weights.count == count else {
            throw GSLError.badLength("\(name) has \(weights.count) values, \(count) expected (one per observation)")
        }
        if let i = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw GSLError.domain("\(name)[\(i)] is \(weights[i]); weights must be finite and ≥ 0")
        }
        guard weights.contains(where: { $0 > 0 }) else {
            throw GSLError.domain("\(name) are all zero; at least one weight must be positive")
        }
    }
}
