/// Identifiers as the store numbers them.
public typealias TaskID = Int64
public typealias TrialID = Int64
public typealias SegmentID = Int64

/// The version of this protocol; `daemon.status` and `worker.hello` report it. Bump it when
/// a change is not backward compatible.
public let rpcProtocolVersion = 1

/// Method and notification names, namespaced by what they act on.
public enum RPCMethodName {
    public static let taskSubmit = "task.submit"
    public static let taskList = "task.list"
    public static let taskGet = "task.get"
    public static let taskCancel = "task.cancel"
    public static let taskWatch = "task.watch"
    public static let taskResults = "task.results"
    public static let taskLineage = "task.lineage"
    public static let trialList = "trial.list"
    public static let recommend = "recommend"
    public static let policyFit = "policy.fit"
    public static let policyShow = "policy.show"
    public static let taskBatchSize = "task.batchsize"
    public static let daemonStatus = "daemon.status"
    public static let workerHello = "worker.hello"
    public static let workerLease = "worker.lease"
    public static let workerHeartbeat = "worker.heartbeat"
    public static let workerReport = "worker.report"
    public static let workerFinish = "worker.finish"

    /// Notification (server → client) after `task.watch`: params `TaskProgress`.
    public static let taskProgress = "task.progress"
    /// Notification (server → client), the last one of a watch: params `TaskFinished`.
    public static let taskFinished = "task.finished"

    /// Every request method, for a dispatcher's completeness check.
    public static let allMethods: [String] = [
        taskSubmit, taskList, taskGet, taskCancel, taskWatch, taskResults, taskLineage, taskCurves, trialList,
        trialLogs, recommend, policyFit, policyShow, taskBatchSize, daemonStatus, workerHello, workerLease, workerHeartbeat, workerReport,
        workerFinish, studyAsk, studyReport, studyTell,
    ]
}

/// A method with its parameter and result types, so that both ends agree at compile time:
/// `client.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: 7))`.
public protocol RPCMethod {
    associatedtype Params: Codable & Sendable & Equatable
    associatedtype Result: Codable & Sendable & Equatable
    static var name: String { get }
}

/// Parameters or result with no fields: `{}` on the wire.
public struct RPCEmpty: Codable, Sendable, Hashable {
    public init() {}
}

/// The typed methods. Each names its wire method; the types live beside their topic.
public enum RPCMethods {
    public enum TaskSubmit: RPCMethod {
        public typealias Params = TaskSubmitParams
        public typealias Result = TaskSubmitResult
        public static let name = RPCMethodName.taskSubmit
    }
    public enum TaskList: RPCMethod {
        public typealias Params = TaskListParams
        public typealias Result = [TaskSummary]
        public static let name = RPCMethodName.taskList
    }
    public enum TaskGet: RPCMethod {
        public typealias Params = TaskIDParams
        public typealias Result = TaskDetail
        public static let name = RPCMethodName.taskGet
    }
    public enum TaskCancel: RPCMethod {
        public typealias Params = TaskIDParams
        public typealias Result = TaskCancelResult
        public static let name = RPCMethodName.taskCancel
    }
    /// Replies with the task's current detail, then sends `task.progress` notifications and a
    /// final `task.finished` on the same connection (at once if the task already ended).
    public enum TaskWatch: RPCMethod {
        public typealias Params = TaskWatchParams
        public typealias Result = TaskDetail
        public static let name = RPCMethodName.taskWatch
    }
    public enum TaskResults: RPCMethod {
        public typealias Params = TaskIDParams
        public typealias Result = TunedRPC.TaskResults
        public static let name = RPCMethodName.taskResults
    }
    public enum TaskLineage: RPCMethod {
        public typealias Params = TaskIDParams
        public typealias Result = TunedRPC.TaskLineage
        public static let name = RPCMethodName.taskLineage
    }
    public enum TrialList: RPCMethod {
        public typealias Params = TrialListParams
        public typealias Result = [TrialRow]
        public static let name = RPCMethodName.trialList
    }
    public enum Recommend: RPCMethod {
        public typealias Params = RecommendParams
        public typealias Result = RecommendResult
        public static let name = RPCMethodName.recommend
    }
    public enum PolicyFit: RPCMethod {
        public typealias Params = PolicyFitParams
        public typealias Result = PolicyFitResult
        public static let name = RPCMethodName.policyFit
    }
    public enum PolicyShow: RPCMethod {
        public typealias Params = RPCEmpty
        public typealias Result = PolicyShowResult
        public static let name = RPCMethodName.policyShow
    }
    public enum TaskBatchSize: RPCMethod {
        public typealias Params = TaskIDParams
        public typealias Result = BatchSizeReport
        public static let name = RPCMethodName.taskBatchSize
    }
    public enum DaemonStatusMethod: RPCMethod {
        public typealias Params = RPCEmpty
        public typealias Result = DaemonStatus
        public static let name = RPCMethodName.daemonStatus
    }
    public enum WorkerHello: RPCMethod {
        public typealias Params = WorkerHelloParams
        public typealias Result = WorkerHelloResult
        public static let name = RPCMethodName.workerHello
    }
    public enum WorkerLease: RPCMethod {
        public typealias Params = WorkerLeaseParams
        public typealias Result = WorkerLeaseResult
        public static let name = RPCMethodName.workerLease
    }
    public enum WorkerHeartbeat: RPCMethod {
        public typealias Params = WorkerSegmentParams
        public typealias Result = WorkerHeartbeatResult
        public static let name = RPCMethodName.workerHeartbeat
    }
    public enum WorkerReport: RPCMethod {
        public typealias Params = WorkerReportParams
        public typealias Result = WorkerReportResult
        public static let name = RPCMethodName.workerReport
    }
    public enum WorkerFinish: RPCMethod {
        public typealias Params = WorkerFinishParams
        public typealias Result = WorkerFinishResult
        public static let name = RPCMethodName.workerFinish
    }
}
