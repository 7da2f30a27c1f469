// Ask/tell: a task whose `[workload] kind = "external"` has no program; its segments are run
// by the submitter's own loop (a notebook, a job they launch), which asks for them, reports
// metrics and tells how they ended — the worker protocol, for a client (docs/PROTOCOL.md,
// "Ask/tell").

extension RPCMethodName {
    public static let studyAsk = "study.ask"
    public static let studyReport = "study.report"
    public static let studyTell = "study.tell"
}

extension RPCMethods {
    public enum StudyAsk: RPCMethod {
        public typealias Params = StudyAskParams
        public typealias Result = StudyAskResult
        public static let name = RPCMethodName.studyAsk
    }
    public enum StudyReport: RPCMethod {
        public typealias Params = StudyReportParams
        public typealias Result = WorkerReportResult
        public static let name = RPCMethodName.studyReport
    }
    public enum StudyTell: RPCMethod {
        public typealias Params = StudyTellParams
        public typealias Result = StudyTellResult
        public static let name = RPCMethodName.studyTell
    }
}

/// `study.ask`: the next segment of an external task to run.
public struct StudyAskParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    /// Names this loop among the submitter's concurrent ones (default: the connection's pid).
    /// `study.report`/`study.tell` of a segment must give the same one.
    public var clientID: String?
    /// Long poll: wait up to this many seconds (at most 30) for a segment to be ready.
    public var waitSeconds: Double?
    /// A segment not reported on or told within this many seconds is re-asked (default 60,
    /// 1…3600); `study.report` renews it.
    public var leaseSeconds: Double?

    public init(taskID: TaskID, clientID: String? = nil, waitSeconds: Double? = nil, leaseSeconds: Double? = nil) {
        self.taskID = taskID
        self.clientID = clientID
        self.waitSeconds = waitSeconds
        self.leaseSeconds = leaseSeconds
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case clientID = "client_id"
        case waitSeconds = "wait_seconds"
        case leaseSeconds = "lease_seconds"
    }
}

/// `study.ask`'s result: a segment (as a worker's `Lease`: trial, configuration, steps
/// `[start_step, end_step)`, `restore_checkpoint` or none, `checkpoint_dir` to write), or none
/// with the task's status — `finished: true` once the task has ended.
public struct StudyAskResult: Codable, Sendable, Hashable {
    /// The segment; its `config` is what a command workload's program gets in `TUNED_CONFIG`
    /// (the daemon's own keys removed, whole numbers of float keys as floats).
    public var segment: Lease?
    public var finished: Bool
    public var status: TaskStatus
    public var retryAfterSeconds: Double?
    /// The trial's seed (a command's `TUNED_SEED`): initialisation and data order.
    public var seed: UInt64?
    /// With a `restore_checkpoint` from another member (a PBT exploit): restore the weights
    /// and step, take the hyperparameters from `config`, and keep the optimizer's state
    /// (`keep_optimizer_state`) or start it afresh (`reset_optimizer_state`); nil: a plain resume.
    public var exploit: String?

    public init(
        segment: Lease?, finished: Bool, status: TaskStatus, retryAfterSeconds: Double? = nil, seed: UInt64? = nil,
        exploit: String? = nil
    ) {
        self.segment = segment
        self.finished = finished
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.seed = seed
        self.exploit = exploit
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(segment, forKey: .segment)
        try c.encode(finished, forKey: .finished)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(retryAfterSeconds, forKey: .retryAfterSeconds)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(exploit, forKey: .exploit)
    }

    enum CodingKeys: String, CodingKey {
        case segment, finished, status, seed, exploit
        case retryAfterSeconds = "retry_after_seconds"
    }
}

/// `study.report`: metrics of an asked segment (also renews it).
public struct StudyReportParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var segmentID: SegmentID
    public var clientID: String?
    public var metrics: [MetricPoint]

    public init(taskID: TaskID, segmentID: SegmentID, clientID: String? = nil, metrics: [MetricPoint]) {
        self.taskID = taskID
        self.segmentID = segmentID
        self.clientID = clientID
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case metrics
        case taskID = "task_id"
        case segmentID = "segment_id"
        case clientID = "client_id"
    }
}

/// `study.tell`: how an asked segment ended. With `ok`, `checkpoint` is the segment's
/// `checkpoint_dir` with the state written in it (the daemon computes its digest); a loss
/// reported as NaN or ±∞ makes an `ok` segment `diverged`.
public struct StudyTellParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var segmentID: SegmentID
    public var clientID: String?
    public var status: SegmentStatus
    public var checkpoint: String?
    public var error: String?

    public init(
        taskID: TaskID, segmentID: SegmentID, clientID: String? = nil, status: SegmentStatus, checkpoint: String? = nil,
        error: String? = nil
    ) {
        self.taskID = taskID
        self.segmentID = segmentID
        self.clientID = clientID
        self.status = status
        self.checkpoint = checkpoint
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case status, checkpoint, error
        case taskID = "task_id"
        case segmentID = "segment_id"
        case clientID = "client_id"
    }
}

public struct StudyTellResult: Codable, Sendable, Hashable {
    /// False for a repeated tell of the same segment (nothing changed).
    public var committed: Bool
    /// How the daemon took it (`diverged` for an `ok` whose loss was not finite).
    public var status: SegmentStatus

    public init(committed: Bool, status: SegmentStatus) {
        self.committed = committed
        self.status = status
    }
}
