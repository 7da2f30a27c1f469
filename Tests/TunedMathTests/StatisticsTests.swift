import Testing
import TunedMath

/// Reference values computed once with numpy 1.x/2.x (`np.mean`, `np.var(ddof=1)`,
/// `np.std(ddof=1)`, `np.quantile` (linear), `np.median`, `np.corrcoef`, `np.average(weights=)`)
/// and hard-coded here.
@Suite struct StatisticsTests {
    let data: [Double] = [2.5, 1.0, 4.0, 3.5, 7.25, -1.5, 0.0, 10.0, 5.5]
    let other: [Double] = [1.0, 0.5, 2.0, 2.5, 3.0, -1.0, 0.25, 4.0, 2.0]
    let weights: [Double] = [1, 2, 0.5, 1, 3, 1, 0, 2, 1.5]

    @Test func momentsMatchNumpy() throws {
        expectClose(try Statistics.mean(data), 3.5833333333333335, tol: 1e-14)
        expectClose(try Statistics.variance(data), 13.125, tol: 1e-14)
        expectClose(try Statistics.standardDeviation(data), 3.6228441865473595, tol: 1e-14)
        expectClose(try Statistics.correlation(data, other), 0.961314082408863, tol: 1e-13)
        expectClose(try Statistics.weightedMean(data, weights: weights), 4.875, tol: 1e-14)
    }

    @Test(arguments: [
        (0.0, -1.5), (0.1, -0.29999999999999993), (0.25, 1.0), (0.5, 3.5), (0.9, 7.800000000000001), (1.0, 10.0),
    ])
    func quantilesInterpolateLinearlyLikeNumpy(p: Double, expected: Double) throws {
        expectClose(try Statistics.quantile(data, p), expected, tol: 1e-14)
    }

    @Test func medianMinMaxAndBatchQuantiles() throws {
        #expect(try Statistics.median(data) == 3.5)
        #expect(try Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(try Statistics.min(data) == -1.5)
        #expect(try Statistics.max(data) == 10)
        let mm = try Statistics.minMax(data)
        #expect(mm.min == -1.5 && mm.max == 10)
        expectClose(try Statistics.quantiles(data, [0.25, 0.9]), [1.0, 7.8], tol: 1e-14)
        #expect(data.first == 2.5, "input must not be sorted in place")
    }

    @Test func badInputThrowsNamingTheArgument() {
        expectGSLError("data is empty", status: GSLError.Code.invalid) { _ = try Statistics.mean([]) }
        expectGSLError("data has 1 value", status: GSLError.Code.invalid) { _ = try Statistics.variance([1]) }
        expectGSLError("data[1] is nan", status: GSLError.Code.domain) { _ = try Statistics.median([1, .nan]) }
        expectGSLError("data[0] is inf") { _ = try Statistics.max([.infinity]) }
        expectGSLError("p = 1.5", status: GSLError.Code.domain) { _ = try Statistics.quantile([1, 2], 1.5) }
        expectGSLError("p[1] = nan") { _ = try Statistics.quantiles([1, 2], [0.5, .nan]) }
        expectGSLError("y has 2", status: GSLError.Code.badLength) {
            _ = try Statistics.correlation([1, 2, 3], [1, 2])
        }
        expectGSLError("x is constant") { _ = try Statistics.correlation([1, 1, 1], [1, 2, 3]) }
        expectGSLError("weights[1] is -1.0") { _ = try Statistics.weightedMean([1, 2], weights: [1, -1]) }
        expectGSLError("weights has 1") { _ = try Statistics.weightedMean([1, 2], weights: [1]) }
        expectGSLError("weights are all zero") { _ = try Statistics.weightedMean([1, 2], weights: [0, 0]) }
    }
}
