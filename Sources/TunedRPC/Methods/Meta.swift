// Types of recommend, policy.fit and policy.show (docs/PROTOCOL.md, docs/META.md).

/// `recommend`: a zero-shot configuration for a task described by its features. Give either
/// the features file's `text` (TOML or JSON; the daemon validates it and names `filename`,
/// line and key in errors) or `features` as an object.
public struct RecommendParams: Codable, Sendable, Hashable {
    public var text: String?
    public var filename: String?
    public var features: RPCValue?
    /// How many optimizers to rank (default 1).
    public var topK: Int?

    public init(text: String? = nil, filename: String? = nil, features: RPCValue? = nil, topK: Int? = nil) {
        self.text = text
        self.filename = filename
        self.features = features
        self.topK = topK
    }

    enum CodingKeys: String, CodingKey {
        case text, filename, features
        case topK = "top_k"
    }
}

/// One recommended configuration.
public struct RecommendedOption: Codable, Sendable, Hashable {
    public var optimizer: String
    /// A trial configuration, usable as is (optimizer, lr, batch_size, weight_decay, β's, schedule).
    public var config: RPCValue
    /// Predicted best validation loss and its band.
    public var predictedLoss: Double
    public var lossLow: Double
    public var lossHigh: Double
    public var stateBytesPerParameter: Double?
    /// Which parameters get which optimizer (the Muon + AdamW hybrid).
    public var parameterGroups: String?
    /// Hypergradient-descent β_h to try.
    public var hypergradientBeta: Double

    public init(
        optimizer: String, config: RPCValue, predictedLoss: Double, lossLow: Double, lossHigh: Double,
        stateBytesPerParameter: Double? = nil, parameterGroups: String? = nil, hypergradientBeta: Double
    ) {
        self.optimizer = optimizer
        self.config = config
        self.predictedLoss = predictedLoss
        self.lossLow = lossLow
        self.lossHigh = lossHigh
        self.stateBytesPerParameter = stateBytesPerParameter
        self.parameterGroups = parameterGroups
        self.hypergradientBeta = hypergradientBeta
    }

    enum CodingKeys: String, CodingKey {
        case optimizer, config
        case predictedLoss = "predicted_loss"
        case lossLow = "loss_low"
        case lossHigh = "loss_high"
        case stateBytesPerParameter = "state_bytes_per_parameter"
        case parameterGroups = "parameter_groups"
        case hypergradientBeta = "hypergradient_beta"
    }
}

/// A task of the policy's history near the one asked about: the "why" of a recommendation.
public struct NearestTask: Codable, Sendable, Hashable {
    public var name: String
    public var id: Int64?
    public var distance: Double
    public var bestLoss: Double
    public var bestConfig: RPCValue

    public init(name: String, id: Int64? = nil, distance: Double, bestLoss: Double, bestConfig: RPCValue) {
        self.name = name
        self.id = id
        self.distance = distance
        self.bestLoss = bestLoss
        self.bestConfig = bestConfig
    }

    enum CodingKeys: String, CodingKey {
        case name, id, distance
        case bestLoss = "best_loss"
        case bestConfig = "best_config"
    }
}

public struct RecommendResult: Codable, Sendable, Hashable {
    /// The policy that answered: `store:N` or `shipped:default`, then its document's name.
    public var policy: String
    public var options: [RecommendedOption]
    /// 0…1: lower when features are missing or far from the training tasks.
    public var confidence: Double
    /// Feature keys the request lacked (allowed; they lower the confidence).
    public var missingFeatures: [String]
    /// Optimizers ruled out by a constraint, with the reason.
    public var excluded: [String: String]
    public var nearest: [NearestTask]

    public init(
        policy: String, options: [RecommendedOption], confidence: Double, missingFeatures: [String],
        excluded: [String: String] = [:], nearest: [NearestTask] = []
    ) {
        self.policy = policy
        self.options = options
        self.confidence = confidence
        self.missingFeatures = missingFeatures
        self.excluded = excluded
        self.nearest = nearest
    }

    enum CodingKeys: String, CodingKey {
        case policy, options, confidence, excluded, nearest
        case missingFeatures = "missing_features"
    }
}

