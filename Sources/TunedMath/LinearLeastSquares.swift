@preconcurrency import CGSL

/// Linear least squares y ≈ X·c through GSL's `gsl_multifit` (GSL manual §41): ordinary,
/// weighted, and ridge (Tikhonov) regression, plus a choice of the ridge parameter.
///
/// - Ordinary: minimise ‖y − Xc‖² (`gsl_multifit_linear`).
/// - Weighted: minimise Σ wᵢ(yᵢ − (Xc)ᵢ)² (`gsl_multifit_wlinear`); wᵢ = 1/σᵢ² for known errors.
/// - Ridge: minimise Σ wᵢ(yᵢ − (Xc)ᵢ)² + λ²‖c‖² (`gsl_multifit_linear_svd` on √W·X, then
///   `gsl_multifit_linear_solve(λ, …)`). Note GSL's λ is squared in the penalty.
///
/// Inputs are validated first (X, y, weights finite; shapes agree; more observations with
/// positive weight than columns; λ ≥ 0), so errors name the argument. An unregularised fit
/// (or λ = 0) of a rank-deficient X throws `GSLError.Code.singular`: GSL would otherwise
/// silently return a truncated-SVD solution.
///
/// R² = 1 − χ²/TSS with TSS = Σwᵢ(yᵢ − ȳ_w)² (`gsl_stats_wtss`) is only meaningful when X
/// has an intercept column; it is `nil` when y is constant.
public enum LinearLeastSquares {
    /// The result of a fit.
    public struct Fit: Sendable, Equatable {
        /// Best-fit coefficients c (length p).
        public let coefficients: [Double]
        /// p×p covariance of the coefficients.
        ///
        /// - Unweighted: σ̂²(XᵀX)⁻¹ with σ̂² = χ²/(n − p) (scatter about the fit; GSL's convention).
        /// - Weighted: (XᵀWX)⁻¹, not rescaled: the weights are taken as 1/σᵢ² (GSL's convention).
        /// - Ridge: s²·(AᵀA + λ²I)⁻¹AᵀA(AᵀA + λ²I)⁻¹ with A = √W·X, from the SVD A = USVᵀ as
        ///   s²·V·diag(sₖ²/(sₖ² + λ²)²)·Vᵀ; s² = χ²/(n − p) unweighted, 1 weighted. At λ = 0 this
        ///   equals the unregularised covariance.
        public let covariance: Matrix<Double>
        /// χ² = Σ wᵢ rᵢ² (= residual sum of squares when unweighted), rᵢ = yᵢ − (Xc)ᵢ.
        public let chiSquared: Double
        /// Unweighted residual sum of squares Σ rᵢ².
        public let residualSumOfSquares: Double
        /// Residuals rᵢ = yᵢ − (Xc)ᵢ (unweighted).
        public let residuals: [Double]
        /// 1 − χ²/TSS (weighted TSS when weighted); `nil` if TSS = 0 (constant y).
        public let rSquared: Double?
        /// Observations with positive weight minus the number of coefficients.
        public let degreesOfFreedom: Int
        /// The ridge parameter used (0 for an unregularised fit).
        public let lambda: Double
        /// Reciprocal condition number s_min/s_max of √W·X (`gsl_multifit_linear_rcond`).
        public let reciprocalConditionNumber: Double
    }

    /// Fits y ≈ X·c. `X` is rows×p (row-major), `y` has one value per row, `weights` (if any)
    /// one non-negative weight per row, `ridge` the parameter λ ≥ 0 of the penalty λ²‖c‖².
    ///
    /// Throws `GSLError` naming the argument for bad input, `GSLError.Code.singular` for a
    /// rank-deficient X without ridge, and GSL's own status for a failure inside GSL (for
    /// instance `GSL_EUNIMPL` for an SVD of fewer rows than columns).
    public static func fit(
        X: Matrix<Double>, y: [Double], weights: [Double]? = nil, ridge lambda: Double? = nil
    ) throws -> Fit {
        let problem = try Problem(X: X, y: y, weights: weights)
        if let lambda {
            guard lambda.isFinite, lambda >= 0 else {
                throw GSLError.domain("ridge: λ = \(lambda); must be finite and ≥ 0")
            }
            return try problem.ridge(lambda)
        }
        return try problem.ordinary()
    }

    /// Validated inputs and the standard-form (√W-scaled) system.
    struct Problem {
        let X: Matrix<Double>
        let y: [Double]
        let weights: [Double]?
        let n: Int, p: Int
        /// Rows with positive weight (all rows when unweighted).
        let observations: Int
        var dof: Int { observations - p }

        init(X: Matrix<Double>, y: [Double], weights: [Double]?) throws {
            if let i = X.elements.firstIndex(where: { !$0.isFinite }) {
                throw GSLError.domain(
                    "X[\(i / X.columns), \(i % X.columns)] is \(X.elements[i]); only finite values are allowed")
            }
            guard y.count == X.rows else {
                throw GSLError.badLength("y has \(y.count) values but X has \(X.rows) rows")
            }
            try Statistics.check(y, "y", minCount: 1)
            var observations = X.rows
            if let weights {
                try Statistics.checkWeights(weights, "weights", count: X.rows)
                observations = weights.lazy.filter { $0 > 0 }.count
            }
            guard observations > X.columns else {
                throw GSLError.invalid(
                    "X has \(X.columns) columns but only \(observations) observations with positive weight; "
                        + "more observations than columns are needed")
            }
            self.X = X
            self.y = y
            self.weights = weights
            self.n = X.rows
            self.p = X.columns
            self.observations = observations
        }

