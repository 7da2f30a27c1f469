import TunedOptim

/// Two optimizers over disjoint parameter groups, as torch's Muon is used: `matrices`
/// updates the 2-D tensors, `others` (built from a fallback spec, e.g. AdamW) the rest.
///
/// `name`, `learningRate` and `stepCount` are the matrix optimizer's; the fallback keeps
/// its own learning rate. State is saved under `matrices.` and `others.`. A step moves
/// tensors into preallocated group arrays by `swap` (no copy, no allocation) and back.
public struct MatrixSplitOptimizer<Scalar: TunedScalar>: Optimizer {
    var matrices: any Optimizer<Scalar>
    var others: any Optimizer<Scalar>
    let matrixIndices: [Int]
    let otherIndices: [Int]
    var groupParams: ([Tensor<Scalar>], [Tensor<Scalar>])
    var groupGrads: ([Tensor<Scalar>], [Tensor<Scalar>])

    /// `OptimizerRegistry.make(spec)` for all shapes; if that fails and the optimizer accepts
    /// the matrices alone (Muon), a split with `fallback` for the other tensors.
    public static func make(_ spec: OptimizerSpec, shapes: [[Int]], fallback: OptimizerSpec) throws -> any Optimizer<Scalar> {
        do {
            return try OptimizerRegistry.make(spec, shapes: shapes, scalar: Scalar.self)
        } catch {
            let matrixShapes = shapes.filter { $0.count == 2 }
            guard !matrixShapes.isEmpty, matrixShapes.count < shapes.count,
                  let m: any Optimizer<Scalar> = try? OptimizerRegistry.make(spec, shapes: matrixShapes, scalar: Scalar.self)
            else { throw error }
            return try MatrixSplitOptimizer(matrices: m, fallback: fallback, shapes: shapes)
        }
    }

    public init(matrices: any Optimizer<Scalar>, fallback: OptimizerSpec, shapes: [[Int]]) throws {
        matrixIndices = shapes.indices.filter { shapes[$0].count == 2 }
        otherIndices = shapes.indices.filter { shapes[$0].count != 2 }
        self.matrices = matrices
        others = try OptimizerRegistry.make(fallback, shapes: otherIndices.map { shapes[$0] }, scalar: Scalar.self)
        let m = matrixIndices.map { Tensor<Scalar>(zeros: shapes[$0]) }, o = otherIndices.map { Tensor<Scalar>(zeros: shapes[$0]) }
        groupParams = (m, o)
        groupGrads = (m, o)
    }

    private static var empty: Tensor<Scalar> { Tensor(shape: [0], values: []) }

    public var name: String { matrices.name }
    public var learningRate: Double {
        get { matrices.learningRate }
        set { matrices.learningRate = newValue }
    }
    public var stepCount: Int { matrices.stepCount }
    public var gradientCallsPerUpdate: Int { max(matrices.gradientCallsPerUpdate, others.gradientCallsPerUpdate) }
    public var stateBytes: Int { matrices.stateBytes + others.stateBytes }

    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        for (j, i) in matrixIndices.enumerated() {
            swap(&params[i], &groupParams.0[j])
            groupGrads.0[j] = gradients[i]
        }
        for (j, i) in otherIndices.enumerated() {
            swap(&params[i], &groupParams.1[j])
            groupGrads.1[j] = gradients[i]
        }
        matrices.step(&groupParams.0, gradients: groupGrads.0)
        others.step(&groupParams.1, gradients: groupGrads.1)
        for (j, i) in matrixIndices.enumerated() { swap(&params[i], &groupParams.0[j]) }
        for (j, i) in otherIndices.enumerated() { swap(&params[i], &groupParams.1[j]) }
        // Drop the gradient references so that the caller's buffers stay uniquely referenced
        // (else its next in-place gradient write would copy them).
        for j in groupGrads.0.indices { groupGrads.0[j] = Self.empty }
        for j in groupGrads.1.indices { groupGrads.1[j] = Self.empty }
    }

    public var hasEvaluationParameters: Bool { matrices.hasEvaluationParameters || others.hasEvaluationParameters }

    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) {
        switchMode(&params) { o, p in o.enterEvalMode(&p) }
    }

    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) {
        switchMode(&params) { o, p in o.enterTrainMode(&p) }
    }

    /// `body` on each group's optimizer and tensors, moved in and out by `swap` as in `step`.
    private mutating func switchMode(_ params: inout [Tensor<Scalar>], _ body: (inout any Optimizer<Scalar>, inout [Tensor<Scalar>]) -> Void) {
        guard hasEvaluationParameters else { return }
        for (j, i) in matrixIndices.enumerated() { swap(&params[i], &groupParams.0[j]) }
        for (j, i) in otherIndices.enumerated() { swap(&params[i], &groupParams.1[j]) }
        body(&matrices, &groupParams.0)
        body(&others, &groupParams.1)
        for (j, i) in matrixIndices.enumerated() { swap(&params[i], &groupParams.0[j]) }
        for (j, i) in otherIndices.enumerated() { swap(&params[i], &groupParams.1[j]) }
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s.merge(matrices.saveState(), prefix: "matrices.")
        s.merge(others.saveState(), prefix: "others.")
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        try matrices.restoreState(state.extract(prefix: "matrices."))
        try others.restoreState(state.extract(prefix: "others."))
    }
}
