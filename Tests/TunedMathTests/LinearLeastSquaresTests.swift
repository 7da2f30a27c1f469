import Testing
import TunedMath

/// Reference values computed once with numpy (`np.linalg.lstsq`, normal equations
/// `solve(XᵀWX + λ²I, XᵀWy)`, covariance formulas from the `LinearLeastSquares` docs, and
/// the GCV function ‖y − Hy‖²/(n − tr H)² from the explicit hat matrix) and hard-coded.
@Suite struct LinearLeastSquaresTests {
    static let xs = (0..<12).map(Double.init)
    static let y: [Double] = [1.3, 2.2, 3.9, 4.1, 6.2, 5.8, 7.9, 8.1, 9.7, 9.6, 12.1, 11.8]
    static let w: [Double] = [1, 2, 1, 0.5, 1, 3, 1, 1, 2, 1, 0.5, 1]
    static let X = try! Matrix<Double>(xs.map { [1, $0, $0 * $0 / 10] })

    @Test func ordinaryFitMatchesNumpy() throws {
        let fit = try LinearLeastSquares.fit(X: Self.X, y: Self.y)
        expectClose(fit.coefficients, [1.3304945054945108, 1.0825424575424563, -0.09315684315684303], tol: 1e-12)
        expectClose(fit.chiSquared, 3.136540959040958, tol: 1e-12)
        expectClose(fit.residualSumOfSquares, 3.136540959040958, tol: 1e-12)
        expectClose(fit.rSquared ?? .nan, 0.977693197154944, tol: 1e-12)
        expectClose(
            fit.covariance.elements,
            [
                0.19052858695029062, -0.06606267587723653, 0.0478715042588671,
                -0.06606267587723655, 0.03403228757312187, -0.02872290255532025,
                0.0478715042588671, -0.02872290255532026, 0.02611172959574568,
            ], tol: 1e-12)
        #expect(fit.degreesOfFreedom == 9 && fit.lambda == 0)
        let r0 = Self.y[0] - fit.coefficients[0]
        expectClose(fit.residuals[0], r0, tol: 1e-14)
    }

    @Test func exactDataIsRecoveredExactly() throws {
        let y = Self.xs.map { 1 + 2 * $0 - 0.5 * $0 * $0 / 10 }
        let fit = try LinearLeastSquares.fit(X: Self.X, y: y)
        expectClose(fit.coefficients, [1, 2, -0.5], tol: 1e-12)
        expectClose(fit.rSquared ?? .nan, 1, tol: 1e-12)
    }

    @Test func weightedFitMatchesNumpyWithUnscaledCovariance() throws {
        let fit = try LinearLeastSquares.fit(X: Self.X, y: Self.y, weights: Self.w)
        expectClose(fit.coefficients, [1.3070170725450037, 1.04056794730923, -0.05630785440334733], tol: 1e-12)
        expectClose(fit.chiSquared, 3.633953090435598, tol: 1e-12)
        expectClose(fit.rSquared ?? .nan, 0.976337754008207, tol: 1e-12)
        expectClose(
            fit.covariance.elements,
            [
                0.4324939856429921, -0.14871274204660823, 0.10920636303643166,
                -0.14871274204660803, 0.07618057807746047, -0.0661868358054991,
                0.10920636303643161, -0.0661868358054991, 0.0627991379556082,
            ], tol: 1e-11)
    }

    @Test func ridgeMatchesClosedFormAndReducesToOrdinaryAtZero() throws {
        let fit = try LinearLeastSquares.fit(X: Self.X, y: Self.y, ridge: 1.5)
        expectClose(fit.coefficients, [0.834915362484091, 1.1618268275000783, -0.1161682713518475], tol: 1e-11)
        expectClose(fit.chiSquared, 3.8542431104805357, tol: 1e-11)
        expectClose(
            fit.covariance.elements,
            [
                0.04080155183432119, -0.00937884691070257, 0.00491469536555873,
                -0.00937884691070251, 0.01212918485599513, -0.01185638047589241,
                0.00491469536555869, -0.01185638047589241, 0.01318731029575615,
            ], tol: 1e-11)
        let weighted = try LinearLeastSquares.fit(X: Self.X, y: Self.y, weights: Self.w, ridge: 1.5)
        expectClose(weighted.coefficients, [0.8640444493044449, 1.1238358937773527, -0.08871817143908019], tol: 1e-11)

        let ols = try LinearLeastSquares.fit(X: Self.X, y: Self.y)
        let zero = try LinearLeastSquares.fit(X: Self.X, y: Self.y, ridge: 0)
        expectClose(zero.coefficients, ols.coefficients, tol: 1e-10)
        expectClose(zero.covariance.elements, ols.covariance.elements, tol: 1e-10)
        let wols = try LinearLeastSquares.fit(X: Self.X, y: Self.y, weights: Self.w)
        let wzero = try LinearLeastSquares.fit(X: Self.X, y: Self.y, weights: Self.w, ridge: 0)
        expectClose(wzero.covariance.elements, wols.covariance.elements, tol: 1e-10)
    }

