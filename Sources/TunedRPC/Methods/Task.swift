// Types of task.submit, task.list, task.get, task.cancel, task.watch and its notifications.
// Times are seconds since the Unix epoch (fractional), `*_at` on the wire.

/// Where a task is in its life. `completed`, `failed` and `cancelled` are final.
public enum TaskStatus: String, RPCWireEnum {
    case queued, running, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// Where one trial (a PBT member, a random/grid configuration) is.
public enum TrialStatus: String, RPCWireEnum {
    /// Waiting for a worker.
    case pending
    case running
    case completed
    case failed
    /// Its loss became NaN or infinite.
    case diverged
    /// Stopped early by the strategy (ASHA) or replaced (PBT).
    case stopped
    case cancelled
}

/// The language of a task file's text.
public enum TaskFormat: String, RPCWireEnum {
    case toml, json
}

/// What a task optimises: `{metric: "val_loss", mode: "min", select: "final"}`.
public struct Objective: Codable, Sendable, Hashable {
    public enum Mode: String, RPCWireEnum { case min, max }
    /// Which value along a trial's curve is the trial's value (`[objective] select`).
    public enum Select: String, RPCWireEnum { case final, best }
    /// Any metric name: a known one or one the task's program reports.
    public var metric: String
    public var mode: Mode
    /// nil from a daemon that predates `select` (which meant `final` for results and `best`
    /// for the ranking of trial tables).
    public var select: Select?

    public init(metric: String, mode: Mode, select: Select? = nil) {
        self.metric = metric
        self.mode = mode
        self.select = select
    }
}

/// The best value of the objective so far, and where it was reached.
public struct BestMetric: Codable, Sendable, Hashable {
    public var value: Double
    public var trialID: TrialID
    public var step: Int64

    public init(value: Double, trialID: TrialID, step: Int64) {
        self.value = value
        self.trialID = trialID
        self.step = step
    }

    enum CodingKeys: String, CodingKey {
        case value, step
        case trialID = "trial_id"
    }
}

// MARK: task.submit

/// `task.submit`: the task file's text as the user wrote it; the daemon parses and validates.
public struct TaskSubmitParams: Codable, Sendable, Hashable {
    public var text: String
    public var format: TaskFormat
    /// The file's name, for error messages (`digits.toml:12: …`).
    public var filename: String?
    /// The folder relative paths in the file resolve against (the file's folder, absolute).
    public var baseDir: String?

    public init(text: String, format: TaskFormat, filename: String? = nil, baseDir: String? = nil) {
        self.text = text
        self.format = format
        self.filename = filename
        self.baseDir = baseDir
    }

    enum CodingKeys: String, CodingKey {
        case text, format, filename
        case baseDir = "base_dir"
    }
}

public struct TaskSubmitResult: Codable, Sendable, Hashable {
    public var taskID: TaskID
    /// What validation accepted but the user should see, one line each
    /// (`task.toml:9: [search] weight_decy: not a key tuned knows; … Did you mean 'weight_decay'?`).
    public var warnings: [String]

    public init(taskID: TaskID, warnings: [String] = []) {
        self.taskID = taskID
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case warnings
        case taskID = "task_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try c.decode(TaskID.self, forKey: .taskID)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }
}

// MARK: task.list

/// `task.list`: all tasks, or those with the given statuses; newest first.
public struct TaskListParams: Codable, Sendable, Hashable {
    public var status: [TaskStatus]?
    public var limit: Int?

    public init(status: [TaskStatus]? = nil, limit: Int? = nil) {
        self.status = status
        self.limit = limit
    }
}

/// One row of `tunectl list`.
public struct TaskSummary: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var name: String
    public var status: TaskStatus
    /// `pbt`, `random`, `grid`, `asha`, `batch-sweep`.
    public var strategy: String
    /// The workload kind (`mlp`, `command`, …).
    public var workload: String
    public var stepsDone: Int64
    public var stepsTotal: Int64
    public var best: BestMetric?
    public var createdAt: Double
    public var finishedAt: Double?
    /// Set while the daemon has paused leasing (a full disk): why. The task resumes by itself.
    public var paused: String?

    public init(
        taskID: TaskID, name: String, status: TaskStatus, strategy: String, workload: String,
        stepsDone: Int64, stepsTotal: Int64, best: BestMetric? = nil, createdAt: Double, finishedAt: Double? = nil
    ) {
        self.taskID = taskID
        self.name = name
        self.status = status
        self.strategy = strategy
        self.workload = workload
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.best = best
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, status, strategy, workload, best, paused
        case taskID = "task_id"
        case stepsDone = "steps_done"
        case stepsTotal = "steps_total"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
    }
}

// MARK: task.get / task.cancel / task.watch

/// Params of the methods that take only a task: `task.get`, `task.cancel`, `task.results`,
/// `task.lineage`.
public struct TaskIDParams: Codable, Sendable, Hashable {
    public var taskID: TaskID

