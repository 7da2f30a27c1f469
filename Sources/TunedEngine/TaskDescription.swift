import TunedWorkloads

/// A task as the recommendation policy sees it: the task-features file's keys (docs/META.md),
/// every one optional. Missing keys are allowed; they lower the recommendation's confidence.
///
/// The daemon records the same description for every task it runs (from
/// `Workload.features`, see `init(_:)`), so its own history is the policy's training set.
public struct TaskDescription: Sendable, Equatable, Codable {
    /// One of `modelKinds`.
    public var modelKind: String?
    public var parameterCount: Int?
    /// Number of weight layers.
    public var depth: Int?
    public var widestLayer: Int?
    /// Fraction of the parameters that live in matrices (what Muon can take), in [0, 1].
    public var matrixParameterFraction: Double?
    /// Training + validation examples.
    public var datasetSize: Int?
    public var inputSize: Int?
    public var outputSize: Int?
    /// `classification`, `regression` or `optimization`.
    public var taskType: String?
    /// The batch size, when it is fixed (the recommendation then keeps it).
    public var batchSize: Int?
    /// Training steps available.
    public var stepBudget: Int?
    /// Optimizer-state memory allowed, in bytes per parameter (Adam in float32 needs 8).
    public var optimizerMemoryBytesPerParameter: Double?
    /// A measured gradient noise scale B_simple (McCandlish et al. 2018).
    public var gradientNoiseScale: Double?

    public init(
        modelKind: String? = nil, parameterCount: Int? = nil, depth: Int? = nil, widestLayer: Int? = nil,
        matrixParameterFraction: Double? = nil, datasetSize: Int? = nil, inputSize: Int? = nil,
        outputSize: Int? = nil, taskType: String? = nil, batchSize: Int? = nil, stepBudget: Int? = nil,
        optimizerMemoryBytesPerParameter: Double? = nil, gradientNoiseScale: Double? = nil
    ) {
        self.modelKind = modelKind
        self.parameterCount = parameterCount
        self.depth = depth
        self.widestLayer = widestLayer
        self.matrixParameterFraction = matrixParameterFraction
        self.datasetSize = datasetSize
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.taskType = taskType
        self.batchSize = batchSize
        self.stepBudget = stepBudget
        self.optimizerMemoryBytesPerParameter = optimizerMemoryBytesPerParameter
        self.gradientNoiseScale = gradientNoiseScale
    }

    /// What a built-in workload computes about itself, plus the task's step budget.
    public init(_ f: TaskFeatures, stepBudget: Int? = nil) {
        self.init(
            modelKind: f.modelKind, parameterCount: f.parameterCount, depth: f.depth, widestLayer: f.widestLayer,
            matrixParameterFraction: f.matrixParameterFraction, datasetSize: f.datasetSize, inputSize: f.inputSize,
            outputSize: f.outputSize, taskType: f.taskType, batchSize: f.batchSize,
            stepBudget: stepBudget ?? f.stepBudget,
            optimizerMemoryBytesPerParameter: f.optimizerMemoryBudgetBytesPerParameter,
            gradientNoiseScale: f.gradientNoiseScale)
    }

    /// The file's keys (snake_case), as in `CodingKeys`.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case modelKind = "model_kind"
        case parameterCount = "parameter_count"
        case depth
        case widestLayer = "widest_layer"
        case matrixParameterFraction = "matrix_parameter_fraction"
        case datasetSize = "dataset_size"
        case inputSize = "input_size"
        case outputSize = "output_size"
        case taskType = "task_type"
        case batchSize = "batch_size"
        case stepBudget = "step_budget"
        case optimizerMemoryBytesPerParameter = "optimizer_memory_bytes_per_parameter"
        case gradientNoiseScale = "gradient_noise_scale"
    }

    /// This description with every key `other` gives replaced by `other`'s value: a task
    /// file's `[features]` refining what a built-in workload computes about itself.
    public func refined(by other: TaskDescription) -> TaskDescription {
        var d = self
        d.modelKind = other.modelKind ?? modelKind
        d.parameterCount = other.parameterCount ?? parameterCount
        d.depth = other.depth ?? depth
        d.widestLayer = other.widestLayer ?? widestLayer
        d.matrixParameterFraction = other.matrixParameterFraction ?? matrixParameterFraction
        d.datasetSize = other.datasetSize ?? datasetSize
        d.inputSize = other.inputSize ?? inputSize
        d.outputSize = other.outputSize ?? outputSize
        d.taskType = other.taskType ?? taskType
        d.batchSize = other.batchSize ?? batchSize
        d.stepBudget = other.stepBudget ?? stepBudget
        d.optimizerMemoryBytesPerParameter = other.optimizerMemoryBytesPerParameter ?? optimizerMemoryBytesPerParameter
        d.gradientNoiseScale = other.gradientNoiseScale ?? gradientNoiseScale
        return d
    }

    /// The model kinds a description may name: those the policy's features tell apart
    /// (`FeatureEncoding`: an indicator each for `mlp`, `cnn`, `rnn` and `transformer`; the
    /// linear models and the analytic objectives have none of them, and their sizes — depth 1,
    /// `task_type = "optimization"` — say the rest), in documentation order. Another word is an
    /// error naming these, never a kind the policy would silently ignore.
    public static let modelKinds = [
        "mlp", "cnn", "rnn", "transformer", "linear", "linreg", "logreg", "softmax", "quadratic", "nqm", "rosenbrock",
        "beale",
    ]

    /// Every key a features file may hold, in documentation order.
    public static let keys: [String] = CodingKeys.allCases.map(\.rawValue)

    /// The keys that are missing (nil), in documentation order.
    public var missingKeys: [String] {
        let present: [CodingKeys: Bool] = [
            .modelKind: modelKind != nil, .parameterCount: parameterCount != nil, .depth: depth != nil,
            .widestLayer: widestLayer != nil, .matrixParameterFraction: matrixParameterFraction != nil,
            .datasetSize: datasetSize != nil, .inputSize: inputSize != nil, .outputSize: outputSize != nil,
            .taskType: taskType != nil, .batchSize: batchSize != nil, .stepBudget: stepBudget != nil,
            .optimizerMemoryBytesPerParameter: optimizerMemoryBytesPerParameter != nil,
            .gradientNoiseScale: gradientNoiseScale != nil,
        ]
        return CodingKeys.allCases.filter { present[$0] == false }.map(\.rawValue)
    }
}
