import Foundation
import Testing
import TunedMath

@Suite struct NonlinearLeastSquaresTests {
    /// Critical-batch-size data: S(B) = S_min·(1 + B_crit/B), true S_min = 2.5, B_crit = 300,
    /// 2 % multiplicative Gaussian noise from a fixed seed.
    static let batch = (0..<20).map { 4 * pow(1.6, Double($0)) }
    static let steps: [Double] = {
        let rng = RandomSource(seed: 2024)
        return batch.map { 2.5 * (1 + 300 / $0) * (1 + (try! rng.normal(standardDeviation: 0.02))) }
    }()

    static func residuals(_ t: [Double]) -> [Double] {
        (0..<batch.count).map { (i: Int) -> Double in t[0] * (1 + t[1] / batch[i]) - steps[i] }
    }
    static func jacobian(_ t: [Double]) throws -> Matrix<Double> {
        try Matrix(batch.map { [1 + t[1] / $0, t[0] / $0] })
    }

    @Test func criticalBatchSizeFormRecoversParametersWithinTheirConfidenceIntervals() throws {
        let fit = try NonlinearLeastSquares.fit(initial: [1, 100], residuals: Self.residuals, jacobian: Self.jacobian)
        #expect(fit.termination.converged)
        #expect(fit.iterations > 0 && fit.iterations < 50)
        #expect(fit.degreesOfFreedom == 18)
        #expect(
            abs(fit.parameters[0] - 2.5) < 3 * fit.standardErrors[0],
            "a = \(fit.parameters[0]) ± \(fit.standardErrors[0])")
        #expect(
            abs(fit.parameters[1] - 300) < 3 * fit.standardErrors[1],
            "b = \(fit.parameters[1]) ± \(fit.standardErrors[1])")
        #expect(fit.standardErrors.allSatisfy { $0 > 0 })
    }

    /// S = a + (a·b)/B is linear in (c₀, c₁) = (a, a·b), so the nonlinear optimum is
    /// â = c₀, b̂ = c₁/c₀ of the linear fit on [1, 1/B], and the covariances are related
    /// exactly by the delta method with M = ∂(c₀, c₁)/∂(a, b) = [[1, 0], [b, a]].
    @Test func criticalBatchSizeFitAgreesWithTheEquivalentLinearFit() throws {
        let fit = try NonlinearLeastSquares.fit(initial: [1, 100], residuals: Self.residuals, jacobian: Self.jacobian)
        let lin = try LinearLeastSquares.fit(X: Matrix(Self.batch.map { [1, 1 / $0] }), y: Self.steps)
        let (c0, c1) = (lin.coefficients[0], lin.coefficients[1])
        let expected: [Double] = [c0, c1 / c0]
        expectClose(fit.parameters, expected, tol: 1e-6)
        expectClose(fit.chiSquared, lin.chiSquared, tol: 1e-9)
        let (a, b) = (fit.parameters[0], fit.parameters[1])
        let v = lin.covariance
        let numerator: Double = b * b * v[0, 0] - 2 * b * v[0, 1] + v[1, 1]
        let varB = numerator / (a * a)
        expectClose(fit.covariance[0, 0], v[0, 0], tol: 1e-5)
        expectClose(fit.covariance[1, 1], varB, tol: 1e-5)
    }

    @Test func finiteDifferenceJacobianGivesTheSameFit() throws {
        let analytic = try NonlinearLeastSquares.fit(
            initial: [1, 100], residuals: Self.residuals, jacobian: Self.jacobian)
        let numeric = try NonlinearLeastSquares.fit(initial: [1, 100], residuals: Self.residuals)
        #expect(numeric.termination.converged)
        #expect(numeric.jacobianEvaluations == 0 && numeric.residualEvaluations > analytic.residualEvaluations)
        expectClose(numeric.parameters, analytic.parameters, tol: 1e-6)
        expectClose(numeric.standardErrors, analytic.standardErrors, tol: 1e-4)
    }

    /// GSL's documented example: y = A·e^(−λt) + b, A = 5, λ = 1.5, b = 1, σ = 0.1, n = 100.
    @Test func weightedExponentialDecayRecoversTruthWithChiSquaredNearDof() throws {
        let n = 100, sigma = 0.1
        let t = (0..<n).map { Double($0) * 3 / Double(n - 1) }
        let rng = RandomSource(seed: 99)
        let y = t.map { 5 * exp(-1.5 * $0) + 1 + (try! rng.normal(standardDeviation: sigma)) }
        let weights = [Double](repeating: 1 / (sigma * sigma), count: n)
        let truth = [5, 1.5, 1.0]
        for useJacobian in [true, false] {
            let jac: (([Double]) throws -> Matrix<Double>)? =
                useJacobian ? { p in try Matrix(t.map { [exp(-p[1] * $0), -$0 * p[0] * exp(-p[1] * $0), 1] }) } : nil
            let fit = try NonlinearLeastSquares.fit(
                initial: [1, 1, 0], weights: weights,
                residuals: { p in zip(t, y).map { p[0] * exp(-p[1] * $0.0) + p[2] - $0.1 } }, jacobian: jac)
            #expect(fit.termination.converged)
            let reduced = fit.chiSquared / Double(fit.degreesOfFreedom)
            #expect(reduced > 0.6 && reduced < 1.5, "χ²/dof = \(reduced)")
            for j in 0..<3 {
                // σ known: use the unscaled covariance.
                let se = fit.unscaledCovariance[j, j].squareRoot()
                #expect(abs(fit.parameters[j] - truth[j]) < 3 * se, "θ[\(j)] = \(fit.parameters[j]) ± \(se)")
            }
        }
    }

    @Test func exactStartIsReportedAsConvergedNotAnError() throws {
        let x: [Double] = [1, 2, 3, 4]
        let fit = try NonlinearLeastSquares.fit(initial: [2, 1]) { p in x.map { p[0] * $0 + p[1] - (2 * $0 + 1) } }
        #expect(fit.termination.converged, "\(fit.termination)")
        expectClose(fit.parameters, [2, 1], tol: 1e-12)
    }

    @Test func iterationCapIsReportedInTheResult() throws {
        var opts = NonlinearLeastSquares.Options()
        opts.maxIterations = 1
        let fit = try NonlinearLeastSquares.fit(initial: [1, 100], options: opts, residuals: Self.residuals)
        #expect(fit.termination == .maxIterations && !fit.termination.converged && fit.iterations == 1)
    }

    struct ModelFailure: Error, Equatable {}

    @Test func badInputAndBadModelsThrowNamingTheArgument() throws {
        expectGSLError("initial[1] is nan") {
            _ = try NonlinearLeastSquares.fit(initial: [1, .nan], residuals: Self.residuals)
        }
        expectGSLError("initial is empty") { _ = try NonlinearLeastSquares.fit(initial: [], residuals: Self.residuals) }
        expectGSLError("weights has 3 values") {
            _ = try NonlinearLeastSquares.fit(initial: [1, 1], weights: [1, 1, 1], residuals: Self.residuals)
        }
        expectGSLError("residuals(initial)[0] is inf") {
            _ = try NonlinearLeastSquares.fit(initial: [1, 0]) { p in [1 / p[1], 1, 1] }
        }
        var calls = 0
        expectGSLError("residuals returned 2 values", status: GSLError.Code.badFunction) {
            _ = try NonlinearLeastSquares.fit(initial: [1, 100]) { p in
                calls += 1
                return calls > 3 ? [1, 2] : Self.residuals(p)
            }
        }
        expectGSLError("jacobian returned a 1×2 matrix", status: GSLError.Code.badFunction) {
            _ = try NonlinearLeastSquares.fit(initial: [1, 100], residuals: Self.residuals) { _ in try Matrix([[1, 2]])
            }
        }
        #expect(throws: ModelFailure()) {
            var n = 0
            _ = try NonlinearLeastSquares.fit(initial: [1, 100]) { p in
                n += 1
                if n > 2 { throw ModelFailure() }
                return Self.residuals(p)
            }
        }
        // θ[1] never enters the residuals: JᵀJ is singular.
        expectGSLError("parameter 1 is not determined", status: GSLError.Code.singular) {
            _ = try NonlinearLeastSquares.fit(initial: [1, 1]) { p in Self.batch.map { p[0] * $0 - 3 * $0 } }
        }
        var opts = NonlinearLeastSquares.Options()
        opts.xtol = -1
        expectGSLError("options.xtol") {
            _ = try NonlinearLeastSquares.fit(initial: [1], options: opts) { p in [p[0]] }
        }
    }

    /// n < p is rejected by GSL itself (`gsl_multifit_nlinear_alloc` raises GSL_ERROR_NULL,
    /// which calls `abort()` under GSL's default handler): reaching the `catch` proves the
    /// handler is off and the status became a `GSLError`.
    @Test func gslErrorInsideGSLBecomesAThrownErrorNotAnAbort() {
        expectGSLError("only 1 residual(s) for 2 parameters", status: GSLError.Code.invalid) {
            _ = try NonlinearLeastSquares.fit(initial: [1, 2]) { p in [p[0] + p[1] - 3] }
        }
    }
}
