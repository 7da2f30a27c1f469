import TunedOptim

/// Metrics a workload reports when evaluated.
public struct Metrics: Sendable, Equatable, Codable {
    public var trainLoss: Double
    public var validationLoss: Double
    /// Classification workloads only.
    public var validationAccuracy: Double?

    public init(trainLoss: Double, validationLoss: Double, validationAccuracy: Double? = nil) {
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
    }
}

/// An objective with exact gradients that tuned can train.
///
/// Everything is a pure function of the parameters and of `(seed, batch)`: the minibatch
/// a step sees is chosen by `batch`, never by hidden state, so that training resumed from
/// a checkpoint is bit-identical to uninterrupted training.
public protocol Workload<Scalar>: Sendable {
    associatedtype Scalar: TunedScalar

    /// Short kind name as in task files: `rosenbrock`, `mlp`, …
    var kind: String { get }

    /// Shapes of the parameter tensors, in the order of `initialParameters`.
    var parameterShapes: [[Int]] { get }

    /// Deterministic initial parameters for a seed.
    func initialParameters(seed: UInt64) -> [Tensor<Scalar>]

    /// Loss on minibatch number `batch` of the training data (full data or no data for
    /// analytic objectives), writing the exact gradient into `gradients` (same shapes as
    /// `params`, overwritten, not accumulated). `batchSize` overrides the workload's
    /// default minibatch size where it has one.
    func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double

    /// Train loss, validation loss and (classification) validation accuracy on the full
    /// splits.
    func evaluate(_ params: [Tensor<Scalar>]) -> Metrics

    /// The task features the meta layer learns from (DESIGN.md, "Task features").
    var features: TaskFeatures { get }
}

/// What describes a task to the recommendation policy. Missing values are nil.
public struct TaskFeatures: Sendable, Equatable, Codable {
    public var modelKind: String
    public var parameterCount: Int
    public var depth: Int?
    public var widestLayer: Int?
    /// Fraction of parameters that live in matrices (what Muon can take).
    public var matrixParameterFraction: Double?
    public var datasetSize: Int?
    public var inputSize: Int?
    public var outputSize: Int?
    /// `classification`, `regression` or `optimization`.
    public var taskType: String
    public var batchSize: Int?
    public var stepBudget: Int?
    public var optimizerMemoryBudgetBytesPerParameter: Double?
    public var gradientNoiseScale: Double?

    public init(
        modelKind: String, parameterCount: Int, depth: Int? = nil, widestLayer: Int? = nil,
        matrixParameterFraction: Double? = nil, datasetSize: Int? = nil, inputSize: Int? = nil,
        outputSize: Int? = nil, taskType: String, batchSize: Int? = nil, stepBudget: Int? = nil,
        optimizerMemoryBudgetBytesPerParameter: Double? = nil, gradientNoiseScale: Double? = nil
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
        self.optimizerMemoryBudgetBytesPerParameter = optimizerMemoryBudgetBytesPerParameter
        self.gradientNoiseScale = gradientNoiseScale
    }
}

/// An error in a workload's configuration or data. The message names the file, line and
/// column, or the configuration key, and says what to fix.
public struct WorkloadError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
