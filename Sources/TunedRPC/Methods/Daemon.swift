// Types of daemon.status, recommend and policy.fit.

/// `daemon.status`'s result.
public struct DaemonStatus: Codable, Sendable, Hashable {
    public struct Workers: Codable, Sendable, Hashable {
        /// How many the daemon keeps running (`--workers N`).
        public var configured: Int
        public var alive: Int
        /// Alive and holding a lease.
        public var busy: Int

        public init(configured: Int, alive: Int, busy: Int) {
            self.configured = configured
            self.alive = alive
            self.busy = busy
        }
    }

    public struct Store: Codable, Sendable, Hashable {
        public var path: String
        public var sizeBytes: Int64?
        /// Nil when healthy; otherwise what is wrong (disk full, read-only).
        public var error: String?

        public init(path: String, sizeBytes: Int64? = nil, error: String? = nil) {
            self.path = path
            self.sizeBytes = sizeBytes
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case path, error
            case sizeBytes = "size_bytes"
        }
    }

    public var version: String
    public var protocolVersion: Int
    public var uptimeSeconds: Double
    public var pid: Int32
    public var workers: Workers
    /// Task counts keyed by `TaskStatus` raw value (`"running": 2`).
    public var tasks: [String: Int]
    public var socket: String
    public var store: Store

    public init(
        version: String, protocolVersion: Int = rpcProtocolVersion, uptimeSeconds: Double, pid: Int32,
        workers: Workers, tasks: [String: Int], socket: String, store: Store
    ) {
        self.version = version
        self.protocolVersion = protocolVersion
        self.uptimeSeconds = uptimeSeconds
        self.pid = pid
        self.workers = workers
        self.tasks = tasks
        self.socket = socket
        self.store = store
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, workers, tasks, socket, store
        case protocolVersion = "protocol_version"
        case uptimeSeconds = "uptime_seconds"
    }
}

/// `recommend`: a zero-shot configuration for a task described by its features
/// (the task-features file's keys, as an object; unknown keys are a validation error).
public struct RecommendParams: Codable, Sendable, Hashable {
    public var features: RPCValue
    public var topK: Int?

    public init(features: RPCValue, topK: Int? = nil) {
        self.features = features
        self.topK = topK
    }

    enum CodingKeys: String, CodingKey {
        case features
        case topK = "top_k"
    }
}

public struct Recommendation: Codable, Sendable, Hashable {
    public var optimizer: String
    /// The full configuration (optimizer, lr, batch size, …), ready for a task file's search.
    public var config: RPCValue
    /// The policy's score (higher is better).
    public var score: Double
    /// The predicted objective value, when the policy predicts one.
    public var predictedMetric: Double?

    public init(optimizer: String, config: RPCValue, score: Double, predictedMetric: Double? = nil) {
        self.optimizer = optimizer
        self.config = config
        self.score = score
        self.predictedMetric = predictedMetric
    }

    enum CodingKeys: String, CodingKey {
        case optimizer, config, score
        case predictedMetric = "predicted_metric"
    }
}

public struct RecommendResult: Codable, Sendable, Hashable {
    public var recommendations: [Recommendation]
    public var policyVersion: String
    /// 0…1: lower when features are missing or far from the training tasks.
    public var confidence: Double
    /// Feature keys the request lacked (allowed; they lower the confidence).
    public var missingFeatures: [String]

    public init(recommendations: [Recommendation], policyVersion: String, confidence: Double, missingFeatures: [String])
    {
        self.recommendations = recommendations
        self.policyVersion = policyVersion
        self.confidence = confidence
        self.missingFeatures = missingFeatures
    }

    enum CodingKeys: String, CodingKey {
        case recommendations, confidence
        case policyVersion = "policy_version"
        case missingFeatures = "missing_features"
    }
}

/// `policy.fit`: refit the recommendation policy (and batch-size model) from the store's
/// finished tasks, or from the given ones.
public struct PolicyFitParams: Codable, Sendable, Hashable {
    public var taskIDs: [TaskID]?

    public init(taskIDs: [TaskID]? = nil) { self.taskIDs = taskIDs }

    enum CodingKeys: String, CodingKey { case taskIDs = "task_ids" }
}

public struct PolicyFitResult: Codable, Sendable, Hashable {
    public var policyVersion: String
    public var tasksUsed: Int
    /// Fit quality (for example `"cv_rank_corr": 0.71`).
    public var metrics: [String: Double]
    public var fittedAt: Double

    public init(policyVersion: String, tasksUsed: Int, metrics: [String: Double], fittedAt: Double) {
        self.policyVersion = policyVersion
        self.tasksUsed = tasksUsed
        self.metrics = metrics
        self.fittedAt = fittedAt
    }

    enum CodingKeys: String, CodingKey {
        case metrics
        case policyVersion = "policy_version"
        case tasksUsed = "tasks_used"
        case fittedAt = "fitted_at"
    }
}