/// `policy.fit`: refit the recommendation policy from the store's finished tasks (or the
/// given ones) and make it the active one.
public struct PolicyFitParams: Codable, Sendable, Hashable {
    public var taskIDs: [TaskID]?

    public init(taskIDs: [TaskID]? = nil) { self.taskIDs = taskIDs }

    enum CodingKeys: String, CodingKey { case taskIDs = "task_ids" }
}

public struct PolicyFitResult: Codable, Sendable, Hashable {
    /// The store's version number of the new active policy.
    public var policyVersion: Int64
    public var name: String
    public var tasksUsed: Int
    /// Fit statistics (LOTO RMSEs per model, tasks, trials).
    public var metrics: [String: Double]
    public var fittedAt: String

    public init(policyVersion: Int64, name: String, tasksUsed: Int, metrics: [String: Double], fittedAt: String) {
        self.policyVersion = policyVersion
        self.name = name
        self.tasksUsed = tasksUsed
        self.metrics = metrics
        self.fittedAt = fittedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, metrics
        case policyVersion = "policy_version"
        case tasksUsed = "tasks_used"
        case fittedAt = "fitted_at"
    }
}

/// `policy.show`: the active policy document, and where it comes from.
public struct PolicyShowResult: Codable, Sendable, Hashable {
    /// The store's version number; nil for the shipped default.
    public var version: Int64?
    /// `store` or `shipped` (policies/default.json, used while the store has none).
    public var source: String
    public var document: RPCValue

    public init(version: Int64?, source: String, document: RPCValue) {
        self.version = version
        self.source = source
        self.document = document
    }
}

/// `task.batchsize` (params `TaskIDParams`): a batch-sweep task's measured steps to target per
/// batch size and the fit of S = S_min(1 + B_crit/B), E = E_min(1 + B/B_crit).
public struct BatchSizeReport: Codable, Sendable, Hashable {
    public struct Point: Codable, Sendable, Hashable {
        public var batchSize: Int
        /// Steps to reach the target (interpolated between evaluations); nil if never reached.
        public var steps: Double?
        public var finalLoss: Double?
        /// The last gradient noise scale B_simple the run reported, if it measured one.
        public var noiseScale: Double?

        public init(batchSize: Int, steps: Double?, finalLoss: Double?, noiseScale: Double?) {
            self.batchSize = batchSize
            self.steps = steps
            self.finalLoss = finalLoss
            self.noiseScale = noiseScale
        }

        enum CodingKeys: String, CodingKey {
            case steps
            case batchSize = "batch_size"
            case finalLoss = "final_loss"
            case noiseScale = "noise_scale"
        }
    }

    /// A fitted value with its 95% interval.
    public struct Estimate: Codable, Sendable, Hashable {
        public var value: Double
        public var low: Double
        public var high: Double

        public init(value: Double, low: Double, high: Double) {
            self.value = value
            self.low = low
            self.high = high
        }
    }

    public var taskID: TaskID
    public var targetLoss: Double
    public var points: [Point]
    public var criticalBatchSize: Estimate?
    public var minimumSteps: Estimate?
    public var minimumExamples: Estimate?
    public var rSquared: Double?
    /// Why there is no fit (fewer than 3 batch sizes reached the target, the task still runs…).
    public var note: String?

    public init(
        taskID: TaskID, targetLoss: Double, points: [Point], criticalBatchSize: Estimate? = nil,
        minimumSteps: Estimate? = nil, minimumExamples: Estimate? = nil, rSquared: Double? = nil, note: String? = nil
    ) {
        self.taskID = taskID
        self.targetLoss = targetLoss
        self.points = points
        self.criticalBatchSize = criticalBatchSize
        self.minimumSteps = minimumSteps
        self.minimumExamples = minimumExamples
        self.rSquared = rSquared
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case points, note
        case taskID = "task_id"
        case targetLoss = "target_loss"
        case criticalBatchSize = "b_crit"
        case minimumSteps = "s_min"
        case minimumExamples = "e_min"
        case rSquared = "r_squared"
    }
}
