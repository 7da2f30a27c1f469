import Foundation
import TunedOptim
import TunedWorkloads
import Testing

@testable import TunedMeta

@Suite struct StepsToTargetTests {
    @Test func theCrossingIsInterpolatedBetweenEvaluations() {
        let rows = [(step: 0, value: 2.0), (step: 100, value: 1.0), (step: 200, value: 0.5)]
        #expect(StepsToTarget.steps(rows, target: 0.75) == 150)
        #expect(StepsToTarget.steps(rows, target: 2.5) == 0)
        #expect(StepsToTarget.steps(rows, target: 0.1) == nil)
    }

    /// Sampled SGD runs on the NQM (hᵢ = cᵢ = 1/i, d = 100; Philox gradient noise) at several
    /// batch sizes, each with the per-step optimal rate computed from its own θ: the measured
    /// S(B) fits McCandlish's model (R² > 0.9), and B_crit agrees within 2× with the sweep of
    /// the exact expected dynamics (`NoisyQuadraticSweep`).
    @Test func aSweepOfSampledTrainingRunsFitsTheModelOfTheExpectedDynamics() throws {
        let d = 100
        let nqm = try NoisyQuadratic<Double>(dimension: d)
        let h = nqm.curvatures
        let noise = zip(h, nqm.noise).reduce(0) { $0 + $1.0 * $1.1 }
        let target = 0.1 * nqm.loss(nqm.start)
        let batches = [1, 4, 16, 64, 256, 1024]
        var runs: [(batchSize: Int, rows: [(step: Int, value: Double)])] = []
        for b in batches {
            var theta = nqm.start
            var grads = [Tensor<Double>(zeros: [d])]
            var rows: [(step: Int, value: Double)] = [(0, nqm.loss(theta))]
            for step in 1...20_000 {
                var num = 0.0, den = 0.0
                for i in 0..<d {
                    num += h[i] * h[i] * theta[i] * theta[i]
                    den += h[i] * h[i] * h[i] * theta[i] * theta[i]
                }
                let alpha = num / (den + noise / Double(b))
                _ = nqm.lossAndGradient(
                    [Tensor(shape: [d], values: theta)], batch: step, seed: 7, batchSize: b, gradients: &grads)
                for i in 0..<d { theta[i] -= alpha * grads[0].values[i] }
                rows.append((step, nqm.loss(theta)))
                if rows.last!.value <= target { break }
            }
            runs.append((b, rows))
        }
        let (points, missed) = StepsToTarget.points(runs, target: target)
        #expect(missed.isEmpty)
        let sampled = try BatchSizeFit.fit(points)
        let exact = try BatchSizeFit.fit(
            try batches.map { b in
                BatchSizeFit.Point(
                    batchSize: Double(b),
                    steps: Double(
                        try #require(NoisyQuadraticSweep.greedyRun(nqm, batchSize: Double(b), target: target, maxSteps: 20_000))
                            .steps))
            })
        let ratio = sampled.criticalBatchSize.value / exact.criticalBatchSize.value
        print("NQM sampled sweep: S \(points.map { Int($0.steps) }), B_crit \(sampled.criticalBatchSize.value) vs expected-dynamics \(exact.criticalBatchSize.value)")
        #expect(sampled.rSquared > 0.9)
        #expect(ratio > 0.5 && ratio < 2)
    }
}
