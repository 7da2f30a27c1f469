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

    /// E[θ] after SGD with rate α and batch B has reached the target (noise-free mean path).
    public static func meanAtTarget(
        _ nqm: NoisyQuadratic<Double>, learningRate alpha: Double, steps: Int
    ) -> [Double] {
        nqm.start.enumerated().map { i, x in x * pow1(1 - alpha * nqm.curvatures[i], steps) }
    }

    static func pow1(_ x: Double, _ n: Int) -> Double {
        var r = 1.0, b = x, e = n
        while e > 0 {
            if e & 1 == 1 { r *= b }
            b *= b
            e >>= 1
        }
        return r
    }
}
