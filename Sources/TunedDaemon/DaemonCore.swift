import Foundation
import TunedEngine
import TunedOptim
import TunedRPC
import TunedStore
import TunedWorker

/// The daemon's state and its JSON-RPC methods: the store, one strategy per live task (a pure
/// state machine, rebuilt from the store after a restart), and the metrics reported for the
/// segments in flight (committed with the segment at `worker.finish`).
public actor DaemonCore {
    public let store: Store
    public let storePath: String
    public let socketPath: String
    public let leaseSeconds: Double
    let startedAt = Date()
    var shuttingDown = false
    var workersConfigured = 0
    var workersAlive: @Sendable () -> Int = { 0 }
    /// Who may submit command workloads (ops: `[command_workloads]` of the configuration file).
    var commandPolicy = CommandWorkloadPolicy(daemonUID: getuid())

    struct TaskState {
        var strategy: Strategy
        var trialByMember: [Int: TunedStore.TrialID]
        var memberByTrial: [TunedStore.TrialID: Int]
    }
    var tasks: [Int64: TaskState] = [:]

    struct LiveSegment {
        var taskID: Int64
        var trialID: TunedStore.TrialID
        var start: Int
        var end: Int
        var worker: String
        var attempts: Int
        var metrics: [String: MetricPoint] = [:]
    }
    var live: [Int64: LiveSegment] = [:]

    // The actor is reentrant at every `await`: this gate serialises the read-modify-write of a
    // task's strategy around its store transactions (submit, finish, rebuild).
    private var gateBusy = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []
    func acquire() async {
        if !gateBusy { gateBusy = true; return }
        await withCheckedContinuation { gateWaiters.append($0) }
    }
    func release() {
        if gateWaiters.isEmpty { gateBusy = false } else { gateWaiters.removeFirst().resume() }
    }
    func serialized<T: Sendable>(_ op: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await op()
    }

    public init(store: Store, storePath: String, socketPath: String, leaseSeconds: Double = 10) {
        self.store = store
        self.storePath = storePath
        self.socketPath = socketPath
        self.leaseSeconds = leaseSeconds
    }

    public func setWorkers(configured: Int, alive: @escaping @Sendable () -> Int) {
        workersConfigured = configured
        workersAlive = alive
    }

    public func beginShutdown() { shuttingDown = true }

    public var isShuttingDown: Bool { shuttingDown }

    public func setCommandPolicy(_ policy: CommandWorkloadPolicy) { commandPolicy = policy }

    var storeDirectory: String { URL(fileURLWithPath: storePath).deletingLastPathComponent().path }

    // MARK: Start-up

    /// Re-queues the leases of a previous run and rebuilds the strategy of every unfinished task.
    public func recover() async throws {
        let requeued = try await store.recoverAfterRestart()
        if !requeued.isEmpty { log("recovered \(requeued.count) leased segment(s) after restart") }
        for task in try await store.listTasks(status: [.queued, .running]) {
            do { _ = try await serialized { try await taskState(task.id.rawValue) != nil } } catch {
                log("task \(task.id): cannot rebuild its strategy: \(error)")
            }
        }
    }

    /// Called every second: re-queues segments whose lease expired (a dead or stuck worker).
    public func expireLeases() async {
        do {
            let expired = try await store.expireLeases()
            for id in expired {
                log("segment \(id): lease expired (worker \(live[id.rawValue]?.worker ?? "?")); re-queued")
                live[id.rawValue] = nil
            }
        } catch is CancellationError {
        } catch { log("expireLeases: \(error)") }
    }

    // MARK: Dispatch

    public func handle(_ request: RPCRequest, peer: PeerCredentials?) async -> RPCResponse? {
        let id = request.id
        do {
            let result = try await dispatch(request, peer: peer)
            guard let id else { return nil }
            return RPCResponse(id: id, body: .result(result))
        } catch let e as RPCError {
            return id == nil ? nil : .error(id: id, e)
        } catch let e as StoreError {
            let rpc: RPCError
            switch e.code {
            case .leaseLost: rpc = RPCError(.leaseExpired, "lease lost: \(e.message)")
            case .notFound, .invalidState, .invalidArgument: rpc = RPCError.invalidParams(field: nil, e.message)
            default: rpc = .storeUnavailable(e.message)
            }
            log("\(request.method): \(e)")
            return id == nil ? nil : .error(id: id, rpc)
        } catch {
            log("\(request.method): internal error: \(error)")
            return id == nil ? nil : .error(id: id, .internalError("internal error: \(error)"))
        }
    }

    func dispatch(_ r: RPCRequest, peer: PeerCredentials?) async throws -> RPCValue {
        func out<T: Encodable>(_ v: T) throws -> RPCValue { try RPCCoding.value(of: v) }
        switch r.method {
        case RPCMethodName.daemonStatus: return try out(await status())
        case RPCMethodName.taskSubmit:
            let p = try r.decodeParams(TaskSubmitParams.self)
            return try out(await serialized { try await submit(p, peer: peer) })
        case RPCMethodName.taskList:
            let p = r.params == nil || r.params!.isNull ? TaskListParams() : try r.decodeParams(TaskListParams.self)
            return try out(await list(p))
        case RPCMethodName.taskGet: return try out(await detail(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.taskResults: return try out(await results(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.trialList:
            let p = try r.decodeParams(TrialListParams.self)
            var rows = try await results(p.taskID).trials
            if let s = p.status { rows = rows.filter { s.contains($0.status) } }
            return try out(rows)
        case RPCMethodName.taskCancel: return try out(await cancel(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.workerHello:
            _ = try r.decodeParams(WorkerHelloParams.self)
            return try out(WorkerHelloResult(heartbeatSeconds: leaseSeconds / 3, leaseSeconds: leaseSeconds))
        case RPCMethodName.workerLease: return try out(await lease(try r.decodeParams(WorkerLeaseParams.self)))
        case RPCMethodName.workerHeartbeat:
            let p = try r.decodeParams(WorkerSegmentParams.self)
            return try out(WorkerHeartbeatResult(leaseSeconds: leaseSeconds, stop: try await renew(p.segmentID, p.workerID)))
        case RPCMethodName.workerReport:
            let p = try r.decodeParams(WorkerReportParams.self)
            let stop = try await renew(p.segmentID, p.workerID)
            if var seg = live[p.segmentID] {
                for m in p.metrics { seg.metrics["\(m.step)/\(m.name)"] = m }
                live[p.segmentID] = seg
            }
            return try out(WorkerReportResult(accepted: p.metrics.count, stop: stop))
        case RPCMethodName.workerFinish:
            let p = try r.decodeParams(WorkerFinishParams.self)
            return try out(await serialized { try await finish(p) })
        default:
            if RPCMethodName.allMethods.contains(r.method) {
                throw RPCError(.methodNotFound, "method `\(r.method)` is not implemented by this daemon yet", data: ["method": .string(r.method)])
            }
            throw RPCError.methodNotFound(r.method)
        }
    }

    // MARK: Tasks

    func status() async throws -> DaemonStatus {
        var counts: [String: Int] = [:]
        for t in try await store.listTasks(limit: 100_000) { counts[wire(t.status).rawValue, default: 0] += 1 }
        let size = (try? FileManager.default.attributesOfItem(atPath: storePath)[.size] as? NSNumber)?.int64Value
        let busy = Set(live.values.map(\.worker)).count
        return DaemonStatus(
            version: "0.1.0", uptimeSeconds: Date().timeIntervalSince(startedAt), pid: getpid(),
            workers: .init(configured: workersConfigured, alive: workersAlive(), busy: busy), tasks: counts,
            socket: socketPath, store: .init(path: storePath, sizeBytes: size))
    }

    func submit(_ p: TaskSubmitParams, peer: PeerCredentials?) async throws -> TaskSubmitResult {
        if shuttingDown { throw RPCError.shuttingDown() }
        let file = p.filename ?? "task.\(p.format.rawValue)"
        let base = p.baseDir ?? FileManager.default.currentDirectoryPath
        let spec: TaskSpec
        do {
            spec = try TaskFile.parse(p.text, file: file, baseDirectory: base, format: p.format == .toml ? .toml : .json)
        } catch {
            // Report the first problem that has a line (a "missing table" has none), so that
            // the reply always points into the file when it can.
            let first = error.problems.first(where: { $0.line != nil }) ?? error.problems.first
            let more = error.problems.count > 1 ? " (and \(error.problems.count - 1) more problem(s))" : ""
            throw RPCError.validationFailed((first?.message ?? "invalid task file") + more, file: first?.file ?? file, line: first?.line, field: first?.field)
        }
        if spec.workload["kind"]?.stringValue == "command", let refusal = commandPolicy.check(peer) {
            log("task.submit refused: \(refusal)")
            throw RPCError.unauthorized(refusal)
        }
        var strategy: Strategy
        do { strategy = try Strategy.make(for: spec) } catch {
            throw RPCError.validationFailed(error.message, file: file, line: nil, field: "strategy.kind")
        }
        let actions = strategy.start()
        var firstEnd: [Int: Int] = [:]
        for case .scheduleSegment(let s) in actions where s.start == 0 { firstEnd[s.trial] = s.end }
        let trials = strategy.trials.map {
            NewTrial(member: $0.index, configJSON: jsonText($0.config), firstSegmentEnd: firstEnd[$0.index])
        }
        let specJSON: [String: JSONValue] = [
            "workload": .object(spec.workload), "base_dir": .string(base), "filename": .string(file),
            "seed": .number(Double(spec.budget.seed)), "steps": .number(Double(spec.budget.steps)),
        ]
        let objective = TunedStore.Objective(metric: spec.objective.metric.rawValue, mode: spec.objective.mode == .min ? .min : .max)
        let id = try await store.createTask(
            NewTask(name: spec.name, specText: p.text, specFormat: p.format == .toml ? .toml : .json, specJSON: jsonText(specJSON),
                    strategy: spec.strategy.kind.rawValue, seed: Int64(bitPattern: spec.budget.seed), objective: objective),
            trials: trials)
        let records = try await store.trials(task: id)
        tasks[id.rawValue] = TaskState(
            strategy: strategy, trialByMember: Dictionary(uniqueKeysWithValues: records.map { ($0.member, $0.id) }),
            memberByTrial: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.member) }))
        for case .completeTask(let best) in actions {
            try await store.setTaskStatus(id, best == nil ? .failed : .succeeded, error: best == nil ? "no trial completed" : nil)
        }
        log("task \(id) '\(spec.name)': \(trials.count) trial(s), strategy \(spec.strategy.kind.rawValue)")
        return TaskSubmitResult(taskID: id.rawValue)
    }

    /// The task's strategy, rebuilt by replaying the committed segments when it is not in memory.
    func taskState(_ taskID: Int64) async throws -> TaskState? {
        if let s = tasks[taskID] { return s }
        guard let task = try await store.task(TunedStore.TaskID(taskID)), !task.status.isTerminal else { return nil }
        let meta = (try? JSONValue.parse(Data(task.specJSON.utf8)))?.objectValue ?? [:]
        let spec = try TaskFile.parse(
            task.specText, file: meta["filename"]?.stringValue ?? "task", baseDirectory: meta["base_dir"]?.stringValue ?? ".",
            format: task.specFormat == .toml ? .toml : .json, checkFiles: false)
        var strategy = try Strategy.make(for: spec)
        _ = strategy.start()
        let records = try await store.trials(task: task.id).sorted { $0.member < $1.member }
        for t in records {
            let rows = try await store.metrics(trial: t.id)
            for r in spec.budget.segments where r.upperBound <= t.stepsDone {
                var last: [String: (Int, Double)] = [:]
                for m in rows where m.step <= r.upperBound {
                    if let l = last[m.name], l.0 > m.step { continue }
                    last[m.name] = (m.step, m.value)
                }
                _ = strategy.handle(.segmentFinished(trial: t.member, step: r.upperBound, metrics: last.mapValues(\.1)))
            }
            if t.status == .failed || t.status == .diverged {
                _ = strategy.handle(.trialDiverged(trial: t.member, step: t.stepsDone))
            }
        }
        let state = TaskState(
            strategy: strategy, trialByMember: Dictionary(uniqueKeysWithValues: records.map { ($0.member, $0.id) }),
            memberByTrial: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.member) }))
        tasks[taskID] = state
        if strategy.isFinished {
            try await store.setTaskStatus(task.id, strategy.best == nil ? .failed : .succeeded)
            tasks[taskID] = nil
        }
        log("task \(taskID): strategy rebuilt from the store")
        return state
    }

    func list(_ p: TaskListParams) async throws -> [TaskSummary] {
        let statuses = p.status.map { Set($0.flatMap(storeStatuses)) }
        var out: [TaskSummary] = []
        for t in try await store.listTasks(status: statuses, limit: p.limit ?? 1000) {
            let (done, total, best) = try await progress(t)
            out.append(TaskSummary(
                taskID: t.id.rawValue, name: t.name, status: wire(t.status), strategy: t.strategy,
                workload: workloadKind(t), stepsDone: done, stepsTotal: total, best: best,
                createdAt: t.createdAt.timeIntervalSince1970, finishedAt: t.finishedAt?.timeIntervalSince1970))
        }
        return out
    }

    func progress(_ t: TaskRecord) async throws -> (Int64, Int64, BestMetric?) {
        let trials = try await store.trials(task: t.id)
        let steps = Int64((try? JSONValue.parse(Data(t.specJSON.utf8)))?["steps"]?.doubleValue ?? 0)
        var best: BestMetric?
        for tr in trials {
            guard let v = tr.bestValue, !v.isNaN else { continue }
            if best == nil || t.objectiveMode.isBetter(v, than: best!.value) {
                best = BestMetric(value: v, trialID: tr.id.rawValue, step: Int64(tr.bestStep ?? tr.stepsDone))
            }
        }
        return (trials.reduce(0) { $0 + Int64($1.stepsDone) }, steps * Int64(trials.count), best)
    }

    func detail(_ id: Int64) async throws -> TaskDetail {
        guard let t = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        let (done, total, best) = try await progress(t)
        var workerOf: [Int64: String] = [:]
        for s in live.values { workerOf[s.trialID.rawValue] = s.worker }
        let members = try await store.trials(task: t.id).map {
            MemberSummary(
                trialID: $0.id.rawValue, member: $0.member, status: wire($0.status), step: Int64($0.stepsDone),
                config: parse($0.configJSON), lastMetric: $0.finalMetricsJSON.flatMap { _ in nil },
                workerID: $0.status == .running ? workerOf[$0.id.rawValue] : nil)
        }
        return TaskDetail(
            taskID: id, name: t.name, status: wire(t.status), strategy: t.strategy, workload: workloadKind(t),
            objective: .init(metric: t.objectiveMetric, mode: t.objectiveMode == .min ? .min : .max),
            members: members, stepsDone: done, stepsTotal: total, best: best,
            createdAt: t.createdAt.timeIntervalSince1970, startedAt: t.startedAt?.timeIntervalSince1970,
            finishedAt: t.finishedAt?.timeIntervalSince1970, error: t.error)
    }

    func results(_ id: Int64) async throws -> TunedRPC.TaskResults {
        guard try await store.task(TunedStore.TaskID(id)) != nil else { throw RPCError.taskNotFound(id) }
        let r = try await store.results(task: TunedStore.TaskID(id))
        let rows = r.trials.map {
            TrialRow(
                trialID: $0.trial.rawValue, member: $0.member, status: wire($0.status), config: parse($0.configJSON),
                stepsDone: Int64($0.stepsDone), finalMetrics: $0.finalMetrics, bestMetric: $0.bestValue)
        }
        let best = r.best
        return TunedRPC.TaskResults(
            taskID: id, status: wire(r.task.status),
            objective: .init(metric: r.task.objectiveMetric, mode: r.task.objectiveMode == .min ? .min : .max),
            bestConfig: best.map { parse($0.configJSON) },
            best: best.flatMap { b in b.bestValue.map { BestMetric(value: $0, trialID: b.trial.rawValue, step: Int64(b.bestStep ?? b.stepsDone)) } },
            finalMetrics: best?.finalMetrics ?? [:], trials: rows)
    }

    func cancel(_ id: Int64) async throws -> TaskCancelResult {
        guard let t = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        if t.status.isTerminal { return TaskCancelResult(taskID: id, status: wire(t.status)) }
        try await store.setTaskStatus(t.id, .cancelled)
        tasks[id] = nil
        log("task \(id) cancelled")
        return TaskCancelResult(taskID: id, status: .cancelled)
    }

    // MARK: Workers

    func lease(_ p: WorkerLeaseParams) async throws -> WorkerLeaseResult {
        if shuttingDown { return .idle(retryAfterSeconds: 1) }
        guard let l = try await store.leaseNextSegment(worker: p.workerID, leaseDuration: leaseSeconds) else {
            return .idle(retryAfterSeconds: 0.5)
        }
        let seg = l.segment
        let meta = (try? JSONValue.parse(Data(l.taskSpecJSON.utf8)))?.objectValue ?? [:]
        let dir = "\(storeDirectory)/checkpoints/\(seg.taskID)/\(seg.trialID)/\(seg.id)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        live[seg.id.rawValue] = LiveSegment(
            taskID: seg.taskID.rawValue, trialID: seg.trialID, start: seg.startStep, end: seg.endStep,
            worker: p.workerID, attempts: seg.attempts)
        var strategy: [String: RPCValue] = [:]
        if let seed = meta["seed"] { strategy["seed"] = RPCValue(seed) }
        return WorkerLeaseResult(lease: Lease(
            segmentID: seg.id.rawValue, taskID: seg.taskID.rawValue, trialID: seg.trialID.rawValue,
            config: parse(seg.configJSON), startStep: Int64(seg.startStep), endStep: Int64(seg.endStep),
            restoreCheckpoint: l.checkpoint?.path, checkpointDir: dir, leaseSeconds: leaseSeconds,
            workload: RPCValue(meta["workload"] ?? .object([:])), strategy: .object(strategy)))
    }

    /// Renews the lease; returns `stop` (the task was cancelled or ended).
    func renew(_ segmentID: Int64, _ worker: String) async throws -> Bool {
        do {
            try await store.renewLease(TunedStore.SegmentID(segmentID), worker: worker, leaseDuration: leaseSeconds)
        } catch let e as StoreError where e.code == .leaseLost || e.code == .notFound {
            throw RPCError.leaseExpired(segmentID: segmentID)
        }
        guard let seg = live[segmentID], let t = try await store.task(TunedStore.TaskID(seg.taskID)) else { return false }
        return t.status.isTerminal
    }

    func finish(_ p: WorkerFinishParams) async throws -> WorkerFinishResult {
        guard let seg = live[p.segmentID] else { throw RPCError.leaseExpired(segmentID: p.segmentID) }
        let sid = TunedStore.SegmentID(p.segmentID)
        guard var state = try await taskState(seg.taskID), let member = state.memberByTrial[seg.trialID] else {
            // The task has ended (cancelled, or failed): record the segment's end, nothing more.
            live[p.segmentID] = nil
            if p.status == .ok, let c = p.checkpoint {
                let out = try await store.commitSegment(sid, worker: p.workerID, metrics: metrics(seg), checkpoint: checkpoint(c))
                return WorkerFinishResult(committed: !out.alreadyCommitted)
            }
            try? await store.failSegment(sid, worker: p.workerID, error: p.error ?? "failed", retry: false, trialStatus: .stopped)
            return WorkerFinishResult(committed: true)
        }
        var strategy = state.strategy
        let actions: [StrategyAction]
        switch p.status {
        case .ok:
            var last: [String: (Int64, Double)] = [:]
            for m in seg.metrics.values where m.step <= Int64(seg.end) {
                if let l = last[m.name], l.0 > m.step { continue }
                last[m.name] = (m.step, m.value)
            }
            actions = strategy.handle(.segmentFinished(trial: member, step: seg.end, metrics: last.mapValues(\.1)))
            var update = TrialProgress(status: .pending)
            for a in actions {
                switch a {
                case .scheduleSegment(let s) where s.trial == member: update.nextSegmentEnd = s.end
                case .completeTrial(let t, _) where t == member: update.status = .succeeded
                case .failTrial(let t, let reason) where t == member:
                    update.status = .failed
                    update.error = reason
                default: break
                }
            }
            let out = try await store.commitSegment(
                sid, worker: p.workerID, metrics: metrics(seg), checkpoint: p.checkpoint.map(checkpoint), trialUpdate: update)
            live[p.segmentID] = nil
            if out.alreadyCommitted { return WorkerFinishResult(committed: false) }
        case .failed, .diverged:
            let event: StrategyEvent =
                p.status == .diverged
                ? .trialDiverged(trial: member, step: seg.end)
                : .segmentFailed(trial: member, error: p.error ?? "failed", attempt: seg.attempts + 1)
            actions = strategy.handle(event)
            var retry = true
            for case .failTrial(let t, _) in actions where t == member { retry = false }
            log("segment \(p.segmentID) (trial \(seg.trialID)) \(p.status.rawValue): \(p.error ?? "")\(retry ? "; retried" : "")")
            try await store.failSegment(
                sid, worker: p.workerID, error: p.error ?? p.status.rawValue, retry: retry,
                trialStatus: p.status == .diverged ? .diverged : .failed)
            live[p.segmentID] = nil
        }
        state.strategy = strategy
        tasks[seg.taskID] = state
        try await apply(actions, state: state, taskID: seg.taskID, except: member)
        return WorkerFinishResult(committed: true)
    }

    /// Persists the actions that `finish` has not already folded into its own transaction.
    func apply(_ actions: [StrategyAction], state: TaskState, taskID: Int64, except member: Int) async throws {
        for a in actions {
            switch a {
            case .scheduleSegment(let s) where s.trial != member:
                guard let trial = state.trialByMember[s.trial] else { continue }
                let ckpt = try await store.trial(trial)?.checkpointID
                try await store.addSegments([NewSegment(trial: trial, startStep: s.start, endStep: s.end, fromCheckpoint: ckpt)])
            case .completeTask(let best):
                try await store.setTaskStatus(
                    TunedStore.TaskID(taskID), best == nil ? .failed : .succeeded, error: best == nil ? "no trial completed" : nil)
                tasks[taskID] = nil
                log("task \(taskID) finished: \(best.map { "best trial \($0.trial), \($0.objective)" } ?? "no trial completed")")
            default: break
            }
        }
    }

    func metrics(_ seg: LiveSegment) -> [Metric] {
        seg.metrics.values.sorted { ($0.step, $0.name) < ($1.step, $1.name) }.map { Metric(step: Int($0.step), name: $0.name, value: $0.value) }
    }

    func checkpoint(_ c: TunedRPC.CheckpointRef) -> NewCheckpoint {
        NewCheckpoint(step: Int(c.step), location: .file(path: c.path), size: c.size, checksum: c.checksum)
    }

    func workloadKind(_ t: TaskRecord) -> String {
        (try? JSONValue.parse(Data(t.specJSON.utf8)))?["workload"]?["kind"]?.stringValue ?? ""
    }
}

