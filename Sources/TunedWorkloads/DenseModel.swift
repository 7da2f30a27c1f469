import TunedOptim

/// The data-driven model families, by their task-file `kind`.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    /// Linear regression, mean squared error.
    case linreg
    /// Logistic regression (one logit), binary cross-entropy.
    case logreg
    /// Softmax (multinomial logistic) regression, cross-entropy.
    case softmax
    /// Multi-layer perceptron: softmax cross-entropy (classification) or MSE (regression).
    case mlp
}

/// How a `DenseModel` is built: the family, the MLP's hidden widths and activation, and
/// the default minibatch size.
public struct DenseModelConfig: Sendable, Equatable, Codable {
    public var kind: ModelKind
    /// Hidden-layer widths, input to output (MLP only; must be empty for the linear models).
    public var hidden: [Int]
    public var activation: Activation
    public var batchSize: Int

    public init(kind: ModelKind, hidden: [Int] = [], activation: Activation = .relu, batchSize: Int = 64) {
        self.kind = kind
        self.hidden = hidden
        self.activation = activation
        self.batchSize = batchSize
    }

    public static func mlp(hidden: [Int], activation: Activation = .relu, batchSize: Int = 64) -> Self {
        Self(kind: .mlp, hidden: hidden, activation: activation, batchSize: batchSize)
    }
}

/// Linear, logistic and softmax regression and the MLP: a stack of dense layers
/// z_l = a_{l−1}·W_lᵀ + b_l, a_l = f(z_l) on hidden layers, and a loss on the last z.
///
/// **Parameter layout** (the order of `parameterShapes`): for each layer l = 1 … L the
/// weight matrix W_l of shape **[fan_out, fan_in]** (torch's `nn.Linear` layout, so that
/// shape-dependent optimizer rules — Muon's √max(1, rows/cols) scale, Adafactor's factored
/// dimensions — read the same shapes as the torch references), then its bias b_l of shape
/// [fan_out] as a separate 1-D tensor (so that Muon can take exactly the matrices).
///
/// **Losses** (means over the minibatch rows):
/// softmax cross-entropy ℓ = logΣ_k e^{z_k} − z_y via a max-shifted log-sum-exp;
/// binary cross-entropy with one logit ℓ = max(z, 0) − y·z + log(1 + e^{−|z|}) (never
/// overflows); squared error ℓ = (z − y)² (torch's `MSELoss`, no ½).
///
/// **Initialisation** (pure function of the seed): biases 0; a layer followed by ReLU or
/// GELU draws W ~ U(±√(6/fan_in)) (He uniform), one followed by tanh and the output layer
/// draw U(±√(6/(fan_in+fan_out))) (Glorot uniform), from the counter-based stream of
/// `(seed, layer)`, row-major.
public struct DenseModel<Scalar: KernelScalar>: Workload, Sendable {
    public let config: DenseModelConfig
    public let dataset: Dataset
    /// [input, hidden…, output].
    public let sizes: [Int]
    let head: LossHead
    let trainX: [Scalar]
    let validationX: [Scalar]
    /// Class indices (classification) or targets as Scalar (regression).
    let trainLabels: [Int32]
    let validationLabels: [Int32]
    let trainValues: [Scalar]
    let validationValues: [Scalar]
    let pool: WorkspacePool<Scalar>

    /// Rows per forward pass in `evaluate`.
    static var evaluationChunk: Int { 256 }

    public init(dataset: Dataset, config: DenseModelConfig) throws {
        try Self.validate(config, dataset)
        self.config = config
        self.dataset = dataset
        let hidden = config.kind == .mlp ? config.hidden : []
        let out = config.kind == .logreg ? 1 : dataset.outputSize
        let sizes = [dataset.inputSize] + hidden + [out]
        self.sizes = sizes
        parameterShapes = (0..<sizes.count - 1).flatMap { l in [[sizes[l + 1], sizes[l]], [sizes[l + 1]]] }
        head = dataset.task == .regression ? .meanSquaredError : (config.kind == .logreg ? .binaryCrossEntropy : .softmaxCrossEntropy)
        trainX = dataset.trainInputs.map { Scalar($0) }
        validationX = dataset.validationInputs.map { Scalar($0) }
        let isClass = dataset.task == .classification
        trainLabels = isClass ? dataset.trainTargets.map { Int32($0) } : []
        validationLabels = isClass ? dataset.validationTargets.map { Int32($0) } : []
        trainValues = isClass ? [] : dataset.trainTargets.map { Scalar($0) }
        validationValues = isClass ? [] : dataset.validationTargets.map { Scalar($0) }
        pool = WorkspacePool(sizes: sizes, initialCapacity: max(min(config.batchSize, dataset.trainCount), Self.evaluationChunk))
    }

