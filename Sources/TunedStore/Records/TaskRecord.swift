import Foundation
import GRDB

/// A row of `tasks`: one submitted task.
public struct TaskRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "tasks"

    public var id: TaskID
    public var name: String
    /// The task file exactly as submitted.
    public var specText: String
    public var specFormat: SpecFormat
    /// The daemon's normalised, validated form of the task file.
    public var specJSON: String
    /// "pbt", "random", "grid", "asha", "batch-sweep" …
    public var strategy: String
    public var status: TaskStatus
    public var seed: Int64
    public var featuresJSON: String?
    public var objectiveMetric: String
    public var objectiveMode: ObjectiveMode
    public var error: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// `worker` (the daemon's workers lease its segments) or `client` (`study.ask`: the
    /// submitter's own loop does).
    public var leasedBy: String

    public var objective: Objective { Objective(metric: objectiveMetric, mode: objectiveMode) }
    public var isLeasedByClient: Bool { leasedBy == "client" }

    enum CodingKeys: String, CodingKey {
        case id, name
        case specText = "spec_text"
        case specFormat = "spec_format"
        case specJSON = "spec_json"
        case strategy, status, seed
        case featuresJSON = "features_json"
        case objectiveMetric = "objective_metric"
        case objectiveMode = "objective_mode"
        case error
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case leasedBy = "leased_by"
    }
}

/// A row of `trials`: one member (PBT) or one configuration (random, grid, ASHA) of a task.
public struct TrialRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "trials"

    public var id: TrialID
    public var taskID: TaskID
    public var member: Int
    public var generation: Int
    public var configJSON: String
    public var status: TrialStatus
    /// Steps covered by committed segments.
    public var stepsDone: Int
    /// The checkpoint of the last committed segment (or the donor's after an exploit).
    public var checkpointID: CheckpointID?
    /// Best value so far of the task's objective metric (maintained by the store).
    public var bestValue: Double?
    public var bestStep: Int?
    /// Latest value of every metric, as a JSON object (maintained by the store).
    public var finalMetricsJSON: String?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case taskID = "task_id"
        case member, generation
        case configJSON = "config_json"
        case status
        case stepsDone = "steps_done"
        case checkpointID = "checkpoint_id"
        case bestValue = "best_value"
        case bestStep = "best_step"
        case finalMetricsJSON = "final_metrics_json"
        case error
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A row of `segments`: "trial t, config c, steps [start, end), from checkpoint k".
public struct SegmentRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "segments"

    public var id: SegmentID
    public var trialID: TrialID
    public var taskID: TaskID
    public var startStep: Int
    public var endStep: Int
    public var configJSON: String
    public var fromCheckpointID: CheckpointID?
    public var status: SegmentStatus
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// Leases of this segment that ended without a commit.
    public var attempts: Int
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case trialID = "trial_id"
        case taskID = "task_id"
        case startStep = "start_step"
        case endStep = "end_step"
        case configJSON = "config_json"
        case fromCheckpointID = "from_checkpoint_id"
        case status
        case leaseOwner = "lease_owner"
        case leaseExpiresAt = "lease_expires_at"
        case attempts, error
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
