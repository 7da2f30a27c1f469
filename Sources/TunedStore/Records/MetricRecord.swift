import Foundation
import GRDB

/// A row of `metrics`: one value of one metric of one trial at one step.
/// The primary key (trial_id, name, step) makes duplicates impossible.
public struct MetricRecord: StoreRecord, Hashable {
    public static let databaseTableName = "metrics"

    public var trialID: TrialID
    public var name: String
    public var step: Int
    /// NULL in the database stands for NaN; see ``doubleValue``.
    public var value: Double?
    public var segmentID: SegmentID?

    public var doubleValue: Double { metricValue(value) }

    enum CodingKeys: String, CodingKey {
        case trialID = "trial_id"
        case name, step, value
        case segmentID = "segment_id"
    }
}

/// A row of `checkpoints`: a trial's state at a step, as a file reference or an inline blob.
public struct CheckpointRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "checkpoints"

    public var id: CheckpointID
    public var trialID: TrialID
    public var segmentID: SegmentID?
    public var step: Int
    public var path: String?
    public var blob: Data?
    public var size: Int64
    /// Whatever digest the producer computed, with its algorithm: "sha256:…", "crc32c:…".
    public var checksum: String
    /// A pinned checkpoint is never offered for garbage collection.
    public var pinned: Bool
    public var createdAt: Date
    /// Set once garbage collection has deleted the file.
    public var releasedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id
        case trialID = "trial_id"
        case segmentID = "segment_id"
        case step, path, blob, size, checksum, pinned
        case createdAt = "created_at"
        case releasedAt = "released_at"
    }
}

/// A row of `lineage`: one PBT exploit (and explore) edge.
public struct LineageRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "lineage"

    public var id: LineageID
    public var taskID: TaskID
    public var step: Int
    public var generation: Int
    public var donorTrialID: TrialID
    public var recipientTrialID: TrialID
    public var donorCheckpointID: CheckpointID?
    public var oldConfigJSON: String
    public var newConfigJSON: String
    /// What changed, e.g. `{"lr": {"from": 0.1, "to": 0.12, "how": "perturb x1.2"}}`.
    public var changesJSON: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case taskID = "task_id"
        case step, generation
        case donorTrialID = "donor_trial_id"
        case recipientTrialID = "recipient_trial_id"
        case donorCheckpointID = "donor_checkpoint_id"
        case oldConfigJSON = "old_config_json"
        case newConfigJSON = "new_config_json"
        case changesJSON = "changes_json"
        case createdAt = "created_at"
    }
}

/// A row of `events`: what happened to a task or trial.
public struct EventRecord: StoreRecord, Hashable, Identifiable {
    public static let databaseTableName = "events"

    public var id: EventID
    public var taskID: TaskID?
    public var trialID: TrialID?
    public var kind: String
    public var message: String
    public var dataJSON: String?
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case taskID = "task_id"
        case trialID = "trial_id"
        case kind, message
        case dataJSON = "data_json"
        case createdAt = "created_at"
    }
}

/// A row of `policies`: one version of a learned document of some kind.
public struct PolicyRecord: StoreRecord, Hashable {
    public static let databaseTableName = "policies"

    public var version: Int64
    /// "recommendation", "batch-size-model", …
    public var kind: String
    public var documentJSON: String
    public var createdAt: Date
    public var active: Bool

    enum CodingKeys: String, CodingKey {
        case version, kind
        case documentJSON = "document_json"
        case createdAt = "created_at"
        case active
    }
}