    public var kind: String { config.kind.rawValue }
    public var layerCount: Int { sizes.count - 1 }

    /// [W_1, b_1, W_2, b_2, …] shapes (stored: a step compares against it without allocating).
    public let parameterShapes: [[Int]]

    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] {
        var out = [Tensor<Scalar>]()
        for l in 0..<layerCount {
            let fanIn = sizes[l], fanOut = sizes[l + 1]
            let he = l < layerCount - 1 && config.activation.usesHeInit
            let bound = he ? (6 / Double(fanIn)).squareRoot() : (6 / Double(fanIn + fanOut)).squareRoot()
            var rng = CounterRNG(key: CounterRNG.key(seed, 0x1A7E_2, UInt64(l)))
            var w = [Scalar](repeating: 0, count: fanIn * fanOut)
            for i in w.indices { w[i] = Scalar(bound * (2 * rng.uniform() - 1)) }
            out.append(Tensor(shape: [fanOut, fanIn], values: w))
            out.append(Tensor(zeros: [fanOut]))
        }
        return out
    }

    /// FNV-1a of everything that decides the loss surface: kind, layer sizes, activation,
    /// default batch size and the dataset's fingerprint (data, split, standardisation).
    public var configurationHash: UInt64 {
        var h = FNV1a64()
        h.add(config.kind.rawValue)
        for s in sizes { h.add(s) }
        h.add(config.activation.rawValue)
        h.add(config.batchSize)
        h.add(dataset.fingerprint)
        return h.value
    }

    /// Depth = number of weight layers; widest layer = max over input, hidden and output
    /// widths; dataset size = all rows (train + validation); batch size = the default,
    /// clamped to the training rows.
    public var features: TaskFeatures {
        let shapes = parameterShapes
        let total = shapes.reduce(0) { $0 + $1.reduce(1, *) }
        let matrices = shapes.filter { $0.count == 2 }.reduce(0) { $0 + $1.reduce(1, *) }
        return TaskFeatures(
            modelKind: kind, parameterCount: total, depth: layerCount, widestLayer: sizes.max(),
            matrixParameterFraction: Double(matrices) / Double(max(total, 1)),
            datasetSize: dataset.trainCount + dataset.validationCount, inputSize: sizes[0],
            outputSize: sizes[sizes.count - 1], taskType: dataset.task.rawValue,
            batchSize: min(config.batchSize, dataset.trainCount))
    }

    static func validate(_ c: DenseModelConfig, _ d: Dataset) throws {
        guard c.batchSize >= 1 else { throw WorkloadError("batch_size must be ≥ 1, got \(c.batchSize)") }
        if let w = c.hidden.first(where: { $0 < 1 }) {
            throw WorkloadError("hidden layer widths must be ≥ 1, got \(w) in \(c.hidden)")
        }
        switch c.kind {
        case .mlp:
            break
        case .linreg, .logreg, .softmax:
            guard c.hidden.isEmpty else {
                throw WorkloadError("kind '\(c.kind.rawValue)' has no hidden layers, but hidden = \(c.hidden); remove `hidden` or use kind = \"mlp\"")
            }
        }
        switch (c.kind, d.task) {
        case (.linreg, .classification):
            throw WorkloadError("kind 'linreg' needs a regression target, but \(d.source) has class labels; use 'logreg' or 'softmax', or set the task to regression")
        case (.logreg, .regression), (.softmax, .regression):
            throw WorkloadError("kind '\(c.kind.rawValue)' needs class labels, but \(d.source)'s target is treated as regression; use 'linreg', or set the task to classification")
        case (.logreg, .classification) where d.classCount != 2:
            throw WorkloadError("kind 'logreg' is binary and needs labels 0 and 1, but \(d.source) has labels up to \(d.classCount - 1); use 'softmax'")
        default:
            break
        }
    }
}

/// The loss on the last layer's outputs.
enum LossHead: Sendable {
    case softmaxCrossEntropy, binaryCrossEntropy, meanSquaredError
}
