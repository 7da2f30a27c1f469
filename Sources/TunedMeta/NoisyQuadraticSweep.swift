import Foundation
import TunedOptim
import TunedWorkloads

/// Steps to a target loss on the noisy quadratic model, from its exact expected dynamics
/// under SGD (Zhang et al. 2019, eq. 5; `NoisyQuadratic.expectedMoments`):
/// E[θᵢ]' = (1 − αhᵢ)E[θᵢ], Var[θᵢ]' = (1 − αhᵢ)²Var[θᵢ] + α²cᵢ/B, E[L] = ½Σhᵢ(E[θᵢ]² + Var[θᵢ]).
///
/// With the learning rate tuned per batch size (best of a log grid), the steps to target S(B)
/// follow McCandlish's S = S_min(1 + B_crit/B): this is the batch-size sweep with no sampling
/// noise, the exact test of `BatchSizeFit` against the model's closed-form noise scale.
public enum NoisyQuadraticSweep {
    /// Steps of SGD with rate α and batch B until E[L] ≤ target; nil if not within `maxSteps`.
    public static func stepsToTarget(
        _ nqm: NoisyQuadratic<Double>, learningRate alpha: Double, batchSize b: Double, target: Double, maxSteps: Int
    ) -> Int? {
        let d = nqm.dimension
        var mean = nqm.start, variance = [Double](repeating: 0, count: d)
        let r = nqm.curvatures.map { 1 - alpha * $0 }
        for step in 1...maxSteps {
            var loss = 0.0
            for i in 0..<d {
                mean[i] *= r[i]
                variance[i] = r[i] * r[i] * variance[i] + alpha * alpha * nqm.noise[i] / b
                loss += 0.5 * nqm.curvatures[i] * (mean[i] * mean[i] + variance[i])
            }
            if loss <= target { return step }
        }
        return nil
    }

    /// The fewest steps to target over the learning rates in `rates`, with the rate that gave them.
    public static func bestSteps(
        _ nqm: NoisyQuadratic<Double>, batchSize b: Double, target: Double, rates: [Double], maxSteps: Int
    ) -> (steps: Int, learningRate: Double)? {
        var best: (Int, Double)?
        for a in rates {
            let cap = best.map { min($0.0, maxSteps) } ?? maxSteps
            if let s = stepsToTarget(nqm, learningRate: a, batchSize: b, target: target, maxSteps: cap),
                best == nil || s < best!.0
            {
                best = (s, a)
            }
        }
        return best.map { (steps: $0.0, learningRate: $0.1) }
    }

    /// The state where the target is reached with the per-step optimal rate.
    public struct GreedyRun: Sendable {
        public var steps: Int
        public var mean: [Double]
        public var variance: [Double]
    }

    /// SGD with the per-step optimal rate for batch B on the expected loss, until E[L] ≤ target:
    /// α = Σh²q / (Σh³q + Σhc/B), q = E[θ²] = m² + v — McCandlish's ε_opt(B) = ε_max/(1 + B_noise/B)
    /// with the expectations taken over θ's distribution. Nil if not within `maxSteps`.
    public static func greedyRun(_ nqm: NoisyQuadratic<Double>, batchSize b: Double, target: Double, maxSteps: Int)
        -> GreedyRun?
    {
        let h = nqm.curvatures, c = nqm.noise, d = nqm.dimension
        var mean = nqm.start, variance = [Double](repeating: 0, count: d)
        let noise = zip(h, c).reduce(0) { $0 + $1.0 * $1.1 }
        for step in 1...maxSteps {
            var num = 0.0, den = 0.0
            for i in 0..<d {
                let q = mean[i] * mean[i] + variance[i]
                num += h[i] * h[i] * q
                den += h[i] * h[i] * h[i] * q
            }
            let alpha = num / (den + noise / b)
            var loss = 0.0
            for i in 0..<d {
                let r = 1 - alpha * h[i]
                mean[i] *= r
                variance[i] = r * r * variance[i] + alpha * alpha * c[i] / b
                loss += 0.5 * h[i] * (mean[i] * mean[i] + variance[i])
            }
            if loss <= target { return GreedyRun(steps: step, mean: mean, variance: variance) }
        }
        return nil
    }

    /// The closed-form noise scale B_noise = tr(HC)/E[GᵀHG] = Σhᵢcᵢ / Σhᵢ³(mᵢ² + vᵢ) over the
    /// distribution of θ with per-coordinate mean m and variance v (McCandlish et al. 2018, eq. 2.7).
    public static func expectedNoiseScale(_ nqm: NoisyQuadratic<Double>, mean: [Double], variance: [Double]) -> Double {
        var num = 0.0, den = 0.0
        for i in 0..<nqm.dimension {
            let h = nqm.curvatures[i]
            num += h * nqm.noise[i]
            den += h * h * h * (mean[i] * mean[i] + variance[i])
        }
        return num / den
    }
}
