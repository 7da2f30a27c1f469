@preconcurrency import CGSL

/// The boxed Swift model handed to GSL's C callbacks through `fdf.params`
/// (`Unmanaged.passUnretained`), so the `@convention(c)` callbacks capture nothing.
/// Lives only for the duration of one `NonlinearLeastSquares.fit` call.
final class NonlinearModel {
    let residuals: ([Double]) throws -> [Double]
    let jacobian: (([Double]) throws -> Matrix<Double>)?
    let n: Int, p: Int
    /// The first error raised inside a callback; GSL only sees `GSL_EBADFUNC`.
    var failure: (any Error)?

    init(
        residuals: @escaping ([Double]) throws -> [Double], jacobian: (([Double]) throws -> Matrix<Double>)?, n: Int,
        p: Int
    ) {
        self.residuals = residuals
        self.jacobian = jacobian
        self.n = n
        self.p = p
    }

    static func read(_ v: UnsafePointer<gsl_vector>) -> [Double] {
        let s = v.pointee
        return (0..<s.size).map { s.data[$0 * s.stride] }
    }

    /// Evaluates the residuals into `out`; a non-success return stops GSL.
    func evaluate(_ x: UnsafePointer<gsl_vector>, _ out: UnsafeMutablePointer<gsl_vector>) -> Int32 {
        guard failure == nil else { return GSLError.Code.badFunction }
        do {
            let theta = Self.read(x)
            let f = try residuals(theta)
            guard f.count == n else {
                throw GSLError(
                    status: GSLError.Code.badFunction,
                    message: "residuals returned \(f.count) values at θ = \(theta), \(n) expected")
            }
            if let i = f.firstIndex(where: { !$0.isFinite }) {
                throw GSLError(status: GSLError.Code.badFunction, message: "residuals[\(i)] is \(f[i]) at θ = \(theta)")
            }
            let o = out.pointee
            for i in 0..<n { o.data[i * o.stride] = f[i] }
            return Int32(GSL_SUCCESS)
        } catch {
            failure = error
            return GSLError.Code.badFunction
        }
    }

    /// Evaluates the Jacobian into `out` (n×p).
    func evaluateJacobian(_ x: UnsafePointer<gsl_vector>, _ out: UnsafeMutablePointer<gsl_matrix>) -> Int32 {
        guard failure == nil, let jacobian else { return GSLError.Code.badFunction }
        do {
            let theta = Self.read(x)
            let j = try jacobian(theta)
            guard j.rows == n, j.columns == p else {
                throw GSLError(
                    status: GSLError.Code.badFunction,
                    message: "jacobian returned a \(j.rows)×\(j.columns) matrix, \(n)×\(p) expected")
            }
            if let i = j.elements.firstIndex(where: { !$0.isFinite }) {
                throw GSLError(
                    status: GSLError.Code.badFunction,
                    message: "jacobian[\(i / p), \(i % p)] is \(j.elements[i]) at θ = \(theta)")
            }
            let o = out.pointee
            for r in 0..<n {
                for c in 0..<p { o.data[r * o.tda + c] = j.elements[r * p + c] }
            }
            return Int32(GSL_SUCCESS)
        } catch {
            failure = error
            return GSLError.Code.badFunction
        }
    }

    /// Runs the trust-region iteration (the loop of `gsl_multifit_nlinear_driver`, written out
    /// so that a failing callback stops it at once).
    func solve(
        initial: [Double], weights: [Double]?, options: NonlinearLeastSquares.Options
    ) throws
        -> NonlinearLeastSquares.Result
    {
        GSL.configure()
        var params = gsl_multifit_nlinear_default_parameters()
        params.trs = gsl_multifit_nlinear_trs_lm
        params.scale = gsl_multifit_nlinear_scale_more
        params.solver = gsl_multifit_nlinear_solver_qr
        params.fdtype = options.centralDifferences ? GSL_MULTIFIT_NLINEAR_CTRDIFF : GSL_MULTIFIT_NLINEAR_FWDIFF
        params.h_df = options.finiteDifferenceStep
        // GSL rejects n < p here itself (GSL_ERROR_NULL "insufficient data points, n < p"),
        // which would abort() without GSL.configure().
        guard let w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, n, p) else {
            throw GSLError(
                status: n < p ? GSLError.Code.invalid : GSLError.Code.noMemory,
                message: "residuals: gsl_multifit_nlinear_alloc(n: \(n), p: \(p)) failed"
                    + (n < p ? "; only \(n) residual(s) for \(p) parameters, at least \(p) are needed" : ""))
        }
        defer { gsl_multifit_nlinear_free(w) }

