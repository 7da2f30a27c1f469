import TunedOptim

/// One metrics row of a training run.
public struct TrainingRecord: Sendable, Equatable, Codable {
    /// Completed optimizer steps when recorded.
    public var step: Int
    /// Mean of the minibatch losses of the steps since the previous record.
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationAccuracy: Double?
    /// The learning rate the optimizer holds after the step.
    public var learningRate: Double
    /// B_simple from the online estimator (`Trainer.measureNoiseScale`), once it has one.
    public var gradientNoiseScale: Double?

    public init(
        step: Int, trainLoss: Double, validationLoss: Double, validationAccuracy: Double?, learningRate: Double,
        gradientNoiseScale: Double? = nil
    ) {
        self.gradientNoiseScale = gradientNoiseScale
        self.step = step
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
    }
}

/// What `Trainer.run` did.
public struct TrainingResult: Sendable, Equatable {
    public var records: [TrainingRecord]
    /// Completed steps at the end of the run.
    public var step: Int
    /// A minibatch or validation loss was NaN or ±∞; the run stopped there.
    public var diverged: Bool
    /// The step whose loss was not finite (its update was not applied).
    public var divergedAtStep: Int?
}

/// Runs a workload with an optimizer from `OptimizerRegistry`, step by step, so that
/// `run(until: s1)` from a checkpoint at s0 equals an uninterrupted run bit for bit.
///
/// Step s (0-based) evaluates loss and gradient on minibatch s — or ⌊s/2⌋ for SAM, whose
/// two `step` calls per update (ascent to w+ε̂, then the base step with ∇L(w+ε̂)) must see
/// the same minibatch — then calls `optimizer.step`. After every `evalEvery` completed
/// steps it records (step, mean minibatch loss since the last record, validation loss and
/// accuracy from `evaluate` — at x for schedule-free optimizers, switched to and back as the
/// reference's opt.eval()/opt.train() — learning rate). Records fall only on multiples of `evalEvery`,
/// whatever the segment boundaries, so resumed runs record the same rows. A non-finite
/// loss stops the run with `diverged`.
///
/// Optimizers that accept only matrices (Muon) get the 2-D parameters, and `fallback`
/// (default torch AdamW, lr 1e-3) the others, through `MatrixSplitOptimizer`.
///
/// A workload known only as `any Workload<Scalar>` (from `WorkloadFactory`) trains through
/// `AnyWorkload`: `Trainer(workload: AnyWorkload(w), …)`.
public struct Trainer<W: Workload>: Sendable {
    public typealias Scalar = W.Scalar
    public let workload: W
    public let seed: UInt64
    public let batchSize: Int?
    public let evalEvery: Int
    public internal(set) var parameters: [Tensor<Scalar>]
    public internal(set) var optimizer: any Optimizer<Scalar>
    /// Completed steps.
    public internal(set) var step = 0
    public internal(set) var diverged = false
    var gradients: [Tensor<Scalar>]
    /// Σ and count of the minibatch losses since the last record (checkpointed).
    var lossSum = 0.0
    var lossCount = 0
    /// The mean minibatch loss since the last record — what the next record's `trainLoss`
    /// will include — or nil right after a record.
    public var runningTrainLoss: Double? { lossCount > 0 ? lossSum / Double(lossCount) : nil }
    /// The online gradient-noise-scale estimator and how often it measures (0: never).
    public internal(set) var noiseScale: GradientNoiseScale?
    public internal(set) var noiseScaleEvery = 0

    /// A trainer starting at step 0 from `workload.initialParameters(seed:)`, with the
    /// optimizer `spec` names (see `makeOptimizer`).
    public init(
        workload: W, optimizer spec: OptimizerSpec, seed: UInt64, batchSize: Int? = nil, evalEvery: Int = 100,
        fallback: OptimizerSpec = OptimizerSpec(name: "adamw")
    ) throws {
        let optimizer = try Self.makeOptimizer(spec, shapes: workload.parameterShapes, fallback: fallback)
        try self.init(workload: workload, optimizer: optimizer, seed: seed, batchSize: batchSize, evalEvery: evalEvery)
    }

    /// A trainer with an optimizer built elsewhere for `workload.parameterShapes`.
    public init(
        workload: W, optimizer: any Optimizer<Scalar>, seed: UInt64, batchSize: Int? = nil, evalEvery: Int = 100
    ) throws {
        guard evalEvery >= 1 else { throw WorkloadError("eval_every must be ≥ 1, got \(evalEvery)") }
        if let b = batchSize, b < 1 { throw WorkloadError("batch_size must be ≥ 1, got \(b)") }
        self.workload = workload
        self.seed = seed
        self.batchSize = batchSize
        self.evalEvery = evalEvery
        self.optimizer = optimizer
        gradientCallsPerBatch = optimizer.gradientCallsPerUpdate
        parameters = workload.initialParameters(seed: seed)
        gradients = workload.parameterShapes.map { Tensor(zeros: $0) }
    }

