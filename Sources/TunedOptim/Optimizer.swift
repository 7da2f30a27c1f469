/// An optimizer over a fixed list of parameter tensors.
///
/// An optimizer is created for the shapes of the tensors it will update (so that it can
/// reject, say, a vector given to Muon before training starts) and then called once per
/// step. Its state — moments, step count, learning rate — is exposed as a `StateDict`
/// that restores bit for bit: training resumed from a checkpoint equals uninterrupted
/// training exactly.
public protocol Optimizer<Scalar>: Sendable {
    associatedtype Scalar: TunedScalar

    /// The name this optimizer is registered under (`"adamw"`, `"muon"`, …).
    var name: String { get }

    /// The learning rate the next step uses. Schedules and hypergradient descent set it.
    var learningRate: Double { get set }

    /// Completed steps (t of the next step is `stepCount + 1`).
    var stepCount: Int { get }

    /// One update, in place. `gradients[i]` has the shape of `params[i]`, and both lists have
    /// the shapes the optimizer was created for.
    mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>])

    /// Bytes of optimizer state held for all parameters (moments, accumulators, buffers).
    var stateBytes: Int { get }

    /// Calls of `step` per parameter update, each with a gradient on the same minibatch:
    /// 2 for SAM (the ascent step, then the base step with the gradient at the perturbed
    /// point), 1 for everything else. Wrappers report their inner optimizer's.
    var gradientCallsPerUpdate: Int { get }

    /// The complete state, exactly.
    func saveState() -> StateDict

    /// Restores a state saved by an optimizer of the same kind and shapes.
    mutating func restoreState(_ state: StateDict) throws

    /// True when the parameters the optimizer trains at are not the ones to evaluate
    /// (schedule-free: it steps at y and evaluates at x). Wrappers report their inner's.
    var hasEvaluationParameters: Bool { get }

    /// The reference's `optimizer.eval()`: moves `params` (held at the training point) to the
    /// evaluation point in place. No-op for optimizers without evaluation parameters and
    /// before the first step. `enterTrainMode` undoes it (up to rounding, as the reference).
    mutating func enterEvalMode(_ params: inout [Tensor<Scalar>])

    /// The reference's `optimizer.train()`: moves `params` back to the training point.
    /// A schedule-free optimizer must be in train mode when `step` is called.
    mutating func enterTrainMode(_ params: inout [Tensor<Scalar>])
}

extension Optimizer {
    public var gradientCallsPerUpdate: Int { 1 }
    public var hasEvaluationParameters: Bool { false }
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) {}
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) {}

    /// The evaluation point of `params` without changing the optimizer or `params`: a
    /// copy moved by `enterEvalMode` (bit-identical to the in-place switch), or `params`.
    public func evaluationParameters(_ params: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        guard hasEvaluationParameters else { return params }
        var o = self, p = params
        o.enterEvalMode(&p)
        return p
    }

    /// Optimizer-state bytes per parameter element, averaged over the tensors.
    public func stateBytesPerParameter(shapes: [[Int]]) -> Double {
        let n = shapes.reduce(0) { $0 + $1.reduce(1, *) }
        return n == 0 ? 0 : Double(stateBytes) / Double(n)
    }
}

/// An error in an optimizer's configuration or restored state; the message names the
/// hyperparameter or key and says what is wrong.
public struct OptimizerError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
