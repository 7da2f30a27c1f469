// Types of the worker methods: hello, lease, heartbeat, report, finish.
// A worker says hello once per connection, then loops: lease → (report | heartbeat)* → finish.

/// The environment variable that carries the daemon's worker secret to a `tuned worker`
/// started by hand (the daemon's own workers read it from their standard input). Workers
/// remove it from their environment, so the programs they run never see it.
public let workerSecretEnvironmentKey = "TUNED_WORKER_SECRET"

/// `worker.hello`: a worker introduces itself and proves it is one of the daemon's own with
/// the daemon's worker secret; the connection is then that worker's (docs/PROTOCOL.md,
/// "Workers"). Every other `worker.*` method needs such a connection.
public struct WorkerHelloParams: Codable, Sendable, Hashable {
    public var workerID: String
    public var pid: Int32
    public var protocolVersion: Int?
    /// The daemon's worker secret (handed to the workers it spawns on their standard input).
    public var secret: String?

    public init(workerID: String, pid: Int32, protocolVersion: Int? = rpcProtocolVersion, secret: String? = nil) {
        self.workerID = workerID
        self.pid = pid
        self.protocolVersion = protocolVersion
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case pid, secret
        case workerID = "worker_id"
        case protocolVersion = "protocol_version"
    }
}

public struct WorkerHelloResult: Codable, Sendable, Hashable {
    /// How often to heartbeat while holding a lease.
    public var heartbeatSeconds: Double
    /// A lease not renewed for this long expires and its segment is re-queued.
    public var leaseSeconds: Double

    public init(heartbeatSeconds: Double, leaseSeconds: Double) {
        self.heartbeatSeconds = heartbeatSeconds
        self.leaseSeconds = leaseSeconds
    }

    enum CodingKeys: String, CodingKey {
        case heartbeatSeconds = "heartbeat_seconds"
        case leaseSeconds = "lease_seconds"
    }
}

/// `worker.lease`: ask for a segment to run.
public struct WorkerLeaseParams: Codable, Sendable, Hashable {
    public var workerID: String
    /// Long poll: when nothing is queued, the daemon holds the reply up to this many seconds
    /// (at most 30) and answers as soon as a segment is queued. nil or 0: answer at once.
    public var waitSeconds: Double?

    public init(workerID: String, waitSeconds: Double? = nil) {
        self.workerID = workerID
        self.waitSeconds = waitSeconds
    }

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case waitSeconds = "wait_seconds"
    }
}

/// A segment granted to a worker: train `trial_id` with `config` from `start_step` to
/// `end_step`, restoring from `restore_checkpoint` if given, writing the new checkpoint under
/// `checkpoint_dir`.
public struct Lease: Codable, Sendable, Hashable {
    public var segmentID: SegmentID
    public var taskID: TaskID
    public var trialID: TrialID
    /// The trial's flat configuration (`{"optimizer": "adamw", "lr": 0.001, …}`).
    public var config: RPCValue
    public var startStep: Int64
    public var endStep: Int64
    /// The checkpoint directory to restore from; nil to start from scratch.
    public var restoreCheckpoint: String?
    /// Where to write this segment's checkpoint.
    public var checkpointDir: String
    /// Heartbeat (or report) within this many seconds or lose the lease.
    public var leaseSeconds: Double
    /// The task's `[workload]` section, resolved (dataset paths absolute).
    public var workload: RPCValue
    /// HD and other per-step settings of the strategy, if any (`{"hypergradient": {"beta": 1e-4}}`).
    public var strategy: RPCValue?
    /// The user a command workload's program runs as (set when the daemon runs as root and
    /// another user submitted the task); nil: the worker's own user.
    public var runAs: RunAs?

