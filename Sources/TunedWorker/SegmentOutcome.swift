import TunedRPC

/// How a segment ended.
public enum SegmentOutcome: Sendable, Equatable {
    /// Reached `end_step`; the checkpoint directory's reference (path, step, checksum, size).
    case ok(CheckpointRef)
    /// The workload failed: a bad configuration, a missing dataset, a foreign checkpoint, a
    /// command that exited non-zero or was killed by a signal. `stderrTail`: command workloads.
    case failed(error: String, stderrTail: String?)
    /// A loss became NaN or ±∞ at `step`.
    case diverged(step: Int64)
    /// `isCancelled` returned true; the workload was stopped and no checkpoint is reported.
    case cancelled
    /// The segment ran longer than the runner's wall-clock limit and was killed.
    case timedOut(limitSeconds: Double, stderrTail: String?)

    public var isOK: Bool { if case .ok = self { true } else { false } }
}

/// What `SegmentRunner.run` did.
public struct SegmentResult: Sendable, Equatable {
    public var outcome: SegmentOutcome
    /// Metric rows passed to `onMetrics`.
    public var metricCount: Int
    /// Warnings (malformed metric tokens or lines of a command workload, ignored keys); the
    /// first 100 are kept, `warningCount` counts them all.
    public var warnings: [String]
    public var warningCount: Int
    /// The last lines of a command's stderr (at most `SegmentRunner.stderrTailBytes` bytes and
    /// `LineTail.defaultMaxLines` lines).
    public var stderrTail: String?
    /// A failure's reason in one line when the program said it (`KeyError: 'lr'`, the last
    /// line of its traceback); otherwise `finishParams` takes the error's first line.
    public var reason: String?
    /// The worker's lines for this segment (the program's ordinary stdout lines, warnings):
    /// the last 50 lines / 8 KiB.
    public var workerLog: String?
    /// Wall-clock seconds of the whole segment.
    public var seconds: Double

    public init(
        outcome: SegmentOutcome, metricCount: Int = 0, warnings: [String] = [], warningCount: Int? = nil,
        stderrTail: String? = nil, seconds: Double = 0
    ) {
        self.outcome = outcome
        self.metricCount = metricCount
        self.warnings = warnings
        self.warningCount = warningCount ?? warnings.count
        self.stderrTail = stderrTail
        self.seconds = seconds
    }

    /// The `worker.finish` request for this result. `cancelled` and `timedOut` finish as
    /// `failed` (the protocol's answer to `stop: true`); `diverged` carries the step in `error`.
    public func finishParams(workerID: String, segmentID: SegmentID) -> WorkerFinishParams {
        var p = finishParamsWithoutLog(workerID: workerID, segmentID: segmentID)
        if p.status != .ok {
            p.reason = reason ?? FailureReason.fromError(p.error ?? p.status.rawValue)
            p.workerLog = workerLog
        }
        return p
    }

    private func finishParamsWithoutLog(workerID: String, segmentID: SegmentID) -> WorkerFinishParams {
        switch outcome {
        case .ok(let ref):
            return WorkerFinishParams(workerID: workerID, segmentID: segmentID, status: .ok, checkpoint: ref, stderrTail: stderrTail)
        case .failed(let error, let tail):
            return WorkerFinishParams(workerID: workerID, segmentID: segmentID, status: .failed, error: error, stderrTail: tail ?? stderrTail)
        case .diverged(let step):
            return WorkerFinishParams(
                workerID: workerID, segmentID: segmentID, status: .diverged,
                error: "the loss became NaN or infinite at step \(step)", stderrTail: stderrTail)
        case .cancelled:
            return WorkerFinishParams(workerID: workerID, segmentID: segmentID, status: .failed, error: "cancelled", stderrTail: stderrTail)
        case .timedOut(let limit, let tail):
            return WorkerFinishParams(
                workerID: workerID, segmentID: segmentID, status: .failed,
                error: "killed after exceeding the wall-clock limit of \(SegmentLimit.seconds(limit)) s per segment ([limits] segment_wall_seconds of the daemon's configuration)",
                stderrTail: tail ?? stderrTail)
        }
    }
}
