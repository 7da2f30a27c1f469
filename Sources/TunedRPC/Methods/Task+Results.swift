// Types of task.results, trial.list and task.lineage.

/// One trial: its configuration, how far it got and its final metrics.
public struct TrialRow: Codable, Sendable, Hashable {
    public var trialID: TrialID
    public var member: Int
    public var status: TrialStatus
    public var config: RPCValue
    public var stepsDone: Int64
    /// The last value of each metric (`val_loss`, `train_loss`, `lr`, …).
    public var finalMetrics: [String: Double]
    /// The objective's best value over the trial's life.
    public var bestMetric: Double?
    /// The trial's value under the task's `[objective] select` (its final value, or its best):
    /// what the results rank by. nil before any value (and from older daemons).
    public var objectiveValue: Double?
    /// The trial it was copied from by an exploit (PBT), if any.
    public var parentTrialID: TrialID?
    public var error: String?
    /// A failed or diverged trial's reason in one line (`KeyError: 'lr'`); `tunectl logs`
    /// prints the rest.
    public var reason: String?

    public init(
        trialID: TrialID, member: Int, status: TrialStatus, config: RPCValue, stepsDone: Int64,
        finalMetrics: [String: Double], bestMetric: Double? = nil, parentTrialID: TrialID? = nil, error: String? = nil,
        objectiveValue: Double? = nil
    ) {
        self.objectiveValue = objectiveValue
        self.trialID = trialID
        self.member = member
        self.status = status
        self.config = config
        self.stepsDone = stepsDone
        self.finalMetrics = finalMetrics
        self.bestMetric = bestMetric
        self.parentTrialID = parentTrialID
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case member, status, config, error, reason
        case trialID = "trial_id"
        case stepsDone = "steps_done"
        case finalMetrics = "final_metrics"
        case bestMetric = "best_metric"
        case objectiveValue = "objective_value"
        case parentTrialID = "parent_trial_id"
    }
}

/// `trial.list`: a task's trials, optionally only those with the given statuses.
public struct TrialListParams: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var status: [TrialStatus]?

    public init(taskID: TaskID, status: [TrialStatus]? = nil) {
        self.taskID = taskID
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case status
        case taskID = "task_id"
    }
}

/// `task.results`: what `tunectl results` prints.
public struct TaskResults: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var status: TaskStatus
    public var objective: Objective
    /// The best trial's configuration; nil when no trial has reported the objective.
    public var bestConfig: RPCValue?
    public var best: BestMetric?
    /// The best trial's final metrics.
    public var finalMetrics: [String: Double]
    public var trials: [TrialRow]

    public init(
        taskID: TaskID, status: TaskStatus, objective: Objective, bestConfig: RPCValue? = nil,
        best: BestMetric? = nil, finalMetrics: [String: Double], trials: [TrialRow]
    ) {
        self.taskID = taskID
        self.status = status
        self.objective = objective
        self.bestConfig = bestConfig
        self.best = best
        self.finalMetrics = finalMetrics
        self.trials = trials
    }

    enum CodingKeys: String, CodingKey {
        case status, objective, best, trials
        case taskID = "task_id"
        case bestConfig = "best_config"
        case finalMetrics = "final_metrics"
    }
}

/// One exploit: at `step`, `trial_id` copied `donor_trial_id`'s checkpoint and configuration,
/// then explored to `config_after`.
public struct LineageEdge: Codable, Sendable, Hashable {
    public var step: Int64
    public var at: Double
    public var trialID: TrialID
    public var donorTrialID: TrialID
    public var donorStep: Int64
    public var configBefore: RPCValue
    public var configAfter: RPCValue
    /// The hyperparameters explore changed (`["lr", "optimizer"]`).
    public var changed: [String]
    /// True when the optimizer changed and its state was re-initialised.
    public var optimizerReset: Bool
    /// The PBT generation the recipient entered with this exploit (absent from older daemons).
    public var generation: Int64?
    /// What explore did, per key, as the strategy recorded it, e.g.
    /// `{"lr": {"from": 0.1, "to": 0.12, "how": "perturb x1.2"}}`.
    public var changes: RPCValue?

    public init(
        step: Int64, at: Double, trialID: TrialID, donorTrialID: TrialID, donorStep: Int64,
        configBefore: RPCValue, configAfter: RPCValue, changed: [String], optimizerReset: Bool,
        generation: Int64? = nil, changes: RPCValue? = nil
    ) {
        self.step = step
        self.at = at
        self.trialID = trialID
        self.donorTrialID = donorTrialID
        self.donorStep = donorStep
        self.configBefore = configBefore
        self.configAfter = configAfter
        self.changed = changed
        self.optimizerReset = optimizerReset
        self.generation = generation
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case step, at, changed, generation, changes
        case trialID = "trial_id"
        case donorTrialID = "donor_trial_id"
        case donorStep = "donor_step"
        case configBefore = "config_before"
        case configAfter = "config_after"
        case optimizerReset = "optimizer_reset"
    }
}

/// `task.lineage`: every exploit of a task, in order.
public struct TaskLineage: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var edges: [LineageEdge]

    public init(taskID: TaskID, edges: [LineageEdge]) {
        self.taskID = taskID
        self.edges = edges
    }

    enum CodingKeys: String, CodingKey {
        case edges
        case taskID = "task_id"
    }
}
