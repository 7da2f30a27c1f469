import TunedEngine
import TunedOptim

/// A recommendation policy: versioned JSON with its provenance (docs/META.md, "Policy
/// document"). Kept in the store (`policies` table, kind `recommendation`) and exported to
/// `policies/`; `policies/default.json` is the one shipped for an empty history.
public struct PolicyDocument: Sendable, Equatable, Codable {
    /// Bumped when the format changes incompatibly; `decode` refuses other versions.
    public static let currentSchema = 1
    public static let kind = "recommendation"

    public var schema: Int
    public var kind: String
    /// A short label: `default`, `store-12`, ….
    public var name: String
    /// ISO 8601 UTC.
    public var createdAt: String
    public var provenance: Provenance
    public var encoding: FeatureEncoding
    /// log₁₀ of the best validation loss a task reaches (any optimizer).
    public var baseline: TargetModel
    public var families: [FamilyModel]
    /// Fit statistics (LOTO RMSEs, tasks, trials).
    public var statistics: [String: Double]

    public struct Provenance: Sendable, Equatable, Codable {
        /// What produced it: `tunectl policy fit`, `scripts/train-default-policy.sh`, ….
        public var source: String
        public var generator: String
        public var tasks: [TaskRecord]
        public var note: String?
    }

    /// One task of the training set: what the policy knows of it (also the nearest-task table).
    public struct TaskRecord: Sendable, Equatable, Codable {
        public var id: Int64?
        public var name: String
        public var features: TaskDescription
        public var trials: Int
        public var bestLoss: Double
        public var bestConfig: [String: JSONValue]
        /// The best trial's loss per optimizer.
        public var bestLossByOptimizer: [String: Double]

        enum CodingKeys: String, CodingKey {
            case id, name, features, trials
            case bestLoss = "best_loss"
            case bestConfig = "best_config"
            case bestLossByOptimizer = "best_loss_by_optimizer"
        }
    }

    /// Per optimizer: the predicted gap to the task's best loss and the best hyperparameters.
    public struct FamilyModel: Sendable, Equatable, Codable {
        public var optimizer: String
        public var tasks: Int
        /// log₁₀(best loss with this optimizer / best loss of the task) — 0 when it is the best.
        public var gap: TargetModel
        /// log₁₀ of the best learning rate.
        public var learningRate: TargetModel
        /// log₁₀ of the best weight decay (nil when no trial set one).
        public var weightDecay: TargetModel?
        public var beta1: TargetModel?
        public var beta2: TargetModel?
        public var momentum: TargetModel?
        /// log₂ of the best batch size.
        public var batchSize: TargetModel?

        enum CodingKeys: String, CodingKey {
            case optimizer, tasks, gap, beta1, beta2, momentum
            case learningRate = "log10_lr"
            case weightDecay = "log10_weight_decay"
            case batchSize = "log2_batch_size"
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, kind, name, provenance, encoding, baseline, families, statistics
        case createdAt = "created_at"
    }
}

/// y ≈ intercept + Σ coefficientsⱼ·zⱼ on standardised features z, a ridge regression with λ
/// chosen by leave-one-task-out validation; predictions are clamped to the range seen in training.
public struct TargetModel: Sendable, Equatable, Codable {
    public var intercept: Double
    public var coefficients: [Double]
    public var lambda: Double
    /// Root mean square error of the leave-one-task-out predictions.
    public var lotoRMSE: Double
    public var count: Int
    public var low: Double
    public var high: Double

    public func predict(_ z: [Double]) -> Double {
        var y = intercept
        for (c, x) in zip(coefficients, z) { y += c * x }
        return min(max(y, low), high)
    }

    enum CodingKeys: String, CodingKey {
        case intercept, coefficients, lambda, count, low, high
        case lotoRMSE = "loto_rmse"
    }
}
