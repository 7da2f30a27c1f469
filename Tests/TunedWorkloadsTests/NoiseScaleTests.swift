import Foundation
import Synchronization
import Testing
import TunedOptim

@testable import TunedWorkloads

// MARK: counter-based noise

@Test func philoxMatchesRandom123KnownAnswers() {
    let cases: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), [UInt32])] = [
        ((0, 0, 0, 0), (0, 0), [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8]),
        ((.max, .max, .max, .max), (.max, .max), [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD]),
        (
            (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), (0xA409_3822, 0x299F_31D0),
            [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1]
        ),
    ]
    for (counter, key, expected) in cases {
        let r = NoiseRandom.philox4x32(counter: counter, key: key)
        #expect([r.0, r.1, r.2, r.3] == expected)
    }
}

/// 200,000 deviates: the mean's standard error is 0.0022 and the variance's 0.0032, so the
/// bounds 0.01 and 0.015 are ≥ 4.5σ.
@Test func gaussianNoiseIsStandardNormalAndAPureFunctionOfItsCounter() {
    let n = 200_000
    var z = [Double](repeating: 0, count: n)
    z.withUnsafeMutableBufferPointer { NoiseRandom.fillGaussians(seed: 1, stream: 0, into: $0) }
    let mean = z.reduce(0, +) / Double(n)
    let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
    #expect(abs(mean) < 0.01)
    #expect(abs(variance - 1) < 0.015)
    let tail = Double(z.filter { abs($0) > 1.959964 }.count) / Double(n)
    #expect(abs(tail - 0.05) < 0.003)  // P(|z| > 1.96) = 0.05, standard error 0.0005
    for i in [0, 1, 2, 77, 199_999] {
        #expect(NoiseRandom.gaussian(seed: 1, stream: 0, index: UInt64(i)) == z[i])
    }
    #expect(NoiseRandom.gaussian(seed: 1, stream: 1, index: 0) != z[0])
    #expect(NoiseRandom.gaussian(seed: 2, stream: 0, index: 0) != z[0])
}

// MARK: noisy quadratic model

/// 20,000 minibatches at a fixed θ: the noise must have mean 0 and covariance C/B. The
/// sample variance's relative standard error is √(2/20000) = 1 %; the bound is 5 %.
@Test func nqmGradientNoiseHasCovarianceCOverB() throws {
    let d = 6, b = 4, runs = 20_000
    let nqm = try NoisyQuadratic<Double>(dimension: d, batchSize: 1)
    let theta = [1.0, -0.5, 2, 0.25, -1, 3]
    let params = [Tensor(shape: [d], values: theta)]
    var g = [Tensor<Double>]()
    var sum = [Double](repeating: 0, count: d), sumSq = [Double](repeating: 0, count: d), cross = 0.0, lossSum = 0.0
    for batch in 0..<runs {
        lossSum += nqm.lossAndGradient(params, batch: batch, seed: 9, batchSize: b, gradients: &g)
        let xi = (0..<d).map { g[0].values[$0] - nqm.curvatures[$0] * theta[$0] }
        for i in 0..<d {
            sum[i] += xi[i]
            sumSq[i] += xi[i] * xi[i]
        }
        cross += xi[0] * xi[1]
    }
    for i in 0..<d {
        let expected = nqm.noise[i] / Double(b)
        let mean = sum[i] / Double(runs)
        #expect(abs(mean) < 4 * (expected / Double(runs)).squareRoot())
        #expect(abs(sumSq[i] / Double(runs) / expected - 1) < 0.05, "coordinate \(i)")
    }
    let correlation = cross / Double(runs) / (nqm.noise[0] * nqm.noise[1]).squareRoot() * Double(b)
    #expect(abs(correlation) < 0.03)  // standard error 0.007
    // E[L_batch] = L: the noise term Σξθ has standard deviation √(Σcθ²/B/runs) ≈ 0.005.
    #expect(abs(lossSum / Double(runs) - nqm.loss(theta)) < 0.03)
    // The same (seed, batch) gives the same gradient; the default batch size is used when nil.
    var g1 = [Tensor<Double>](), g2 = [Tensor<Double>]()
    _ = nqm.lossAndGradient(params, batch: 3, seed: 9, batchSize: nil, gradients: &g1)
    _ = nqm.lossAndGradient(params, batch: 3, seed: 9, batchSize: 1, gradients: &g2)
    #expect(g1 == g2)
}