        let f:
            @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?)
                -> Int32 = { x, context, out in
                    guard let x, let context, let out else { return GSLError.Code.badFunction }
                    return Unmanaged<NonlinearModel>.fromOpaque(context).takeUnretainedValue().evaluate(x, out)
                }
        let df:
            @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_matrix>?)
                -> Int32 = { x, context, out in
                    guard let x, let context, let out else { return GSLError.Code.badFunction }
                    return Unmanaged<NonlinearModel>.fromOpaque(context).takeUnretainedValue().evaluateJacobian(x, out)
                }
        var fdf = gsl_multifit_nlinear_fdf(
            f: f, df: jacobian == nil ? nil : df, fvv: nil, n: n, p: p,
            params: Unmanaged.passUnretained(self).toOpaque(), nevalf: 0, nevaldf: 0, nevalfvv: 0)

        return try withUnsafeMutablePointer(to: &fdf) { fdf in
            let x0 = try GSLVector(initial)
            if let weights {
                let gw = try GSLVector(weights)
                try check(gsl_multifit_nlinear_winit(x0.pointer, gw.pointer, fdf, w), "gsl_multifit_nlinear_winit")
            } else {
                try check(gsl_multifit_nlinear_init(x0.pointer, fdf, w), "gsl_multifit_nlinear_init")
            }
            var iterations = 0
            var info: Int32 = 0
            var termination = NonlinearLeastSquares.Termination.maxIterations
            while iterations < options.maxIterations {
                let status = gsl_multifit_nlinear_iterate(w)
                if let failure { throw failure }
                if status == Int32(GSL_ENOPROG) && iterations == 0 {
                    termination = .noProgress
                    break
                }
                // Later GSL_ENOPROG: a good step was found before and mu has been reset; go on (as GSL's driver).
                if status != Int32(GSL_SUCCESS) && status != Int32(GSL_ENOPROG) {
                    try check(status, "gsl_multifit_nlinear_iterate (iteration \(iterations + 1))")
                }
                iterations += 1
                let test = gsl_multifit_nlinear_test(options.xtol, options.gtol, options.ftol, &info, w)
                if test == Int32(GSL_SUCCESS) {
                    termination = info == 1 ? .smallStep : info == 2 ? .smallGradient : .smallResidualChange
                    break
                }
                if test != Int32(GSL_CONTINUE) { try check(test, "gsl_multifit_nlinear_test") }
            }
            if termination == .noProgress,
                gsl_multifit_nlinear_test(options.xtol, options.gtol, options.ftol, &info, w) == Int32(GSL_SUCCESS)
            {
                // Already at a stationary point: the start was the solution.
                termination = info == 2 ? .smallGradient : .smallStep
            }
            return try result(w, fdf, iterations: iterations, termination: termination)
        }
    }

    private func check(_ status: Int32, _ call: String) throws {
        if let failure { throw failure }
        try GSL.check(status, "residuals: \(call)")
    }

    private func result(
        _ w: UnsafeMutablePointer<gsl_multifit_nlinear_workspace>,
        _ fdf: UnsafeMutablePointer<gsl_multifit_nlinear_fdf>,
        iterations: Int, termination: NonlinearLeastSquares.Termination
    ) throws -> NonlinearLeastSquares.Result {
        let theta = Self.read(gsl_multifit_nlinear_position(w))
        let fw = Self.read(gsl_multifit_nlinear_residual(w))  // √W·f
        let chisq = fw.reduce(0) { $0 + $1 * $1 }
        // Columns of √W·J with |R_kk| ≤ epsrel·|R_11| in a pivoted QR count as linearly
        // dependent; GSL zeroes their rows/columns of the covariance, detected below.
        let epsrel = Double(Swift.max(n, p)) * Double.ulpOfOne
        let covar = try GSLMatrix(rows: p, columns: p)
        try GSL.check(
            gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), epsrel, covar.pointer),
            "jacobian: gsl_multifit_nlinear_covar")
        let unscaled = covar.matrix
        var rcond = 0.0
        try GSL.check(gsl_multifit_nlinear_rcond(&rcond, w), "gsl_multifit_nlinear_rcond")
        if let j = unscaled.diagonal.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw GSLError(
                status: GSLError.Code.singular,
                message: "jacobian: JᵀWJ is singular at θ = \(theta): parameter \(j) is not determined by the "
                    + "residuals (it has no effect, or duplicates another); fix it or reparametrise")
        }
        let dof = n - p
        let factor = dof > 0 ? chisq / Double(dof) : 1
        let scaled = Matrix(unchecked: p, p, unscaled.elements.map { $0 * factor })
        return NonlinearLeastSquares.Result(
            parameters: theta, covariance: scaled, unscaledCovariance: unscaled,
            standardErrors: scaled.diagonal.map { Swift.max($0, 0).squareRoot() }, chiSquared: chisq,
            degreesOfFreedom: dof, iterations: iterations, termination: termination, reciprocalConditionNumber: rcond,
            residualEvaluations: fdf.pointee.nevalf, jacobianEvaluations: fdf.pointee.nevaldf)
    }
}