    /// `OptimizerRegistry.make` for all shapes; if that fails and the optimizer accepts
    /// the matrices alone, a `MatrixSplitOptimizer` with `fallback` for the rest.
    public static func makeOptimizer(_ spec: OptimizerSpec, shapes: [[Int]], fallback: OptimizerSpec) throws -> any Optimizer<Scalar> {
        try MatrixSplitOptimizer<Scalar>.make(spec, shapes: shapes, fallback: fallback)
    }

    /// Optimizer calls per minibatch (`Optimizer.gradientCallsPerUpdate`: 2 for SAM). Fixed at init:
    /// a restore must bring an optimizer of the same name.
    public let gradientCallsPerBatch: Int

    /// The minibatch step `s` trains on.
    public func batchIndex(forStep s: Int) -> Int { s / gradientCallsPerBatch }

    /// Trains until `step == end` (or divergence), calling `onRecord` for every record.
    @discardableResult
    public mutating func run(until end: Int, onRecord: (TrainingRecord) -> Void = { _ in }) -> TrainingResult {
        var result = TrainingResult(records: [], step: step, diverged: diverged, divergedAtStep: nil)
        while step < end && !diverged {
            let loss = workload.lossAndGradient(
                parameters, batch: batchIndex(forStep: step), seed: seed, batchSize: batchSize, gradients: &gradients)
            guard loss.isFinite else {
                diverged = true
                result.divergedAtStep = step
                break
            }
            optimizer.step(&parameters, gradients: gradients)
            step += 1
            lossSum += loss
            lossCount += 1
            if noiseScaleEvery > 0, step % noiseScaleEvery == 0 { measureNoiseScaleNow() }
            if step % evalEvery == 0 {
                // Schedule-free optimizers evaluate at x: the reference loop's opt.eval(),
                // evaluate, opt.train(), in place. The round trip rounds y, at steps that do
                // not depend on segment boundaries, so resumed runs stay bit-identical.
                optimizer.enterEvalMode(&parameters)
                let m = workload.evaluate(parameters)
                optimizer.enterTrainMode(&parameters)
                let record = TrainingRecord(
                    step: step, trainLoss: lossSum / Double(lossCount), validationLoss: m.validationLoss,
                    validationAccuracy: m.validationAccuracy, learningRate: optimizer.learningRate,
                    gradientNoiseScale: noiseScale?.simpleNoiseScale)
                lossSum = 0
                lossCount = 0
                result.records.append(record)
                onRecord(record)
                if !m.validationLoss.isFinite {
                    diverged = true
                    result.divergedAtStep = step
                }
            }
        }
        result.step = step
        result.diverged = diverged
        return result
    }

    /// Measures the gradient noise scale every `every` steps during `run`: McCandlish et al.'s
    /// two-batch estimator (`GradientNoiseScale`) on `bigBatch / smallBatch` extra gradient
    /// evaluations of `smallBatch` examples each (the `.nested` strategy), on minibatches
    /// drawn with a seed of their own, so training itself is unchanged. Cost per measurement:
    /// B_big examples, i.e. (B_big / B_train) training steps' worth of gradients every
    /// `every` steps. Records then carry B_simple; checkpoints carry the estimator.
    public mutating func measureNoiseScale(every: Int, smallBatch: Int, bigBatch: Int, beta: Double = 0.99) throws {
        guard every >= 1 else { throw WorkloadError("gradient noise scale: 'every' must be ≥ 1, got \(every)") }
        guard bigBatch % smallBatch == 0 else {
            throw WorkloadError("gradient noise scale: 'big_batch' (\(bigBatch)) must be a multiple of 'small_batch' (\(smallBatch))")
        }
        noiseScale = try GradientNoiseScale(smallBatch: smallBatch, bigBatch: bigBatch, beta: beta)
        noiseScaleEvery = every
    }

    mutating func measureNoiseScaleNow() {
        guard var estimator = noiseScale,
              let m = try? GradientNoiseScale.measure(
                workload, parameters, batch: step / noiseScaleEvery, seed: GradientNoiseScale.measurementSeed(seed),
                smallBatch: estimator.smallBatch, bigBatch: estimator.bigBatch)
        else { return }
        _ = estimator.update(smallSquaredNorm: m.smallSquaredNorm, bigSquaredNorm: m.bigSquaredNorm)
        noiseScale = estimator
    }

    /// The workload's metrics at the optimizer's evaluation point (x for schedule-free
    /// optimizers, else the parameters), computed on a copy: the training state is not
    /// touched, so an evaluation between segments (the final one) never changes a resume.
    public func evaluate() -> Metrics {
        workload.evaluate(optimizer.evaluationParameters(parameters))
    }

    /// Sets the learning rate (schedules, hypergradient descent, PBT explore).
    public mutating func setLearningRate(_ lr: Double) { optimizer.learningRate = lr }
}