/// Plain SGD on the NQM over 4000 seeds: per-coordinate mean and variance of θ after 20
/// steps follow E[θ]' = (1−αh)E[θ], Var' = (1−αh)²Var + α²c/B. Sample-variance standard
/// error √(2/4000) = 2.2 %; the bound is 10 %.
@Test func nqmSGDFollowsTheClosedFormMomentDynamics() throws {
    let d = 4, runs = 4000, steps = 20, alpha = 0.5, b = 2
    let nqm = try NoisyQuadratic<Double>(dimension: d, batchSize: b, start: [1, -2, 3, 0.5])
    var sum = [Double](repeating: 0, count: d), sumSq = [Double](repeating: 0, count: d), lossSum = 0.0
    var g = [Tensor<Double>]()
    for run in 0..<runs {
        var params = nqm.initialParameters(seed: 0)
        for step in 0..<steps {
            _ = nqm.lossAndGradient(params, batch: step, seed: UInt64(run), batchSize: nil, gradients: &g)
            for i in 0..<d { params[0].values[i] -= alpha * g[0].values[i] }
        }
        lossSum += nqm.evaluate(params).trainLoss
        for i in 0..<d {
            sum[i] += params[0].values[i]
            sumSq[i] += params[0].values[i] * params[0].values[i]
        }
    }
    let moments = nqm.expectedMoments(learningRate: alpha, steps: steps)
    for i in 0..<d {
        let mean = sum[i] / Double(runs), variance = sumSq[i] / Double(runs) - mean * mean
        #expect(abs(mean - moments.mean[i]) < 4 * (moments.variance[i] / Double(runs)).squareRoot(), "coordinate \(i)")
        #expect(
            abs(variance / moments.variance[i] - 1) < 0.10, "coordinate \(i): \(variance) vs \(moments.variance[i])")
    }
    #expect(abs(lossSum / Double(runs) / moments.expectedLoss - 1) < 0.10)
}

/// B_simple on the NQM (d = 100, hᵢ = cᵢ = 1/i, θ = 0.3·1, closed form 35.25) estimated
/// online at a fixed θ: 5000 nested measurements with B_small = 16, B_big = 64, β = 0.9995
/// (an effective sample of ≈ 3400 measurements; simulated relative standard error 2 %).
@Test func nqmSimpleNoiseScaleEstimatedOnlineIsWithinFivePercentOfClosedForm() throws {
    let nqm = try NoisyQuadratic<Double>(dimension: 100)
    let theta = [Double](repeating: 0.3, count: 100)
    let closed = try #require(nqm.simpleNoiseScale(theta))
    #expect(abs(closed - 35.2527) < 1e-3)
    let params = [Tensor(shape: [100], values: theta)]
    var gns = try GradientNoiseScale(smallBatch: 16, bigBatch: 64, beta: 0.9995)
    let seed = GradientNoiseScale.measurementSeed(0)
    for batch in 0..<5000 { try gns.measure(nqm, params, batch: batch, seed: seed) }
    let estimate = try #require(gns.simpleNoiseScale)
    #expect(abs(estimate / closed - 1) < 0.05, "estimated \(estimate), closed form \(closed)")
    #expect(abs(try #require(gns.gradientSquaredNorm) / nqm.gradientSquaredNorm(theta) - 1) < 0.05)
    #expect(abs(try #require(gns.trace) / nqm.noiseTrace() - 1) < 0.05)
}

