// Types of task.curves: every trial's metric series, for `tunectl plot`.
// (task.lineage's types live beside task.results, in Task+Results.swift.)

extension RPCMethodName {
    public static let taskCurves = "task.curves"
}

extension RPCMethods {
    /// Per trial, per metric, the (step, value) series the workers reported.
    public enum TaskCurves: RPCMethod {
        public typealias Params = TaskCurvesParams
        public typealias Result = TunedRPC.TaskCurves
        public static let name = RPCMethodName.taskCurves
    }
}

/// `task.curves`: which metrics (all when absent) and at most how many points per series.
public struct TaskCurvesParams: Codable, Sendable, Hashable {
    /// The default and the bounds of `max_points`.
    public static let defaultMaxPoints = 1000
    public static let maxPointsRange = 2...100_000

    public var taskID: TaskID
    public var metrics: [String]?
    public var maxPoints: Int?

    public init(taskID: TaskID, metrics: [String]? = nil, maxPoints: Int? = nil) {
        self.taskID = taskID
        self.metrics = metrics
        self.maxPoints = maxPoints
    }

    enum CodingKeys: String, CodingKey {
        case metrics
        case taskID = "task_id"
        case maxPoints = "max_points"
    }
}

/// One metric of one trial: `steps[i]` and `values[i]` belong together, in step order.
/// `values` may hold NaN or infinities (sent as "NaN", "Infinity") where a member diverged.
public struct MetricSeries: Codable, Sendable, Hashable {
    public var name: String
    public var steps: [Int64]
    public var values: [Double]
    /// How many points the store holds; more than `steps.count` when the series was thinned.
    public var totalPoints: Int

    public init(name: String, steps: [Int64], values: [Double], totalPoints: Int? = nil) {
        self.name = name
        self.steps = steps
        self.values = values
        self.totalPoints = totalPoints ?? steps.count
    }

    enum CodingKeys: String, CodingKey {
        case name, steps, values
        case totalPoints = "total_points"
    }

    /// The series thinned to at most `maxPoints` points, evenly spaced by index, always
    /// keeping the first and the last point (the final value a plot must show).
    public func downsampled(to maxPoints: Int) -> MetricSeries {
        let n = steps.count
        guard n > maxPoints, maxPoints >= 2 else { return self }
        var indices: [Int] = []
        indices.reserveCapacity(maxPoints)
        for k in 0..<maxPoints {
            // round(k·(n−1)/(m−1)) in integers: strictly increasing, first 0, last n−1.
            let i = (k * (n - 1) * 2 + (maxPoints - 1)) / (2 * (maxPoints - 1))
            if indices.last != i { indices.append(i) }
        }
        return MetricSeries(
            name: name, steps: indices.map { steps[$0] }, values: indices.map { values[$0] }, totalPoints: totalPoints)
    }
}

/// One trial's series and what identifies it in a legend.
public struct TrialCurves: Codable, Sendable, Hashable {
    public var trialID: TrialID
    public var member: Int
    public var status: TrialStatus
    public var config: RPCValue
    public var series: [MetricSeries]

    public init(trialID: TrialID, member: Int, status: TrialStatus, config: RPCValue, series: [MetricSeries]) {
        self.trialID = trialID
        self.member = member
        self.status = status
        self.config = config
        self.series = series
    }

    enum CodingKeys: String, CodingKey {
        case member, status, config, series
        case trialID = "trial_id"
    }

    /// The series named `name`, if the trial reported it.
    public func series(_ name: String) -> MetricSeries? { series.first { $0.name == name } }
}

/// `task.curves`'s result: the objective (so a client knows which series ranks the trials),
/// the best value so far, and every trial's curves.
public struct TaskCurves: Codable, Sendable, Hashable {
    public var taskID: TaskID
    public var name: String
    public var objective: Objective
    public var best: BestMetric?
    public var trials: [TrialCurves]

    public init(taskID: TaskID, name: String, objective: Objective, best: BestMetric? = nil, trials: [TrialCurves]) {
        self.taskID = taskID
        self.name = name
        self.objective = objective
        self.best = best
        self.trials = trials
    }

    enum CodingKeys: String, CodingKey {
        case name, objective, best, trials
        case taskID = "task_id"
    }
}
