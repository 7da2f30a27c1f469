import TunedOptim

/// A type-erased workload, so that one known only as `any Workload<Scalar>` (what
/// `WorkloadFactory.make` returns) can be the `W` of a generic `Trainer<W>`. Forwards every
/// requirement, and the configuration hash when the wrapped workload has one.
public struct AnyWorkload<Scalar: TunedScalar>: Workload, ConfigurationHashing {
    public let base: any Workload<Scalar>

    public init(_ base: any Workload<Scalar>) { self.base = base }

    public var kind: String { base.kind }
    public var parameterShapes: [[Int]] { base.parameterShapes }
    public func initialParameters(seed: UInt64) -> [Tensor<Scalar>] { base.initialParameters(seed: seed) }

    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?, gradients: inout [Tensor<Scalar>]
    ) -> Double {
        base.lossAndGradient(params, batch: batch, seed: seed, batchSize: batchSize, gradients: &gradients)
    }

    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics { base.evaluate(params) }
    public var features: TaskFeatures { base.features }
    public var configurationHash: UInt64 { base.identity(seed: 0).configurationHash }
}
