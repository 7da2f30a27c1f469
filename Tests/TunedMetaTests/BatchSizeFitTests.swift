import Foundation
import TunedWorkloads
import Testing

@testable import TunedMeta

@Suite struct BatchSizeFitTests {
    /// S = 1000·(1 + 256/B) with ±1% deterministic multiplicative noise.
    @Test func theFitRecoversSyntheticParametersWithinTwoPercent() throws {
        let sMin = 1000.0, bCrit = 256.0
        let batches = [8.0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
        let points = batches.enumerated().map { i, b in
            BatchSizeFit.Point(batchSize: b, steps: sMin * (1 + bCrit / b) * (i % 2 == 0 ? 1.01 : 0.99))
        }
        let fit = try BatchSizeFit.fit(points)
        #expect(abs(fit.criticalBatchSize.value / bCrit - 1) < 0.02)
        #expect(abs(fit.minimumSteps.value / sMin - 1) < 0.02)
        #expect(abs(fit.minimumExamples.value / (sMin * bCrit) - 1) < 0.02)
        #expect(fit.criticalBatchSize.low < bCrit && bCrit < fit.criticalBatchSize.high)
        #expect(fit.rSquared > 0.99)
        #expect(fit.rmsRelativeError < 0.011)
    }

    @Test func exactDataIsFitExactly() throws {
        let points = [4.0, 32, 256, 2048].map { BatchSizeFit.Point(batchSize: $0, steps: 50 * (1 + 100 / $0)) }
        let fit = try BatchSizeFit.fit(points)
        #expect(abs(fit.criticalBatchSize.value - 100) < 1e-6)
        #expect(abs(fit.steps(at: 100) - 100) < 1e-6)
        #expect(abs(fit.examples(at: 100) - 2 * 5000) < 1e-4)
    }

    @Test func tooFewPointsOrBadStepsAreClearErrors() {
        #expect(throws: BatchSizeFit.FitError.self) {
            try BatchSizeFit.fit([.init(batchSize: 8, steps: 10), .init(batchSize: 16, steps: 8)])
        }
        #expect(throws: BatchSizeFit.FitError.self) {
            try BatchSizeFit.fit([.init(batchSize: 8, steps: 10), .init(batchSize: 16, steps: -1), .init(batchSize: 32, steps: 4)])
        }
    }

    /// On the noisy quadratic model with SGD tuned per batch size, B_crit from the sweep is
    /// within 2× of the closed-form B_noise = tr(HΣ)/(GᵀHG) where the target is reached.
    @Test func onTheNoisyQuadraticTheFittedCriticalBatchIsWithinTwiceTheClosedForm() throws {
        let nqm = try NoisyQuadratic<Double>(dimension: 100)
        let target = 0.1 * nqm.loss(nqm.start)
        let rates = (0..<40).map { pow(10, -3 + 3.3 * Double($0) / 39) }  // 1e-3 … 2
        var points: [BatchSizeFit.Point] = []
        for b in [1.0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] {
            let best = try #require(NoisyQuadraticSweep.bestSteps(nqm, batchSize: b, target: target, rates: rates, maxSteps: 200_000))
            points.append(.init(batchSize: b, steps: Double(best.steps)))
        }
        let fit = try BatchSizeFit.fit(points)
        // Closed form at the point where the (large-batch) mean path reaches the target.
        let big = try #require(NoisyQuadraticSweep.bestSteps(nqm, batchSize: 1e9, target: target, rates: rates, maxSteps: 200_000))
        let theta = NoisyQuadraticSweep.meanAtTarget(nqm, learningRate: big.learningRate, steps: big.steps)
        let bNoise = try #require(nqm.noiseScale(theta))
        let ratio = fit.criticalBatchSize.value / bNoise
        print("NQM sweep: B_crit \(fit.criticalBatchSize.value), closed-form B_noise \(bNoise), B_simple \(nqm.simpleNoiseScale(theta) ?? .nan), ratio \(ratio), R² \(fit.rSquared)")
        #expect(ratio > 0.5 && ratio < 2)
    }
}