    public init(taskID: TaskID) { self.taskID = taskID }

    enum CodingKeys: String, CodingKey { case taskID = "task_id" }
}

/// One member of a population (PBT) or one trial, as `tunectl watch` shows it.
public struct MemberSummary: Codable, Sendable, Hashable {
    public var trialID: TrialID
    /// The member's slot in the population (PBT), or the trial's ordinal.
    public var member: Int
    public var status: TrialStatus
    public var step: Int64
    public var config: RPCValue
    /// The objective's latest value for this member.
    public var lastMetric: Double?
    public var workerID: String?

    public init(
        trialID: TrialID, member: Int, status: TrialStatus, step: Int64, config: RPCValue,
        lastMetric: Double? = nil, workerID: String? = nil
    ) {
        self.trialID = trialID
        self.member = member
        self.status = status
        self.step = step
        self.config = config
        self.lastMetric = lastMetric
        self.workerID = workerID
    }

    enum CodingKeys: String, CodingKey {
        case member, status, step, config
        case trialID = "trial_id"
        case lastMetric = "last_metric"
        case workerID = "worker_id"
    }
}

/// `task.get`'s result, and `task.watch`'s initial reply.
public struct TaskDetail: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var name: String
    public var status: TaskStatus
    public var strategy: String
    public var workload: String
    public var objective: Objective
    public var members: [MemberSummary]
    public var stepsDone: Int64
    public var stepsTotal: Int64
    public var best: BestMetric?
    /// Estimated seconds to completion at the current rate; nil until it can be estimated.
    public var etaSeconds: Double?
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    /// Why a failed task failed.
    public var error: String?
    /// Set while the daemon has paused leasing (a full disk): why. The task resumes by itself.
    public var paused: String?

    public init(
        taskID: TaskID, name: String, status: TaskStatus, strategy: String, workload: String,
        objective: Objective, members: [MemberSummary], stepsDone: Int64, stepsTotal: Int64,
        best: BestMetric? = nil, etaSeconds: Double? = nil, createdAt: Double, startedAt: Double? = nil,
        finishedAt: Double? = nil, error: String? = nil
    ) {
        self.taskID = taskID
        self.name = name
        self.status = status
        self.strategy = strategy
        self.workload = workload
        self.objective = objective
        self.members = members
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.best = best
        self.etaSeconds = etaSeconds
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case name, status, strategy, workload, objective, members, best, error, paused
        case taskID = "task_id"
        case stepsDone = "steps_done"
        case stepsTotal = "steps_total"
        case etaSeconds = "eta_seconds"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// `task.cancel`'s result: the status after the request (`cancelled`, or the final status
/// the task had already reached).
public struct TaskCancelResult: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var status: TaskStatus

    public init(taskID: TaskID, status: TaskStatus) {
        self.taskID = taskID
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case status
        case taskID = "task_id"
    }
}

/// `task.watch`: subscribe this connection to a task's progress.
public struct TaskWatchParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    /// The least time between two `task.progress` notifications (default: the daemon's, 1 s).
    public var intervalSeconds: Double?

    public init(taskID: TaskID, intervalSeconds: Double? = nil) {
        self.taskID = taskID
        self.intervalSeconds = intervalSeconds
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case intervalSeconds = "interval_seconds"
    }
}

/// The `task.progress` notification's params.
public struct TaskProgress: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var status: TaskStatus
    public var stepsDone: Int64
    public var stepsTotal: Int64
    public var best: BestMetric?
    public var etaSeconds: Double?
    public var members: [MemberSummary]
    /// When the daemon took this snapshot.
    public var at: Double
    /// As `TaskDetail.paused`.
    public var paused: String?

    public init(
        taskID: TaskID, status: TaskStatus, stepsDone: Int64, stepsTotal: Int64, best: BestMetric? = nil,
        etaSeconds: Double? = nil, members: [MemberSummary], at: Double
    ) {
        self.taskID = taskID
        self.status = status
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.best = best
        self.etaSeconds = etaSeconds
        self.members = members
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case status, best, members, at, paused
        case taskID = "task_id"
        case stepsDone = "steps_done"
        case stepsTotal = "steps_total"
        case etaSeconds = "eta_seconds"
    }
}

/// The `task.finished` notification's params: the last message of a watch.
public struct TaskFinished: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var status: TaskStatus
    public var best: BestMetric?
    public var error: String?
    public var finishedAt: Double

    public init(taskID: TaskID, status: TaskStatus, best: BestMetric? = nil, error: String? = nil, finishedAt: Double) {
        self.taskID = taskID
        self.status = status
        self.best = best
        self.error = error
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case status, best, error
        case taskID = "task_id"
        case finishedAt = "finished_at"
    }
}
