import Foundation
import TunedOptim
import TunedRPC
import TunedWorkloads

/// One segment of a built-in workload: build the workload and the trial's optimizer, restore
/// a checkpoint if there is one, train to `endStep`, write the checkpoint. The one
/// implementation of "train one segment" — `SegmentRunner` (workers) and `tuned train` both
/// call it.
public struct BuiltinSegment: Sendable {
    /// The `[workload]` table (any kind of `WorkloadFactory.kinds`).
    public var workload: [String: JSONValue]
    /// Relative dataset paths resolve against this folder.
    public var baseDirectory: String
    /// The trial configuration (`TrialConfig`), strategy settings already merged in.
    public var config: [String: JSONValue]
    /// Seed of initialisation and minibatch order (part of the checkpoint's identity).
    public var seed: UInt64
    /// The step the segment must start at; nil: wherever the restored checkpoint is (0 without one).
    public var startStep: Int?
    /// Train until this many steps are done (a restored checkpoint beyond it, with no
    /// `startStep` required, trains no further).
    public var endStep: Int
    /// A training record (and metric rows) every this many steps, on multiples of it.
    public var evalEvery: Int
    /// Measure the gradient noise scale during training.
    public var noiseScale: NoiseScaleSettings?
    public var restoreDirectory: URL?
    /// A plain resume, or a PBT exploit (weights from another member, the new config's lr).
    public var restoreMode: RestoreMode = .resume
    /// Where to write the final checkpoint (not written when the run diverged or was stopped).
    public var checkpointDirectory: URL?
    /// Names used in error messages.
    public var workloadContext = "[workload]"
    public var configContext = "config"
    /// Reuse the workload built for an earlier segment (workers set it; nil: build it anew).
    public var workloadCache: WorkloadCache?

    public struct NoiseScaleSettings: Sendable, Equatable {
        public var every: Int
        public var smallBatch: Int
        public var bigBatch: Int
        /// When set, measurements are spaced so that their extra gradients (B_big examples
        /// each) stay within this fraction of the training's (B_train per step): every
        /// max(`every`, ⌈B_big / (B_train · maxOverhead)⌉) steps. The daemon's default
        /// measurement uses 2 %; a batch-1 workload is then measured every 6,400 steps.
        public var maxOverhead: Double?
        public init(every: Int, smallBatch: Int = 8, bigBatch: Int = 128, maxOverhead: Double? = nil) {
            self.every = every
            self.smallBatch = smallBatch
            self.bigBatch = bigBatch
            self.maxOverhead = maxOverhead
        }

        /// The measurement interval for training batches of `trainBatch` examples.
        public func interval(trainBatch: Int?) -> Int {
            guard let f = maxOverhead, f > 0, let b = trainBatch, b > 0 else { return every }
            return max(every, Int((Double(bigBatch) / (Double(b) * f)).rounded(.up)))
        }
    }

    public init(
        workload: [String: JSONValue], baseDirectory: String = FileManager.default.currentDirectoryPath,
        config: [String: JSONValue], seed: UInt64, startStep: Int? = nil, endStep: Int, evalEvery: Int = 100,
        noiseScale: NoiseScaleSettings? = nil, restoreDirectory: URL? = nil, checkpointDirectory: URL? = nil
    ) {
        self.workload = workload
        self.baseDirectory = baseDirectory
        self.config = config
        self.seed = seed
        self.startStep = startStep
        self.endStep = endStep
        self.evalEvery = evalEvery
        self.noiseScale = noiseScale
        self.restoreDirectory = restoreDirectory
        self.checkpointDirectory = checkpointDirectory
    }

    /// Why a run stopped before `endStep`.
    public enum Stop: Sendable, Equatable {
        case cancelled
        case timedOut(limit: Double)
        /// Over a CPU-time or memory limit of the segment.
        case limit(SegmentLimit)
    }

    /// The state at the end of the segment, evaluated on the whole training and validation sets.
    public struct FinalMetrics: Sendable, Equatable {
        public var trainLoss: Double
        /// The mean minibatch loss since the last record (`Trainer.runningTrainLoss`).
        public var runningTrainLoss: Double? = nil
        public var validationLoss: Double
        public var validationAccuracy: Double?
        public var learningRate: Double
        public var gradientNoiseScale: Double?
    }

    public struct Result: Sendable, Equatable {
        /// The step training started from (the restored checkpoint's, or 0).
        public var startStep: Int
        /// Completed steps at the end.
        public var step: Int
        public var diverged: Bool
        /// The step whose loss was not finite.
        public var divergedAtStep: Int?
        public var stopped: Stop?
        /// The last training record's step (nil if none in this segment).
        public var lastRecordStep: Int?
        public var final: FinalMetrics?
        /// Seconds spent training (not building the workload, not writing the checkpoint).
        public var trainingSeconds: Double
        /// The checkpoint written, if `checkpointDirectory` was set and the run reached `endStep`.
        public var checkpoint: CheckpointRef?
    }