    public init(
        segmentID: SegmentID, taskID: TaskID, trialID: TrialID, config: RPCValue, startStep: Int64,
        endStep: Int64, restoreCheckpoint: String? = nil, checkpointDir: String, leaseSeconds: Double,
        workload: RPCValue, strategy: RPCValue? = nil, runAs: RunAs? = nil
    ) {
        self.runAs = runAs
        self.segmentID = segmentID
        self.taskID = taskID
        self.trialID = trialID
        self.config = config
        self.startStep = startStep
        self.endStep = endStep
        self.restoreCheckpoint = restoreCheckpoint
        self.checkpointDir = checkpointDir
        self.leaseSeconds = leaseSeconds
        self.workload = workload
        self.strategy = strategy
    }

    enum CodingKeys: String, CodingKey {
        case config, workload, strategy
        case segmentID = "segment_id"
        case taskID = "task_id"
        case trialID = "trial_id"
        case startStep = "start_step"
        case endStep = "end_step"
        case restoreCheckpoint = "restore_checkpoint"
        case checkpointDir = "checkpoint_dir"
        case leaseSeconds = "lease_seconds"
        case runAs = "run_as"
    }
}

/// A user's identity, as the kernel gave it for the connection that submitted a task: the
/// program of a command workload runs with exactly these ids (docs/RELIABILITY.md, "Trust").
public struct RunAs: Codable, Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups (the user's groups, the primary one included).
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, groups: [UInt32]) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }
}

/// `worker.lease`'s result: a lease, or `lease: null` and how long to wait before asking again.
public struct WorkerLeaseResult: Codable, Sendable, Hashable {
    public var lease: Lease?
    public var retryAfterSeconds: Double?

    public init(lease: Lease?, retryAfterSeconds: Double? = nil) {
        self.lease = lease
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Nothing to do now.
    public static func idle(retryAfterSeconds: Double) -> WorkerLeaseResult {
        WorkerLeaseResult(lease: nil, retryAfterSeconds: retryAfterSeconds)
    }

    // `lease` is always present on the wire, null when idle.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lease, forKey: .lease)
        try c.encodeIfPresent(retryAfterSeconds, forKey: .retryAfterSeconds)
    }

    enum CodingKeys: String, CodingKey {
        case lease
        case retryAfterSeconds = "retry_after_seconds"
    }
}

/// `worker.heartbeat`: keep a lease alive.
public struct WorkerSegmentParams: Codable, Sendable, Hashable {
    public var workerID: String
    public var segmentID: SegmentID

    public init(workerID: String, segmentID: SegmentID) {
        self.workerID = workerID
        self.segmentID = segmentID
    }

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case segmentID = "segment_id"
    }
}

public struct WorkerHeartbeatResult: Codable, Sendable, Hashable {
    /// Seconds until the lease expires without another heartbeat.
    public var leaseSeconds: Double
    /// True when the segment's task was cancelled or the member replaced: stop, then
    /// `worker.finish` with status `failed` and no checkpoint.
    public var stop: Bool

    public init(leaseSeconds: Double, stop: Bool = false) {
        self.leaseSeconds = leaseSeconds
        self.stop = stop
    }

    enum CodingKeys: String, CodingKey {
        case stop
        case leaseSeconds = "lease_seconds"
    }
}

/// One metric value at one step (`{"step": 100, "name": "val_loss", "value": 0.31}`).
/// A diverged value is carried as the string `"NaN"` / `"Infinity"` / `"-Infinity"`.
public struct MetricPoint: Codable, Sendable, Hashable {
    public var step: Int64
    public var name: String
    public var value: Double

    public init(step: Int64, name: String, value: Double) {
        self.step = step
        self.name = name
        self.value = value
    }
}

/// `worker.report`: metrics of the leased segment (also renews the lease). Reports are
/// idempotent per `(segment, step, name)`: a retried report does not duplicate rows.
public struct WorkerReportParams: Codable, Sendable, Hashable {
    public var workerID: String
    public var segmentID: SegmentID
    public var metrics: [MetricPoint]

