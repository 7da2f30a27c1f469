import TunedOptim

/// The two squared gradient norms of one noise-scale measurement, and what they cost.
public struct NoiseScaleMeasurement: Sendable, Equatable {
    public var smallBatch: Int
    public var bigBatch: Int
    /// |G_small|², summed over all parameter tensors, in `Double`.
    public var smallSquaredNorm: Double
    /// |G_big|².
    public var bigSquaredNorm: Double
    /// Calls to `lossAndGradient` this measurement made (its stated cost).
    public var gradientEvaluations: Int
    /// Examples those calls saw in total.
    public var examples: Int
}

/// How the two gradients of a measurement are formed.
public enum NoiseScaleMeasurementStrategy: String, Sendable, CaseIterable {
    /// k = B_big/B_small gradients of B_small examples on consecutive minibatches
    /// `batch·k + j` (j = 0…k−1); G_small is the first, G_big their mean, which for a
    /// mean-reduced loss is the gradient of the k batches concatenated (B_big examples).
    /// Cost: k gradient evaluations, B_big examples. Requires B_small to divide B_big. The
    /// small batch lies inside the big one, as in McCandlish et al.'s data-parallel recipe;
    /// the estimators stay unbiased and their correlation lowers the variance.
    case nested
    /// Two independent gradients: G_small on minibatch `2·batch` at B_small and G_big on
    /// minibatch `2·batch + 1` at B_big (`batchSize` overrides). Cost: 2 gradient
    /// evaluations, B_small + B_big examples.
    case independent
}

extension GradientNoiseScale {
    /// A seed for measurement minibatches that differs from `trainingSeed`, so that
    /// measurements never reuse the noise or the examples of training steps.
    public static func measurementSeed(_ trainingSeed: UInt64) -> UInt64 {
        NoiseRandom.derivedSeed(trainingSeed, tag: 0x474E_5300)  // "GNS"
    }

    /// Measures |G_small|² and |G_big|² for `workload` at `params` (see
    /// `NoiseScaleMeasurementStrategy` for the minibatches used and the cost).
    ///
    /// - Throws: `WorkloadError` naming `small_batch`/`big_batch` unless 1 ≤ B_small < B_big,
    ///   and, for `.nested`, unless B_small divides B_big.
    public static func measure<W: Workload>(
        _ workload: W, _ params: [Tensor<W.Scalar>], batch: Int, seed: UInt64, smallBatch: Int, bigBatch: Int,
        strategy: NoiseScaleMeasurementStrategy = .nested
    ) throws -> NoiseScaleMeasurement {
        try check(smallBatch: smallBatch, bigBatch: bigBatch, beta: 0)
        var gradients = params.map { Tensor<W.Scalar>(zeros: $0.shape) }
        switch strategy {
        case .independent:
            _ = workload.lossAndGradient(
                params, batch: batch &* 2, seed: seed, batchSize: smallBatch, gradients: &gradients)
            let small = squaredNorm(gradients)
            _ = workload.lossAndGradient(
                params, batch: batch &* 2 &+ 1, seed: seed, batchSize: bigBatch, gradients: &gradients)
            return NoiseScaleMeasurement(
                smallBatch: smallBatch, bigBatch: bigBatch, smallSquaredNorm: small,
                bigSquaredNorm: squaredNorm(gradients), gradientEvaluations: 2, examples: smallBatch + bigBatch)
        case .nested:
            guard bigBatch % smallBatch == 0 else {
                throw WorkloadError(
                    "gradient noise scale: 'big_batch' (\(bigBatch)) must be a multiple of 'small_batch' "
                        + "(\(smallBatch)) for nested measurements")
            }
            let k = bigBatch / smallBatch
            var sum = [Double](repeating: 0, count: gradients.reduce(0) { $0 + $1.count })
            var small = 0.0
            for j in 0..<k {
                _ = workload.lossAndGradient(
                    params, batch: batch &* k &+ j, seed: seed, batchSize: smallBatch, gradients: &gradients)
                if j == 0 { small = squaredNorm(gradients) }
                accumulate(gradients, into: &sum)
            }
            let scale = 1 / Double(k)
            var big = 0.0
            for v in sum { big += (v * scale) * (v * scale) }
            return NoiseScaleMeasurement(
                smallBatch: smallBatch, bigBatch: bigBatch, smallSquaredNorm: small, bigSquaredNorm: big,
                gradientEvaluations: k, examples: bigBatch)
        }
    }

    /// Measures with this estimator's batch sizes and folds the result in; returns the
    /// measurement's own estimates (nil when a norm was not finite).
    @discardableResult
    public mutating func measure<W: Workload>(
        _ workload: W, _ params: [Tensor<W.Scalar>], batch: Int, seed: UInt64,
        strategy: NoiseScaleMeasurementStrategy = .nested
    ) throws -> Estimate? {
        let m = try Self.measure(
            workload, params, batch: batch, seed: seed, smallBatch: smallBatch, bigBatch: bigBatch, strategy: strategy)
        return update(smallSquaredNorm: m.smallSquaredNorm, bigSquaredNorm: m.bigSquaredNorm)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func squaredNorm<Scalar: TunedScalar>(_ tensors: [Tensor<Scalar>]) -> Double {
        var s = 0.0
        for t in tensors {
            t.values.withUnsafeBufferPointer { v in
                for x in v {
                    let d = x.double
                    s += d * d
                }
            }
        }
        return s
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func accumulate<Scalar: TunedScalar>(_ tensors: [Tensor<Scalar>], into sum: inout [Double]) {
        var offset = 0
        sum.withUnsafeMutableBufferPointer { out in
            for t in tensors {
                t.values.withUnsafeBufferPointer { v in
                    for i in 0..<v.count { out[offset + i] += v[i].double }
                }
                offset += t.count
            }
        }
    }
}
