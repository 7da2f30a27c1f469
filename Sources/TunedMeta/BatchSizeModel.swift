import Foundation
import TunedMath

/// The empirical model of large-batch training (McCandlish et al. 2018, arXiv 1812.06162,
/// eqs. 2.11–2.12): the steps S and examples E needed to reach a fixed loss at batch size B are
///
///     S = S_min·(1 + B_crit/B),   E = E_min·(1 + B/B_crit),   E_min = S_min·B_crit
///
/// so (S/S_min − 1)(E/E_min − 1) = 1. `fit` estimates S_min and B_crit from measured (B, S)
/// pairs with GSL's Levenberg–Marquardt (`NonlinearLeastSquares`, analytic Jacobian), with
/// relative residuals (S − Ŝ)/S, since S spans orders of magnitude across a sweep.
/// E_min follows; its standard error by the delta method.
public struct BatchSizeFit: Sendable, Equatable, Codable {
    /// One measured point of a batch-size sweep.
    public struct Point: Sendable, Equatable, Codable {
        public var batchSize: Double
        /// Steps to reach the target loss.
        public var steps: Double
        /// Examples to reach it (B·S).
        public var examples: Double { batchSize * steps }

        public init(batchSize: Double, steps: Double) {
            self.batchSize = batchSize
            self.steps = steps
        }
    }

    /// A value with its standard error and 95% confidence interval (estimate ± t₀.₉₇₅·se).
    public struct Estimate: Sendable, Equatable, Codable {
        public var value: Double
        public var standardError: Double
        public var low: Double
        public var high: Double

        enum CodingKeys: String, CodingKey {
            case value, low, high
            case standardError = "standard_error"
        }
    }

    public var criticalBatchSize: Estimate
    public var minimumSteps: Estimate
    public var minimumExamples: Estimate
    /// R² of log S against log Ŝ (1 − RSS/TSS on the log scale).
    public var rSquared: Double
    /// Root mean square relative residual of S.
    public var rmsRelativeError: Double
    public var points: [Point]

    enum CodingKeys: String, CodingKey {
        case points
        case criticalBatchSize = "b_crit"
        case minimumSteps = "s_min"
        case minimumExamples = "e_min"
        case rSquared = "r_squared"
        case rmsRelativeError = "rms_relative_error"
    }

    /// Predicted steps to target at batch size B.
    public func steps(at b: Double) -> Double { minimumSteps.value * (1 + criticalBatchSize.value / b) }
    /// Predicted examples to target at batch size B.
    public func examples(at b: Double) -> Double { minimumExamples.value * (1 + b / criticalBatchSize.value) }

    public struct FitError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Fits the model to at least three points with distinct batch sizes (two parameters,
    /// at least one degree of freedom for the error estimates).
    public static func fit(_ points: [Point]) throws -> BatchSizeFit {
        guard Set(points.map(\.batchSize)).count >= 3 else {
            throw FitError(message: "the batch-size model needs at least 3 distinct batch sizes, got \(points.count) point(s)")
        }
        if let bad = points.first(where: { !($0.batchSize > 0 && $0.steps > 0 && $0.steps.isFinite) }) {
            throw FitError(message: "batch size \(bad.batchSize): steps \(bad.steps) must be finite and > 0")
        }
        // Start from the linear fit S ≈ a + c/B (a = S_min, c = S_min·B_crit), clamped positive.
        let x = try Matrix(points.map { [1, 1 / $0.batchSize] })
        let lin = try LinearLeastSquares.fit(X: x, y: points.map(\.steps), weights: points.map { 1 / ($0.steps * $0.steps) })
        let sMin0 = max(lin.coefficients[0], points.map(\.steps).min()! * 0.5)
        let bCrit0 = max(lin.coefficients[1] / sMin0, points.map(\.batchSize).min()! * 0.1)
        // Parametrise by logarithms so that both stay positive.
        let r = try NonlinearLeastSquares.fit(
            initial: [log(sMin0), log(bCrit0)],
            residuals: { t in
                let s = exp(t[0]), b = exp(t[1])
                return points.map { (s * (1 + b / $0.batchSize) - $0.steps) / $0.steps }
            },
            jacobian: { t in
                let s = exp(t[0]), b = exp(t[1])
                return try Matrix(points.map { p in
                    [s * (1 + b / p.batchSize) / p.steps, s * b / p.batchSize / p.steps]
                })
            })
        let (ls, lb) = (r.parameters[0], r.parameters[1])
        let sMin = exp(ls), bCrit = exp(lb)
        // Delta method: se(exp θ) = exp θ·se(θ); E_min = exp(ls + lb).
        let c = r.covariance
        let seS = sMin * r.standardErrors[0], seB = bCrit * r.standardErrors[1]
        let varLogE = max(c[0, 0] + c[1, 1] + 2 * c[0, 1], 0)
        let eMin = sMin * bCrit, seE = eMin * varLogE.squareRoot()
        let t = studentT975(r.degreesOfFreedom)
        // Intervals on the log scale (the parameters are fitted there), mapped back.
        func estimate(_ v: Double, _ se: Double, _ seLog: Double) -> Estimate {
            Estimate(value: v, standardError: se, low: v * exp(-t * seLog), high: v * exp(t * seLog))
        }
        let logS = points.map { log($0.steps) }
        let meanLog = logS.reduce(0, +) / Double(logS.count)
        let tss = logS.reduce(0) { $0 + ($1 - meanLog) * ($1 - meanLog) }
        let rss = points.reduce(0.0) { acc, p in
            let d = log(sMin * (1 + bCrit / p.batchSize)) - log(p.steps)
            return acc + d * d
        }
        return BatchSizeFit(
            criticalBatchSize: estimate(bCrit, seB, r.standardErrors[1]),
            minimumSteps: estimate(sMin, seS, r.standardErrors[0]),
            minimumExamples: estimate(eMin, seE, varLogE.squareRoot()),
            rSquared: tss > 0 ? 1 - rss / tss : 1,
            rmsRelativeError: (r.chiSquared / Double(points.count)).squareRoot(),
            points: points.sorted { $0.batchSize < $1.batchSize })
    }

    /// Two-sided 97.5% quantile of Student's t (table to 30 degrees of freedom, then 1.96).
    static func studentT975(_ dof: Int) -> Double {
        let table: [Double] = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ]
        return dof >= 1 && dof <= table.count ? table[dof - 1] : 1.96
    }
}