// MARK: Conversions

func jsonText(_ o: [String: JSONValue]) -> String { RPCValue(JSONValue.object(o)).jsonText }

func parse(_ json: String) -> RPCValue { (try? RPCValue.parse(json)) ?? .null }

func wire(_ s: TunedStore.TaskStatus) -> TunedRPC.TaskStatus {
    switch s {
    case .queued: .queued
    case .running: .running
    case .succeeded: .completed
    case .failed: .failed
    case .cancelled: .cancelled
    }
}

func storeStatuses(_ s: TunedRPC.TaskStatus) -> [TunedStore.TaskStatus] {
    switch s {
    case .queued: [.queued]
    case .running: [.running]
    case .completed: [.succeeded]
    case .failed: [.failed]
    case .cancelled: [.cancelled]
    }
}

func wire(_ s: TunedStore.TrialStatus) -> TunedRPC.TrialStatus {
    switch s {
    case .pending, .paused: .pending
    case .running: .running
    case .succeeded: .completed
    case .failed: .failed
    case .diverged: .diverged
    case .stopped, .pruned: .stopped
    }
}

public func log(_ message: String) {
    let stamp = ISO8601DateFormatter().string(from: Date())
    FileHandle.standardError.write(Data("\(stamp) tuned[\(getpid())]: \(message)\n".utf8))
}
