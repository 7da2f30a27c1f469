import Foundation

/// One axis of a chart: a linear or logarithmic scale over a domain widened to "nice"
/// round bounds, with the tick values a person expects (1, 2, 5 × 10ᵏ steps; decades on a
/// log scale, with 2 and 5 in between when the domain spans few decades).
public struct PlotAxis: Sendable, Equatable {
    public enum Scale: String, Sendable { case linear, log }

    public let scale: Scale
    public let lower: Double
    public let upper: Double
    /// Ticks inside [lower, upper], ascending.
    public let ticks: [Double]

    /// A linear axis over [lower, upper] (widened to nice bounds; an empty or degenerate
    /// range becomes a small one around the value).
    public static func linear(_ lower: Double, _ upper: Double, targetTicks: Int = 6) -> PlotAxis {
        var lo = lower.isFinite ? lower : 0
        var hi = upper.isFinite ? upper : 1
        if hi < lo { swap(&lo, &hi) }
        if hi - lo < 1e-12 * max(1, abs(hi)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let step = niceStep((hi - lo) / Double(max(1, targetTicks - 1)))
        let first = (lo / step).rounded(.down)
        let last = (hi / step).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { clean($0 * step, step: step) }
        return PlotAxis(scale: .linear, lower: first * step, upper: last * step, ticks: ticks)
    }

    /// A log₁₀ axis over [lower, upper] (both > 0), padded by a quarter on either side so
    /// that no curve runs along the frame. Ticks: the decades inside, or if that gives fewer
    /// than three, 1, 2 and 5 × 10ᵏ, or else every 1…9 × 10ᵏ; on a span of more than eight
    /// decades, every other (third, …) decade.
    public static func log(_ lower: Double, _ upper: Double) -> PlotAxis {
        let lo = (lower > 0 && lower.isFinite ? lower : 1e-3) / 1.25
        let hi = max(upper.isFinite ? upper : lo * 10, lo) * 1.25
        let d0 = Int(Foundation.log10(lo).rounded(.down))
        let d1 = Int(Foundation.log10(hi).rounded(.up))
        var ticks: [Double] = []
        for multipliers in [[1], [1, 2, 5], Array(1...9)] {
            let every = multipliers.count == 1 ? max(1, (d1 - d0 + 7) / 8) : 1
            ticks = stride(from: d0, through: d1, by: every).flatMap { d in
                multipliers.compactMap { Double("\($0)e\(d)") }
            }.filter { $0 >= lo && $0 <= hi }
            if ticks.count >= 3 { break }
        }
        return PlotAxis(scale: .log, lower: lo, upper: hi, ticks: ticks)
    }

    /// The axis for `values` (non-finite ones ignored): logarithmic when `log` is true, or when
    /// it is nil and the positive values span more than a factor of 20; else linear.
    public static func fitting(_ values: [Double], log: Bool? = nil) -> PlotAxis {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return linear(0, 1) }
        let useLog = log ?? (lo > 0 && hi / lo > 20)
        if useLog, let positive = finite.filter({ $0 > 0 }).min() { return Self.log(positive, hi) }
        return linear(lo, hi)
    }

    /// Where `value` falls between the bounds: 0 at `lower`, 1 at `upper` (outside for
    /// values beyond them; −∞ for a non-positive value on a log axis).
    public func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .log:
            guard value > 0 else { return -.infinity }
            return (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
    }

    /// A tick's label: `0.001`, `0.25`, `4000`, `1e-05`, `2e+06` → `2e6`.
    public static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 { return String(format: "%g", value) }
        var s = String(format: "%.0e", value)  // 1e-05
        s = s.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
        return s.replacingOccurrences(of: "e+", with: "e")
    }

    /// 1, 2 or 5 × 10ᵏ, the smallest not below `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        let normalised = raw / magnitude
        let nice: Double = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// Rounds away the float noise of `k × step` (0.30000000000000004 → 0.3).
    static func clean(_ value: Double, step: Double) -> Double {
        let digits = max(0, -Int(Foundation.log10(step).rounded(.down)) + 1)
        let scale = Foundation.pow(10, Double(min(digits, 15)))
        return (value * scale).rounded() / scale
    }
}
