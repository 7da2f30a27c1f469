import TunedRPC

/// Results of a small finished random search, as the daemon would send them.
enum Samples {
    static let objective = Objective(metric: "val_loss", mode: .min)

    static let trials: [TrialRow] = [
        TrialRow(
            trialID: 1, member: 0, status: .completed, config: ["optimizer": "sgd", "lr": 0.1, "momentum": 0.9],
            stepsDone: 4000, finalMetrics: ["val_loss": 0.25, "train_loss": 0.2], bestMetric: 0.24),
        TrialRow(
            trialID: 2, member: 1, status: .completed,
            config: ["optimizer": "adamw", "lr": 0.001, "batch_size": 64, "note": "a, \"quoted\" one"],
            stepsDone: 4000, finalMetrics: ["val_loss": 0.0688, "train_loss": 0.041], bestMetric: 0.0688,
            parentTrialID: 1),
        TrialRow(
            trialID: 3, member: 2, status: .diverged, config: ["optimizer": "lion", "lr": 0.5], stepsDone: 120,
            finalMetrics: ["val_loss": .nan], bestMetric: nil, error: "loss became NaN"),
    ]

    static let results = TaskResults(
        taskID: 7, status: .completed, objective: objective,
        bestConfig: ["optimizer": "adamw", "lr": 0.001, "batch_size": 64],
        best: BestMetric(value: 0.0688, trialID: 2, step: 4000),
        finalMetrics: ["val_loss": 0.0688, "train_loss": 0.041], trials: trials)

    static let summaries: [TaskSummary] = [
        TaskSummary(
            taskID: 7, name: "digits-random", status: .running, strategy: "random", workload: "mlp", stepsDone: 9600,
            stepsTotal: 32000, best: BestMetric(value: 0.0712, trialID: 12, step: 4000), createdAt: 1_764_412_800.25),
        TaskSummary(
            taskID: 6, name: "digits-grid", status: .failed, strategy: "grid", workload: "mlp", stepsDone: 100,
            stepsTotal: 800, createdAt: 1_764_412_000),
    ]

    static func detail(_ status: TaskStatus, error: String? = nil) -> TaskDetail {
        TaskDetail(
            taskID: 7, name: "digits-random", status: status, strategy: "random", workload: "mlp",
            objective: objective,
            members: [
                MemberSummary(
                    trialID: 12, member: 3, status: .running, step: 1200, config: ["optimizer": "adamw", "lr": 0.001],
                    lastMetric: 0.31, workerID: "w1")
            ], stepsDone: 9600, stepsTotal: 32000, best: BestMetric(value: 0.0712, trialID: 12, step: 4000),
            etaSeconds: 41.5, createdAt: 1_764_412_800.25, startedAt: 1_764_412_801, error: error)
    }
}
