import Testing

@testable import TunedEngine

@Suite struct LearningRateScalingTests {
    @Test func sgdScalesLinearlyFarBelowTheNoiseScaleAndSaturatesPastIt() {
        let bn = 1000.0
        let small = LearningRateScaling.rescale(0.01, optimizer: "sgd", from: 4, to: 8, noiseScale: bn)
        #expect(abs(small / 0.01 - 2) < 0.02)
        let past = LearningRateScaling.rescale(0.1, optimizer: "sgd", from: 2000, to: 64_000, noiseScale: bn)
        // ε_max/(1 + 1000/64000) ÷ ε_max/(1 + 1000/2000) = 1.5/1.015625
        #expect(abs(past / 0.1 - 1.5 / 1.015625) < 1e-12)
        #expect(past < 0.1 * 32 / 10)  // never "lr ∝ B" past B_noise
    }

    @Test func adaptiveOptimizersUseTheExponentAndStayFlatPastTheNoiseScale() {
        let up = LearningRateScaling.rescale(1e-3, optimizer: "adamw", from: 16, to: 64, noiseScale: 1000)
        #expect(abs(up - 2e-3) < 1e-12)
        let flat = LearningRateScaling.rescale(1e-3, optimizer: "adamw", from: 1000, to: 8000, noiseScale: 1000)
        #expect(flat == 1e-3)
    }

    @Test func signLikeOptimizersPeakAtTheNoiseScale() {
        let rel = { (b: Double) in LearningRateScaling.relativeOptimum(.signLike, batchSize: b, noiseScale: 256) }
        #expect(rel(256) == 1)
        #expect(rel(64) < 1 && rel(1024) < 1)
    }

    @Test func withoutANoiseScaleTheChangeIsCapped() {
        let r = LearningRateScaling.rescale(0.01, optimizer: "sgd", from: 1, to: 1024, noiseScale: nil)
        #expect(abs(r - 0.08) < 1e-12)
    }
}