/// Along an SGD run (400 steps, α = 0.1, B = 16, from θ = 1, where B_simple = 2.8) θ moves,
/// so the estimator's target is the same bias-corrected EMA applied to the closed forms at
/// the visited points: Σcᵢ / m̂(|G(θ_t)|²). One nested measurement (32 → 256, 8 gradient
/// evaluations) per step, β = 0.998. A simulation of this run over 60 seeds gave
/// estimate/target = 1.005 ± 0.037; the bound, 15 %, is 4σ.
@Test func nqmSimpleNoiseScaleTracksTheClosedFormAlongATrainingRun() throws {
    let d = 50, beta = 0.998
    let nqm = try NoisyQuadratic<Double>(dimension: d, batchSize: 16)
    var params = nqm.initialParameters(seed: 0)
    var gns = try GradientNoiseScale(smallBatch: 32, bigBatch: 256, beta: beta)
    var g = [Tensor<Double>]()
    let seed = GradientNoiseScale.measurementSeed(4)
    var closedAverage = 0.0
    for step in 0..<400 {
        try gns.measure(nqm, params, batch: step, seed: seed)
        closedAverage = beta * closedAverage + (1 - beta) * nqm.gradientSquaredNorm(params[0].values)
        _ = nqm.lossAndGradient(params, batch: step, seed: 4, batchSize: nil, gradients: &g)
        for i in 0..<d { params[0].values[i] -= 0.1 * g[0].values[i] }
    }
    let target = nqm.noiseTrace() / (closedAverage / gns.biasCorrection)
    let estimate = try #require(gns.simpleNoiseScale)
    #expect(abs(estimate / target - 1) < 0.15, "estimate \(estimate), target \(target)")
    // The run went somewhere: the target is more than 10× B_simple at the start.
    #expect(target > 10 * (nqm.simpleNoiseScale(nqm.start) ?? .infinity))
}

// MARK: estimator algebra

/// Exact expectations E|G_B|² = |G|² + tr(Σ)/B in, |G|² and tr(Σ) out (to rounding).
@Test(arguments: [
    (2.5, 40.0, 8, 128), (1e-3, 7.0, 1, 2), (10.0, 0.0, 32, 64), (0.0, 3.0, 4, 12), (3.0, 1e4, 100, 1000),
])
func twoBatchEstimatorsAreExactOnExpectedNorms(g2: Double, trace: Double, small: Int, big: Int) throws {
    let gs = g2 + trace / Double(small), gb = g2 + trace / Double(big)
    let e = try GradientNoiseScale.estimate(smallBatch: small, smallSquaredNorm: gs, bigBatch: big, bigSquaredNorm: gb)
    let scale = g2 + trace
    #expect(abs(e.gradientSquaredNorm - g2) <= 1e-12 * scale)
    #expect(abs(e.trace - trace) <= 1e-12 * scale)
    // The bias-corrected averages of a constant input equal it after any number of updates.
    var gns = try GradientNoiseScale(smallBatch: small, bigBatch: big, beta: 0.99)
    for t in 1...37 {
        gns.update(smallSquaredNorm: gs, bigSquaredNorm: gb)
        if [1, 2, 10, 37].contains(t) {
            #expect(abs(try #require(gns.gradientSquaredNorm) - g2) <= 1e-12 * scale)
            #expect(abs(try #require(gns.trace) - trace) <= 1e-12 * scale)
        }
    }
    #expect(gns.updates == 37)
    if g2 > 0 {
        let expected = trace / g2
        #expect(abs(try #require(gns.simpleNoiseScale) - expected) <= 1e-10 * max(1, expected))
    } else {
        #expect(gns.simpleNoiseScale == nil)
    }
}