    public init(workerID: String, segmentID: SegmentID, metrics: [MetricPoint]) {
        self.workerID = workerID
        self.segmentID = segmentID
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case metrics
        case workerID = "worker_id"
        case segmentID = "segment_id"
    }
}

public struct WorkerReportResult: Codable, Sendable, Hashable {
    public var accepted: Int
    /// As in `WorkerHeartbeatResult.stop`.
    public var stop: Bool

    public init(accepted: Int, stop: Bool = false) {
        self.accepted = accepted
        self.stop = stop
    }
}

/// How a segment ended.
public enum SegmentStatus: String, RPCWireEnum {
    /// Reached `end_step`; `checkpoint` is set.
    case ok
    /// The workload failed (an exception, a non-zero exit of a command workload).
    case failed
    /// The loss became NaN or infinite.
    case diverged
}

/// Why a segment failed when the failure was not the segment's own: the daemon re-queues it
/// without counting an attempt and pauses leasing until the fault is gone.
public enum SegmentFault: String, RPCWireEnum {
    /// The checkpoint's file system was full or failed (ENOSPC, EDQUOT, EIO, EROFS).
    case io
}

/// A checkpoint written by a worker.
public struct CheckpointRef: Codable, Sendable, Hashable {
    public var path: String
    public var step: Int64
    /// `sha256:` followed by 64 hex digits, over the checkpoint's bytes.
    public var checksum: String
    public var size: Int64

    public init(path: String, step: Int64, checksum: String, size: Int64) {
        self.path = path
        self.step = step
        self.checksum = checksum
        self.size = size
    }
}

/// `worker.finish`: end a segment; the daemon commits its metrics and checkpoint together.
public struct WorkerFinishParams: Codable, Sendable, Hashable {
    public var workerID: String
    public var segmentID: SegmentID
    public var status: SegmentStatus
    public var checkpoint: CheckpointRef?
    public var error: String?
    /// The last lines of a command workload's stderr (the worker keeps 50 lines / 8 KiB).
    public var stderrTail: String?
    /// With `failed`: the failure was the environment's (a full disk), not the segment's.
    public var fault: SegmentFault?
    /// A failed or diverged segment's reason in one line (`KeyError: 'lr'`); the daemon
    /// derives it from `error` and `stderr_tail` when absent.
    public var reason: String?
    /// The worker's own lines for the segment (the program's ordinary stdout lines, warnings),
    /// its last 50 lines / 8 KiB; sent with a failed or diverged segment.
    public var workerLog: String?
    /// Lease the worker's next segment in the same round trip (the reply's `lease`, nil when
    /// nothing is queued): one call per segment instead of two.
    public var leaseNext: Bool?

    public init(
        workerID: String, segmentID: SegmentID, status: SegmentStatus, checkpoint: CheckpointRef? = nil,
        error: String? = nil, stderrTail: String? = nil, fault: SegmentFault? = nil, leaseNext: Bool? = nil,
        reason: String? = nil, workerLog: String? = nil
    ) {
        self.fault = fault
        self.workerID = workerID
        self.segmentID = segmentID
        self.status = status
        self.checkpoint = checkpoint
        self.error = error
        self.stderrTail = stderrTail
        self.leaseNext = leaseNext
        self.reason = reason
        self.workerLog = workerLog
    }

    enum CodingKeys: String, CodingKey {
        case status, checkpoint, error, fault, reason
        case workerID = "worker_id"
        case segmentID = "segment_id"
        case stderrTail = "stderr_tail"
        case workerLog = "worker_log"
        case leaseNext = "lease_next"
    }
}

public struct WorkerFinishResult: Codable, Sendable, Hashable {
    /// False when the segment was already finished (a retried request): nothing changed.
    public var committed: Bool
    /// With `lease_next`: the worker's next segment, as `worker.lease` would grant it (absent
    /// when nothing is queued; the worker then long-polls `worker.lease`).
    public var lease: Lease?

    public init(committed: Bool, lease: Lease? = nil) {
        self.committed = committed
        self.lease = lease
    }
}