        /// Singular when s_min/s_max ≤ max(n, p)·ε (numpy's `matrix_rank` tolerance).
        var singularThreshold: Double { Double(Swift.max(n, p)) * Double.ulpOfOne }

        func ordinary() throws -> Fit {
            GSL.configure()
            guard let work = gsl_multifit_linear_alloc(n, p) else {
                throw GSLError.noMemory("gsl_multifit_linear_alloc")
            }
            defer { gsl_multifit_linear_free(work) }
            let gx = try GSLMatrix(X), gy = try GSLVector(y)
            let c = try GSLVector(count: p), cov = try GSLMatrix(rows: p, columns: p)
            var chisq = 0.0
            if let weights {
                let gw = try GSLVector(weights)
                try GSL.check(
                    gsl_multifit_wlinear(gx.pointer, gw.pointer, gy.pointer, c.pointer, cov.pointer, &chisq, work),
                    "X: gsl_multifit_wlinear")
            } else {
                try GSL.check(
                    gsl_multifit_linear(gx.pointer, gy.pointer, c.pointer, cov.pointer, &chisq, work),
                    "X: gsl_multifit_linear")
            }
            let rcond = gsl_multifit_linear_rcond(work)
            try checkRank(rcond)
            return try result(coefficients: c.array, covariance: cov.matrix, chiSquared: chisq, lambda: 0, rcond: rcond)
        }

        func checkRank(_ rcond: Double) throws {
            guard rcond > singularThreshold else {
                throw GSLError(
                    status: GSLError.Code.singular,
                    message:
                        "X: columns are linearly dependent\(weights == nil ? "" : " on the positively weighted rows") "
                        + "(reciprocal condition number \(rcond)); drop a column or use ridge: λ > 0")
            }
        }

        /// √W·X and √W·y over the rows with positive weight (`observations` rows; copies of
        /// X and y when unweighted). Zero-weight rows are dropped so that they do not count
        /// as observations in GCV's n − tr H.
        func standardForm() throws -> (GSLMatrix, GSLVector) {
            guard let weights else { return (try GSLMatrix(X), try GSLVector(y)) }
            let a = try GSLMatrix(rows: observations, columns: p), b = try GSLVector(count: observations)
            let ad = a.pointer.pointee.data!, bd = b.pointer.pointee.data!
            var row = 0
            for i in 0..<n where weights[i] > 0 {
                let s = weights[i].squareRoot()
                bd[row] = s * y[i]
                for j in 0..<p { ad[row * p + j] = s * X.elements[i * p + j] }
                row += 1
            }
            return (a, b)
        }

        /// SVD of the standard-form matrix in `work`; returns the standard-form system.
        func decompose(_ work: UnsafeMutablePointer<gsl_multifit_linear_workspace>) throws -> (GSLMatrix, GSLVector) {
            let (a, b) = try standardForm()
            try GSL.check(
                gsl_multifit_linear_svd(a.pointer, work),
                "X (\(observations)×\(p) after weighting): gsl_multifit_linear_svd")
            return (a, b)
        }

        func ridge(_ lambda: Double) throws -> Fit {
            GSL.configure()
            guard let work = gsl_multifit_linear_alloc(observations, p) else {
                throw GSLError.noMemory("gsl_multifit_linear_alloc")
            }
            defer { gsl_multifit_linear_free(work) }
            let (a, b) = try decompose(work)
            let rcond = gsl_multifit_linear_rcond(work)
            if lambda == 0 { try checkRank(rcond) }
            let c = try GSLVector(count: p)
            var rnorm = 0.0, snorm = 0.0
            try GSL.check(
                gsl_multifit_linear_solve(lambda, a.pointer, b.pointer, c.pointer, &rnorm, &snorm, work),
                "ridge: gsl_multifit_linear_solve(λ = \(lambda))")
            let chisq = rnorm * rnorm
            // After gsl_multifit_linear_svd, work->Q holds V and work->S the singular values
            // (GSL multifit/multilinear.c, multifit_linear_svd, "Notes").
            let s = work.pointee.S.pointee, v = work.pointee.Q.pointee
            let scale = weights == nil ? chisq / Double(dof) : 1
            let l2 = lambda * lambda
            let filter = (0..<p).map { k -> Double in
                let sk = s.data[k * s.stride]
                let d = sk * sk + l2
                return sk * sk / (d * d)
            }
            var cov = [Double](repeating: 0, count: p * p)
            for i in 0..<p {
                for j in 0...i {
                    var acc = 0.0
                    for k in 0..<p { acc += v.data[i * v.tda + k] * v.data[j * v.tda + k] * filter[k] }
                    cov[i * p + j] = scale * acc
                    cov[j * p + i] = scale * acc
                }
            }
            return try result(
                coefficients: c.array, covariance: Matrix(unchecked: p, p, cov), chiSquared: chisq,
                lambda: lambda, rcond: rcond)
        }

        func result(
            coefficients: [Double], covariance: Matrix<Double>, chiSquared: Double, lambda: Double,
            rcond: Double
        ) throws -> Fit {
            var residuals = y
            try BLAS.gemv(X, coefficients, alpha: -1, beta: 1, into: &residuals)
            let rss = residuals.reduce(0) { $0 + $1 * $1 }
            let tss = weights.map { gsl_stats_wtss($0, 1, y, 1, n) } ?? gsl_stats_tss(y, 1, n)
            return Fit(
                coefficients: coefficients, covariance: covariance, chiSquared: chiSquared,
                residualSumOfSquares: rss, residuals: residuals, rSquared: tss > 0 ? 1 - chiSquared / tss : nil,
                degreesOfFreedom: dof, lambda: lambda, reciprocalConditionNumber: rcond)
        }
    }
}