@Test func simpleNoiseScaleIsNilRatherThanNegativeOrNaN() throws {
    var gns = try GradientNoiseScale(smallBatch: 1, bigBatch: 4)
    #expect(gns.simpleNoiseScale == nil && gns.gradientSquaredNorm == nil)  // no measurement yet
    // |𝒢|² = (4·1 − 1·10)/3 = −2: the gradient is lost in the noise.
    let first = gns.update(smallSquaredNorm: 10, bigSquaredNorm: 1)
    let e = try #require(first)
    #expect(e.gradientSquaredNorm == -2 && e.simpleNoiseScale == nil)
    #expect(gns.simpleNoiseScale == nil)
    // 𝒮 < 0 (the big batch is noisier than the small one): no estimate either.
    var negative = try GradientNoiseScale(smallBatch: 1, bigBatch: 4)
    negative.update(smallSquaredNorm: 1, bigSquaredNorm: 2)
    #expect(try #require(negative.trace) < 0 && negative.simpleNoiseScale == nil)
    // Non-finite norms are skipped and leave the state unchanged.
    let before = gns
    let nanUpdate = gns.update(smallSquaredNorm: .nan, bigSquaredNorm: 1)
    let infiniteUpdate = gns.update(smallSquaredNorm: 1, bigSquaredNorm: .infinity)
    #expect(nanUpdate == nil && infiniteUpdate == nil)
    #expect(gns == before)
}

@Test(arguments: [
    (1, 1, 0.99, "big_batch"), (8, 4, 0.99, "big_batch"), (0, 4, 0.99, "small_batch"), (-2, 4, 0.99, "small_batch"),
    (1, 2, 1.0, "beta"), (1, 2, -0.1, "beta"), (1, 2, Double.nan, "beta"),
])
func badEstimatorConfigurationsAreErrorsNamingTheKey(small: Int, big: Int, beta: Double, key: String) {
    #expect {
        try GradientNoiseScale(smallBatch: small, bigBatch: big, beta: beta)
    } throws: { ($0 as? WorkloadError)?.message.contains("'\(key)'") == true }
    if key != "beta" {
        #expect {
            try GradientNoiseScale.estimate(smallBatch: small, smallSquaredNorm: 1, bigBatch: big, bigSquaredNorm: 1)
        } throws: { ($0 as? WorkloadError)?.message.contains("'\(key)'") == true }
    }
}

@Test func estimatorStateRestoresBitForBit() throws {
    let nqm = try NoisyQuadratic<Double>(dimension: 20)
    let params = [Tensor(shape: [20], values: [Double](repeating: 0.7, count: 20))]
    var a = try GradientNoiseScale(smallBatch: 2, bigBatch: 8, beta: 0.9)
    for batch in 0..<50 { try a.measure(nqm, params, batch: batch, seed: 3) }
    let bytes = a.saveState().encoded()
    var b = try GradientNoiseScale(state: StateDict(decoding: bytes))
    #expect(b == a)
    for batch in 50..<70 {
        try a.measure(nqm, params, batch: batch, seed: 3)
        try b.measure(nqm, params, batch: batch, seed: 3)
    }
    #expect(a.updates == 70 && b.updates == 70)
    #expect(a.averageGradientSquaredNorm.bitPattern == b.averageGradientSquaredNorm.bitPattern)
    #expect(a.averageTrace.bitPattern == b.averageTrace.bitPattern)
    #expect(a.simpleNoiseScale?.bitPattern == b.simpleNoiseScale?.bitPattern)
    #expect(a.saveState() == b.saveState())
    // A state whose configuration is invalid, or that lacks a key, is refused by name.
    var bad = a.saveState()
    bad["small_batch"] = .int(8)
    #expect { try b.restoreState(bad) } throws: { ($0 as? WorkloadError)?.message.contains("big_batch") == true }
    var missing = a.saveState()
    missing["ema_trace"] = nil
    #expect { try b.restoreState(missing) } throws: { "\($0)".contains("ema_trace") }
    #expect(b == a)  // a refused restore changes nothing
}

