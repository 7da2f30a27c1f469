@preconcurrency import CGSL

/// Nonlinear least squares: minimise χ²(θ) = Σᵢ wᵢ fᵢ(θ)² over parameters θ, with GSL's
/// trust-region Levenberg–Marquardt (`gsl_multifit_nlinear_trust` with `trs_lm`, Moré
/// scaling `scale_more`, QR linear solver `solver_qr`; GSL manual §42).
///
/// The model is two Swift closures: `residuals(θ) -> [f₁ … fₙ]` (for curve fitting,
/// fᵢ = model(xᵢ; θ) − yᵢ) and, optionally, `jacobian(θ)`, the n×p matrix Jᵢⱼ = ∂fᵢ/∂θⱼ.
/// Without a Jacobian GSL uses finite differences (`fdf.df = NULL`; forward differences
/// with step `h_df`·|θⱼ| by default, see `Options`).
///
/// Covariance: C = (JᵀWJ)⁻¹·χ²/(n − p) at the solution (`gsl_multifit_nlinear_covar`, scaled
/// by the reduced χ² as in GSL's example and scipy's `curve_fit(absolute_sigma=False)`);
/// `unscaledCovariance` is (JᵀWJ)⁻¹, right when the weights are 1/σᵢ² with σᵢ known.
/// Standard errors are √Cⱼⱼ.
///
/// Errors: bad input throws `GSLError` naming the argument; a closure that throws has its
/// error rethrown unchanged; a closure that returns the wrong length or a NaN/∞ stops the
/// fit with `GSLError.Code.badFunction`; GSL failures surface as their status. Running out
/// of iterations or making no progress is *not* an error: see `Result.termination`.
public enum NonlinearLeastSquares {
    /// Solver settings; defaults follow GSL's documented example.
    public struct Options: Sendable {
        /// Iteration cap (each iteration is one accepted or rejected trust-region step sequence).
        public var maxIterations: Int = 200
        /// Step tolerance: converged when |δθⱼ| ≤ xtol·(|θⱼ| + xtol) for all j.
        public var xtol: Double = 1e-8
        /// Gradient tolerance: converged when maxⱼ |gⱼ|·max(|θⱼ|, 1) / max(χ²/2, 1) ≤ gtol,
        /// g = JᵀWf (GSL's scaled gradient test).
        public var gtol: Double = 1e-8
        /// Residual-change tolerance (0 disables it, as in GSL's example).
        public var ftol: Double = 0
        /// Central instead of forward differences for a missing Jacobian (2× the evaluations).
        public var centralDifferences: Bool = false
        /// Relative finite-difference step h (GSL default √ε).
        public var finiteDifferenceStep: Double = Double.ulpOfOne.squareRoot()

        public init() {}
    }

    /// Why the iteration stopped.
    public enum Termination: Sendable, Equatable {
        /// The step became smaller than `xtol` (GSL `info = 1`).
        case smallStep
        /// The scaled gradient became smaller than `gtol` (GSL `info = 2`).
        case smallGradient
        /// The residual change became smaller than `ftol`.
        case smallResidualChange
        /// `maxIterations` reached without meeting a tolerance.
        case maxIterations
        /// GSL found no step that reduces χ² from the starting point (`GSL_ENOPROG` on the first iteration).
        case noProgress

        /// True for the three tolerance-met cases.
        public var converged: Bool { self == .smallStep || self == .smallGradient || self == .smallResidualChange }
    }

    /// The outcome of a fit.
    public struct Result: Sendable {
        /// Best-fit parameters θ̂.
        public let parameters: [Double]
        /// (JᵀWJ)⁻¹·χ²/dof at θ̂ (unscaled when dof = 0).
        public let covariance: Matrix<Double>
        /// (JᵀWJ)⁻¹ at θ̂.
        public let unscaledCovariance: Matrix<Double>
        /// √diag(covariance).
        public let standardErrors: [Double]
        /// χ² = Σ wᵢ fᵢ(θ̂)².
        public let chiSquared: Double
        /// n − p.
        public let degreesOfFreedom: Int
        /// Iterations performed.
        public let iterations: Int
        /// Why the iteration stopped; `termination.converged` is the convergence flag.
        public let termination: Termination
        /// Reciprocal condition number of √W·J at θ̂ (`gsl_multifit_nlinear_rcond`).
        public let reciprocalConditionNumber: Double
        /// Residual and Jacobian evaluations made by GSL (finite-difference evaluations count as residuals).
        public let residualEvaluations: Int, jacobianEvaluations: Int
    }

    /// Fits θ starting from `initial`; see the type's documentation for the model contract.
    ///
    /// - Parameters:
    ///   - initial: starting guess θ₀ (finite, non-empty).
    ///   - weights: wᵢ ≥ 0, one per residual (e.g. 1/σᵢ²); nil means all 1.
    ///   - residuals: θ ↦ f(θ), always the same length n ≥ p.
    ///   - jacobian: θ ↦ J(θ), n×p; nil for finite differences.
    public static func fit(
        initial: [Double], weights: [Double]? = nil, options: Options = Options(),
        residuals: ([Double]) throws -> [Double],
        jacobian: (([Double]) throws -> Matrix<Double>)? = nil
    ) throws -> Result {
        try Statistics.check(initial, "initial", minCount: 1)
        guard options.maxIterations > 0 else { throw GSLError.invalid("options.maxIterations must be positive") }
        for (name, v) in [("xtol", options.xtol), ("gtol", options.gtol), ("ftol", options.ftol)]
        where !(v.isFinite && v >= 0) {
            throw GSLError.domain("options.\(name) = \(v); must be finite and ≥ 0")
        }
        guard options.finiteDifferenceStep.isFinite, options.finiteDifferenceStep > 0 else {
            throw GSLError.domain("options.finiteDifferenceStep = \(options.finiteDifferenceStep); must be positive")
        }
        let f0 = try residuals(initial)
        guard !f0.isEmpty else { throw GSLError.invalid("residuals(initial) returned no residuals") }
        if let i = f0.firstIndex(where: { !$0.isFinite }) {
            throw GSLError.domain("residuals(initial)[\(i)] is \(f0[i]); the model must be finite at the initial guess")
        }
        if let weights { try Statistics.checkWeights(weights, "weights", count: f0.count) }
        return try withoutActuallyEscaping(residuals) { residuals in
            let model = NonlinearModel(residuals: residuals, jacobian: jacobian, n: f0.count, p: initial.count)
            return try withExtendedLifetime(model) {
                try model.solve(initial: initial, weights: weights, options: options)
            }
        }
    }
}
