import Foundation

/// Rescaling a learning rate tuned at batch size B₀ to another batch size B.
///
/// - SGD-like (sgd, momentum, nesterov, lars, sgd_hd): ε_opt(B) = ε_max/(1 + B_noise/B)
///   (McCandlish et al. 2018, eq. 2.6), so ε(B) = ε(B₀)·(1 + B_noise/B₀)/(1 + B_noise/B):
///   linear in B well below B_noise, saturating past it. "lr ∝ B" is never applied past B_noise.
/// - Adaptive (adam, adamw, nadam, radam, lamb, adafactor, rmsprop, adagrad, muon): no closed
///   form; ε grows like B^α (0.5 < α < 1, fitted where history allows, default ½) up to
///   B_noise and stays flat past it.
/// - Sign-like (lion, tiger; Li et al. 2024, "Surge"): ε_opt = ε_max/(½(√(B_noise/B) + √(B/B_noise))),
///   which peaks at B = B_noise and falls past it.
///
/// Without a noise scale the SGD and adaptive rules fall back to their small-batch limits
/// capped at a factor of 8 (B_noise unknown: do not extrapolate far).
public enum LearningRateScaling {
    public enum Family: String, Sendable, Codable {
        case sgdLike = "sgd_like", adaptive, signLike = "sign_like"

        public init(optimizer: String) {
            switch optimizer {
            case "sgd", "momentum", "nesterov", "lars", "sgd_hd", "sgdn_hd": self = .sgdLike
            case "lion", "tiger": self = .signLike
            default: self = .adaptive
            }
        }
    }

    /// ε_opt(B)/ε_max for the family (exponent α for adaptive optimizers).
    public static func relativeOptimum(_ family: Family, batchSize b: Double, noiseScale bn: Double, exponent: Double = 0.5)
        -> Double
    {
        switch family {
        case .sgdLike: return 1 / (1 + bn / b)
        case .signLike: return 1 / (0.5 * ((bn / b).squareRoot() + (b / bn).squareRoot()))
        case .adaptive: return pow(min(b, bn) / bn, exponent)
        }
    }

    /// The learning rate for batch size `to`, given `lr` tuned at batch size `from`.
    public static func rescale(
        _ lr: Double, optimizer: String, from b0: Double, to b1: Double, noiseScale: Double?, exponent: Double = 0.5
    ) -> Double {
        let family = Family(optimizer: optimizer)
        guard b0 > 0, b1 > 0, b0 != b1 else { return lr }
        if let bn = noiseScale, bn > 0 {
            return lr * relativeOptimum(family, batchSize: b1, noiseScale: bn, exponent: exponent)
                / relativeOptimum(family, batchSize: b0, noiseScale: bn, exponent: exponent)
        }
        let ratio = min(max(b1 / b0, 1.0 / 8), 8)
        switch family {
        case .sgdLike: return lr * ratio
        case .adaptive: return lr * pow(ratio, exponent)
        case .signLike: return lr * ratio.squareRoot()
        }
    }
}