// MARK: measurement

/// Records every `lossAndGradient` call of the NQM it wraps.
private struct CountingWorkload: Workload {
    let inner: NoisyQuadratic<Double>
    let recorder = CallRecorder()
    var kind: String { inner.kind }
    var parameterShapes: [[Int]] { inner.parameterShapes }
    var features: TaskFeatures { inner.features }
    func initialParameters(seed: UInt64) -> [Tensor<Double>] { inner.initialParameters(seed: seed) }
    func evaluate(_ params: [Tensor<Double>]) -> Metrics { inner.evaluate(params) }
    func lossAndGradient(
        _ params: [Tensor<Double>], batch: Int, seed: UInt64, batchSize: Int?, gradients: inout [Tensor<Double>]
    ) -> Double {
        recorder.calls.withLock { $0.append((batch, batchSize)) }
        return inner.lossAndGradient(params, batch: batch, seed: seed, batchSize: batchSize, gradients: &gradients)
    }
}

private final class CallRecorder: Sendable {
    let calls = Mutex<[(batch: Int, batchSize: Int?)]>([])
}

@Test func nestedMeasurementAveragesBigOverSmallConsecutiveMinibatchesAtTheStatedCost() throws {
    let nqm = try NoisyQuadratic<Double>(dimension: 7)
    let w = CountingWorkload(inner: nqm)
    let params = [Tensor(shape: [7], values: (0..<7).map { Double($0) / 3 - 1 })]
    let m = try GradientNoiseScale.measure(w, params, batch: 5, seed: 11, smallBatch: 4, bigBatch: 12)
    let calls = w.recorder.calls.withLock { $0 }
    #expect(m.gradientEvaluations == 3 && m.examples == 12 && calls.count == 3)
    #expect(calls.map(\.batch) == [15, 16, 17] && calls.allSatisfy { $0.batchSize == 4 })
    // Recompute by hand: G_small = g(15), G_big = mean of g(15), g(16), g(17).
    var g = [Tensor<Double>]()
    var mean = [Double](repeating: 0, count: 7)
    var small = 0.0
    for j in 15...17 {
        _ = nqm.lossAndGradient(params, batch: j, seed: 11, batchSize: 4, gradients: &g)
        if j == 15 { small = g[0].values.map { $0 * $0 }.reduce(0, +) }
        for i in 0..<7 { mean[i] += g[0].values[i] / 3 }
    }
    let big = mean.map { $0 * $0 }.reduce(0, +)
    #expect(abs(m.smallSquaredNorm - small) <= 1e-14 * small)
    #expect(abs(m.bigSquaredNorm - big) <= 1e-12 * big)
    #expect {
        try GradientNoiseScale.measure(w, params, batch: 0, seed: 0, smallBatch: 3, bigBatch: 8)
    } throws: { ($0 as? WorkloadError)?.message.contains("multiple") == true }
}

@Test func independentMeasurementUsesTwoEvaluationsAtTheTwoBatchSizes() throws {
    let nqm = try NoisyQuadratic<Double>(dimension: 5)
    let w = CountingWorkload(inner: nqm)
    let params = nqm.initialParameters(seed: 0)
    let m = try GradientNoiseScale.measure(
        w, params, batch: 4, seed: 2, smallBatch: 3, bigBatch: 8, strategy: .independent)
    let calls = w.recorder.calls.withLock { $0 }
    #expect(m.gradientEvaluations == 2 && m.examples == 11)
    #expect(calls.map(\.batch) == [8, 9] && calls.map(\.batchSize) == [3, 8])
    var g = [Tensor<Double>]()
    _ = nqm.lossAndGradient(params, batch: 9, seed: 2, batchSize: 8, gradients: &g)
    #expect(m.bigSquaredNorm == g[0].values.map { $0 * $0 }.reduce(0, +))
}
