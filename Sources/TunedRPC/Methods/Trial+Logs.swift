// Types of trial.logs: why segments failed, with the program's stderr tail and the
// worker's lines, for `tunectl logs`, `tunectl trials` and the failure summary of
// `submit --wait` / `watch`.

extension RPCMethodName {
    public static let trialLogs = "trial.logs"
}

extension RPCMethods {
    /// The failure logs of a task's segments, oldest first.
    public enum TrialLogs: RPCMethod {
        public typealias Params = TrialLogsParams
        public typealias Result = TunedRPC.TrialLogs
        public static let name = RPCMethodName.trialLogs
    }
}

/// `trial.logs`: a task's failure logs; only one trial's (`trial_id`), one segment's
/// (`segment_id`), the first `limit`.
public struct TrialLogsParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var trialID: TrialID?
    public var segmentID: SegmentID?
    public var limit: Int?

    public init(taskID: TaskID, trialID: TrialID? = nil, segmentID: SegmentID? = nil, limit: Int? = nil) {
        self.taskID = taskID
        self.trialID = trialID
        self.segmentID = segmentID
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case limit
        case taskID = "task_id"
        case trialID = "trial_id"
        case segmentID = "segment_id"
    }
}

/// One failed or diverged attempt of a segment.
public struct SegmentLog: Codable, Sendable, Hashable {
    public var trialID: TrialID
    public var member: Int
    public var segmentID: SegmentID
    public var startStep: Int64
    public var endStep: Int64
    /// 1 for the segment's first attempt.
    public var attempt: Int
    /// `failed` or `diverged`.
    public var status: String
    /// One line: `KeyError: 'lr'`.
    public var reason: String
    /// The whole error: `python3 exited with status 1`.
    public var error: String
    /// The program's last stderr lines (command workloads).
    public var stderrTail: String?
    /// The worker's own lines for the segment (the program's other output, warnings).
    public var workerLog: String?
    public var workerID: String?
    public var at: Double

    public init(
        trialID: TrialID, member: Int, segmentID: SegmentID, startStep: Int64, endStep: Int64, attempt: Int,
        status: String, reason: String, error: String, stderrTail: String? = nil, workerLog: String? = nil,
        workerID: String? = nil, at: Double
    ) {
        self.trialID = trialID
        self.member = member
        self.segmentID = segmentID
        self.startStep = startStep
        self.endStep = endStep
        self.attempt = attempt
        self.status = status
        self.reason = reason
        self.error = error
        self.stderrTail = stderrTail
        self.workerLog = workerLog
        self.workerID = workerID
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case member, attempt, status, reason, error, at
        case trialID = "trial_id"
        case segmentID = "segment_id"
        case startStep = "start_step"
        case endStep = "end_step"
        case stderrTail = "stderr_tail"
        case workerLog = "worker_log"
        case workerID = "worker_id"
    }
}

/// `trial.logs`' result.
public struct TrialLogs: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var logs: [SegmentLog]

    public init(taskID: TaskID, logs: [SegmentLog]) {
        self.taskID = taskID
        self.logs = logs
    }

    enum CodingKeys: String, CodingKey {
        case logs
        case taskID = "task_id"
    }
}