    @Test func gcvScoresMatchHatMatrixFormulaAndPickTheMinimum() throws {
        let candidates = [0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
        let sel = try LinearLeastSquares.selectRidgeByGCV(X: Self.X, y: Self.y, candidates: candidates)
        expectClose(
            sel.scores,
            [
                0.038722727889393654, 0.03866191365251232, 0.037713460486113265, 0.037751923634760653,
                0.04701726532817569, 0.12356030178315007, 0.24997869366635414,
            ], tol: 1e-10)
        #expect(sel.lambda == 0.5)
        #expect(sel.fit == (try LinearLeastSquares.fit(X: Self.X, y: Self.y, ridge: 0.5)))
    }

    @Test func validationSelectionPicksLowestHeldOutError() throws {
        // Fit on even rows, validate on odd rows; the reference picks by brute force.
        let train = stride(from: 0, to: 12, by: 2), valid = stride(from: 1, to: 12, by: 2)
        let Xt = try Matrix<Double>(train.map { Self.X.row($0) }), yt = train.map { Self.y[$0] }
        func loss(_ c: [Double]) -> Double {
            valid.reduce(0) { acc, i in
                let r = Self.y[i] - zip(Self.X.row(i), c).reduce(0) { $0 + $1.0 * $1.1 }
                return acc + r * r
            }
        }
        let candidates = [0.0, 0.3, 1.0, 3.0]
        let sel = try LinearLeastSquares.selectRidge(X: Xt, y: yt, candidates: candidates) { loss($0.coefficients) }
        let brute = try candidates.map { try loss(LinearLeastSquares.fit(X: Xt, y: yt, ridge: $0).coefficients) }
        #expect(sel.scores == brute)
        #expect(sel.lambda == candidates[brute.firstIndex(of: brute.min()!)!])
    }

    @Test func singularDesignThrowsSingularUnlessRidged() throws {
        // Third column = 2 × second: rank 2. GSL alone would return a truncated solution.
        let X = try Matrix<Double>(Self.xs.map { [1, $0, 2 * $0] })
        expectGSLError("X: columns are linearly dependent", status: GSLError.Code.singular) {
            _ = try LinearLeastSquares.fit(X: X, y: Self.y)
        }
        expectGSLError("X: columns are linearly dependent", status: GSLError.Code.singular) {
            _ = try LinearLeastSquares.fit(X: X, y: Self.y, ridge: 0)
        }
        let ridged = try LinearLeastSquares.fit(X: X, y: Self.y, ridge: 0.1)
        #expect(ridged.coefficients.allSatisfy { $0.isFinite })
        // Ridge splits the effect evenly between the collinear columns in the ratio 1:2.
        expectClose(ridged.coefficients[2], 2 * ridged.coefficients[1], tol: 1e-8)
    }

    @Test func badInputThrowsNamingTheArgument() throws {
        expectGSLError("y has 3 values but X has 12 rows", status: GSLError.Code.badLength) {
            _ = try LinearLeastSquares.fit(X: Self.X, y: [1, 2, 3])
        }
        expectGSLError("y[2] is nan") {
            var y = Self.y
            y[2] = .nan
            _ = try LinearLeastSquares.fit(X: Self.X, y: y)
        }
        expectGSLError("X[1, 2] is inf") {
            var rows = (0..<12).map { Self.X.row($0) }
            rows[1][2] = .infinity
            _ = try LinearLeastSquares.fit(X: Matrix(rows), y: Self.y)
        }
        expectGSLError("weights[3] is -1.0") {
            var w = Self.w
            w[3] = -1
            _ = try LinearLeastSquares.fit(X: Self.X, y: Self.y, weights: w)
        }
        expectGSLError("ridge: λ = -1.0") { _ = try LinearLeastSquares.fit(X: Self.X, y: Self.y, ridge: -1) }
        expectGSLError("X has 3 columns but only 3 observations") {
            _ = try LinearLeastSquares.fit(X: Matrix([[1, 0, 0], [1, 1, 1], [1, 2, 4]]), y: [1, 2, 3], ridge: 1)
        }
        expectGSLError("only 2 observations with positive weight") {
            _ = try LinearLeastSquares.fit(X: Matrix([[1, 0], [1, 1], [1, 2]]), y: [1, 2, 3], weights: [1, 0, 1])
        }
        expectGSLError("candidates is empty") {
            _ = try LinearLeastSquares.selectRidgeByGCV(X: Self.X, y: Self.y, candidates: [])
        }
        expectGSLError("candidates[1] = nan") {
            _ = try LinearLeastSquares.selectRidgeByGCV(X: Self.X, y: Self.y, candidates: [1, .nan])
        }
        expectGSLError("validationLoss returned nan") {
            _ = try LinearLeastSquares.selectRidge(X: Self.X, y: Self.y, candidates: [1]) { _ in .nan }
        }
    }

    @Test func constantResponseHasNoRSquared() throws {
        let fit = try LinearLeastSquares.fit(X: Self.X, y: [Double](repeating: 2, count: 12))
        #expect(fit.rSquared == nil)
        expectClose(fit.coefficients, [2, 0, 0], tol: 1e-12)
    }
}