    /// Runs the segment in `Scalar` arithmetic. `onRecord` gets every training record;
    /// `shouldStop` is asked between chunks of at most `evalEvery` steps (at record
    /// boundaries, so stopping never changes what was recorded). `finalEvaluation`
    /// evaluates the end state on the full sets (one extra pass over the data).
    /// Throws `WorkloadError`, `OptimizerError` or `WorkerError` with a message for the user.
    public func run<Scalar: KernelScalar>(
        _: Scalar.Type, finalEvaluation: Bool = false, onRecord: (TrainingRecord) -> Void = { _ in },
        shouldStop: () -> Stop? = { nil }
    ) throws -> Result {
        guard evalEvery >= 1 else { throw WorkerError("eval_every must be ≥ 1, got \(evalEvery)") }
        let w: any Workload<Scalar> =
            try workloadCache?.workload(workload, baseDirectory: baseDirectory, context: workloadContext, as: Scalar.self)
            ?? WorkloadFactory.make(workload, baseDirectory: baseDirectory, context: workloadContext)
        let trial = try TrialConfig(json: config, context: configContext)
        return try run(AnyWorkload(w), trial, finalEvaluation: finalEvaluation, onRecord: onRecord, shouldStop: shouldStop)
    }

    private func run<W: Workload>(
        _ w: W, _ trial: TrialConfig, finalEvaluation: Bool, onRecord: (TrainingRecord) -> Void, shouldStop: () -> Stop?
    ) throws -> Result {
        var trainer = try trial.makeTrainer(workload: w, seed: seed, evalEvery: evalEvery)
        if let n = noiseScale, n.every > 0 {
            try trainer.measureNoiseScale(
                every: n.interval(trainBatch: trainer.batchSize), smallBatch: n.smallBatch, bigBatch: n.bigBatch)
        }
        if let restoreDirectory {
            if let checkpointDirectory, Self.samePath(restoreDirectory, checkpointDirectory) {
                throw WorkerError("the checkpoint directory \(checkpointDirectory.path) is also the one to restore from; a segment must write a new checkpoint")
            }
            try trainer.restore(Checkpoint<W.Scalar>.read(from: restoreDirectory), mode: restoreMode)
        }
        let start = trainer.step
        if let startStep, startStep != start {
            throw WorkerError(restoreDirectory == nil
                ? "the segment starts at step \(startStep) but has no checkpoint to restore from"
                : "the checkpoint in \(restoreDirectory!.path) is at step \(start), the segment starts at step \(startStep)")
        }
        // A segment must not end before it starts; without a required start (`tuned train`), a
        // checkpoint already past `endStep` simply has nothing left to do.
        guard endStep >= start || startStep == nil else {
            throw WorkerError("the segment ends at step \(endStep), before its start at step \(start)")
        }
        var result = Result(
            startStep: start, step: start, diverged: trainer.diverged, divergedAtStep: trainer.diverged ? start : nil,
            stopped: nil, lastRecordStep: nil, final: nil, trainingSeconds: 0, checkpoint: nil)
        let t0 = Date()
        while trainer.step < endStep, !trainer.diverged {
            if let stop = shouldStop() {
                result.stopped = stop
                break
            }
            // Up to the next record boundary: records fall on multiples of evalEvery whatever the chunks.
            let next = min(endStep, (trainer.step / evalEvery + 1) * evalEvery)
            let r = trainer.run(until: next) { record in
                result.lastRecordStep = record.step
                onRecord(record)
            }
            if r.diverged { result.divergedAtStep = r.divergedAtStep ?? r.step }
        }
        result.trainingSeconds = Date().timeIntervalSince(t0)
        result.step = trainer.step
        result.diverged = trainer.diverged
        if finalEvaluation {
            let m = trainer.evaluate()  // at x for schedule-free optimizers
            result.final = FinalMetrics(
                trainLoss: m.trainLoss, validationLoss: m.validationLoss, validationAccuracy: m.validationAccuracy,
                learningRate: trainer.optimizer.learningRate, gradientNoiseScale: trainer.noiseScale?.simpleNoiseScale)
            result.final?.runningTrainLoss = trainer.runningTrainLoss
        }
        if let checkpointDirectory, !result.diverged, result.stopped == nil {
            try trainer.checkpoint().write(to: checkpointDirectory)
            result.checkpoint = try CheckpointDigest.reference(directory: checkpointDirectory, step: Int64(trainer.step))
        }
        return result
    }

    static func samePath(_ a: URL, _ b: URL) -> Bool {
        a.standardizedFileURL.resolvingSymlinksInPath().path == b.standardizedFileURL.resolvingSymlinksInPath().path
    }
}
