import Foundation
import Logging
import TunedEngine
import TunedMeta
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
    nonisolated let logger: Logger
    let startedAt = Date()
    var shuttingDown = false
    var workersConfigured = 0
    var workersAlive: @Sendable () -> Int = { 0 }
    var ticks = 0
    /// Who may submit command workloads (ops: `[command_workloads]` of the configuration file).
    var commandPolicy = CommandWorkloadPolicy(daemonUID: getuid())
    /// What a connection must show in `worker.hello` to act as a worker (DaemonCore+Workers.swift).
    var workerSecret = WorkerSecret.generate()
    /// Set while a full or failing disk has paused leasing (DaemonCore+IOPause.swift).
    var ioPause: IOPause?
    /// Leases to give back without counting an attempt once writes succeed again: segment → worker.
    var faulted: [Int64: String] = [:]
    /// How many times each live segment has ended in an I/O fault (bounded: `maxIOFaultsPerSegment`).
    var ioFaults: [Int64: Int] = [:]
    /// The earliest time a retried segment's delay ends (`Store.retryDelay`), for long polls.
    var nextRetryAt: Date?

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
        /// How long the lease lasts unrenewed (the daemon's for workers; a `study.ask` may choose).
        var leaseSeconds: Double
    }
    var live: [Int64: LiveSegment] = [:]
    /// Bumped by every change a `task.watch` may want to see (DaemonCore+Watch.swift).
    var changes: UInt64 = 0

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

    public init(
        store: Store, storePath: String, socketPath: String, leaseSeconds: Double = 10,
        logger: Logger = Logger(label: "tuned.daemon")
    ) {
        self.logger = logger
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

    public func setWorkerSecret(_ secret: WorkerSecret) { workerSecret = secret }

    var storeDirectory: String { URL(fileURLWithPath: storePath).deletingLastPathComponent().path }

    // MARK: Start-up

    /// Re-queues the leases of a previous run and rebuilds the strategy of every unfinished task.
    public func recover() async throws {
        let requeued = try await store.recoverAfterRestart()
        if !requeued.isEmpty { logger.notice("recovered \(requeued.count) leased segment(s) after restart") }
        for task in try await store.listTasks(status: [.queued, .running]) {
            do { _ = try await serialized { try await taskState(task.id.rawValue) != nil } } catch {
                logger.error("task \(task.id): cannot rebuild its strategy: \(error)")
            }
        }
    }

    /// Called every second: segments whose lease expired (a dead or stuck worker) go through
    /// the strategy as failed attempts, which retries them or fails the trial
    /// (DaemonCore+Leases.swift).
    public func expireLeases() async {
        // While writes fail nothing expires through a strategy (a renewal the store could not
        // write is not the worker's fault); the pause is probed on its back-off instead.
        if ioPause != nil {
            await probeIOPause()
            if ioPause != nil { return }
        }
        do {
            var ended = 0
            // One `now` for both reads: a live lease that expires between them must go through
            // its strategy at the next tick, not be swept here (that would re-queue it without
            // counting the attempt, and the trial would get one attempt too many).
            let now = Date()
            for (id, owner) in try await store.expiredLeases(now: now) {
                guard let seg = live.removeValue(forKey: id.rawValue) else { continue }
                logger.warning("task \(seg.taskID) trial \(seg.trialID) segment \(id) failed: lease expired (worker \(owner))")
                do { try await serialized { try await leaseExpired(id, seg) } } catch {
                    logger.error("segment \(id): ending the expired lease through the strategy: \(error)")
                }
                ended += 1
            }
            // Leases no strategy took (a task that has ended, a lease this run did not grant) are re-queued.
            let swept = try await store.expireLeases(now: now)
            for id in swept { live[id.rawValue] = nil }
            if ended + swept.count > 0 { changed() }
        } catch is CancellationError {
        } catch { logger.error("expireLeases: \(error)") }
        ticks += 1
        if ticks % Self.collectEveryTicks == 0 { await collectCheckpoints() }
    }

    // MARK: Dispatch

    public func handle(_ request: RPCRequest, caller: Caller) async -> RPCResponse? {
        let id = request.id
        do {
            let result = try await dispatch(request, caller: caller)
            noteChange(request.method, result)
            guard let id else { return nil }
            return RPCResponse(id: id, body: .result(result))
        } catch let e as RPCError {
            return id == nil ? nil : .error(id: id, e)
        } catch let e as StoreError {
            if Self.isIOFault(e) { pauseForIO("\(request.method): \(e.message)") }
            let rpc: RPCError
            switch e.code {
            case .leaseLost: rpc = RPCError(.leaseExpired, "lease lost: \(e.message)")
            case .notFound, .invalidState, .invalidArgument: rpc = RPCError.invalidParams(field: nil, e.message)
            default: rpc = .storeUnavailable(e.message)
            }
            logger.warning("\(request.method): \(e)")
            return id == nil ? nil : .error(id: id, rpc)
        } catch {
            logger.error("\(request.method): internal error: \(error)")
            return id == nil ? nil : .error(id: id, .internalError("internal error: \(error)"))
        }
    }

    func dispatch(_ r: RPCRequest, caller: Caller) async throws -> RPCValue {
        func out<T: Encodable>(_ v: T) throws -> RPCValue { try RPCCoding.value(of: v) }
        let peer = caller.peer
        switch r.method {
        case RPCMethodName.daemonStatus: return try out(await status())
        case RPCMethodName.taskSubmit:
            let p = try r.decodeParams(TaskSubmitParams.self)
            let prepared = try await Self.prepare(p)
            return try out(await serialized { try await submit(prepared, p, peer: peer) })
        case RPCMethodName.taskList:
            let p = r.params == nil || r.params!.isNull ? TaskListParams() : try r.decodeParams(TaskListParams.self)
            return try out(await list(p))
        case RPCMethodName.taskGet: return try out(await detail(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.taskResults:
            return try out(await withFailureReasons(await results(try r.decodeParams(TaskIDParams.self).taskID)))
        case RPCMethodName.taskLineage: return try out(await lineage(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.taskCurves: return try out(await curves(try r.decodeParams(TaskCurvesParams.self)))
        case RPCMethodName.trialList:
            let p = try r.decodeParams(TrialListParams.self)
            var rows = try await results(p.taskID).trials
            if let s = p.status { rows = rows.filter { s.contains($0.status) } }
            return try out(await withFailureReasons(rows, task: p.taskID))
        case RPCMethodName.trialLogs: return try out(await trialLogs(try r.decodeParams(TrialLogsParams.self)))
        case RPCMethodName.taskCancel: return try out(await cancel(try r.decodeParams(TaskIDParams.self).taskID))
        case RPCMethodName.taskWatch: return try out(await detail(try r.decodeParams(TaskWatchParams.self).taskID))
        case RPCMethodName.workerHello, RPCMethodName.workerLease, RPCMethodName.workerHeartbeat,
            RPCMethodName.workerReport, RPCMethodName.workerFinish:
            return try await dispatchWorker(r, caller: caller)
        case RPCMethodName.studyAsk, RPCMethodName.studyReport, RPCMethodName.studyTell:
            return try await dispatchStudy(r, caller: caller)
        case RPCMethodName.recommend: return try out(await recommend(try r.decodeParams(RecommendParams.self)))
        case RPCMethodName.policyFit:
            let p = r.params == nil || r.params!.isNull ? PolicyFitParams() : try r.decodeParams(PolicyFitParams.self)
            return try out(await policyFit(p))
        case RPCMethodName.policyShow: return try out(await policyShow())
        case RPCMethodName.taskBatchSize: return try out(await batchSize(try r.decodeParams(TaskIDParams.self).taskID))
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
            version: TunedVersion.string, uptimeSeconds: Date().timeIntervalSince(startedAt), pid: getpid(),
            workers: .init(configured: workersConfigured, alive: workersAlive(), busy: busy), tasks: counts,
            socket: socketPath, store: .init(path: storePath, sizeBytes: size, error: ioPause?.reason))
    }

    /// What a submit needs that touches none of the daemon's state: the parsed task file, the
    /// description of its workload (which may read and parse a large dataset) and its
    /// strategy with every trial drawn. Made off the actor, so a big submit does not stall
    /// the other requests.
    struct PreparedTask: Sendable {
        let file: String
        let base: String
        let spec: TaskSpec
        let description: TaskDescription?
        let strategy: Strategy
    }

    @concurrent
    static func prepare(_ p: TaskSubmitParams) async throws(RPCError) -> PreparedTask {
        let file = p.filename ?? "task.\(p.format.rawValue)"
        let base = p.baseDir ?? FileManager.default.currentDirectoryPath
        let spec: TaskSpec
        do {
            spec = try TaskFile.parse(p.text, file: file, baseDirectory: base, format: p.format == .toml ? .toml : .json)
        } catch {
            // Every problem, one line each; data's file/line/field point into the file when they can.
            throw RPCError.validationFailed(problems: error.problems.map {
                ValidationProblem(file: $0.file, line: $0.line, column: $0.column, field: $0.field, message: $0.message)
            })
        }
        let description = try describeWorkload(spec, file: file)
        let strategy: Strategy
        do { strategy = try Strategy.make(for: spec) } catch {
            throw RPCError.validationFailed(error.message, file: file, line: nil, field: "strategy.kind")
        }
        return PreparedTask(file: file, base: base, spec: spec, description: description, strategy: strategy)
    }

    func submit(_ prepared: PreparedTask, _ p: TaskSubmitParams, peer: PeerCredentials?) async throws -> TaskSubmitResult {
        if shuttingDown { throw RPCError.shuttingDown() }
        let (file, base, spec, description) = (prepared.file, prepared.base, prepared.spec, prepared.description)
        if spec.workload["kind"]?.stringValue == "command", let refusal = commandPolicy.check(peer) {
            logger.warning("task.submit refused: \(refusal)")
            throw RPCError.unauthorized(refusal)
        }
        var strategy = prepared.strategy
        let actions = strategy.start()
        var firstEnd: [Int: Int] = [:]
        for case .scheduleSegment(let s) in actions where s.start == 0 { firstEnd[s.trial] = s.end }
        let trials = strategy.trials.map {
            NewTrial(member: $0.index, configJSON: jsonText($0.config), firstSegmentEnd: firstEnd[$0.index])
        }
        var specJSON: [String: JSONValue] = [
            "workload": .object(spec.workload), "base_dir": .string(base), "filename": .string(file),
            "seed": .number(Double(spec.budget.seed)), "steps": .number(Double(spec.budget.steps)),
            "objective_select": .string(spec.objective.select.rawValue),
        ]
        // Which configuration keys a command workload's program gets as JSON floats (`1.0`):
        // configurations keep numbers as Doubles, so the worker needs to be told.
        if spec.isUserWorkload, !spec.search.floatKeys.isEmpty {
            specJSON["config_float_keys"] = .array(spec.search.floatKeys.sorted().map(JSONValue.string))
        }
        // B_simple is measured online in every run of a built-in workload, so the history holds
        // the noise scale of every run beside its results; command workloads report their own.
        // The default measurement keeps its extra gradients within 2 % of the training's.
        let noiseEvery = spec.strategy.noiseScaleEvery ?? StrategySpec.defaultNoiseScaleEvery
        if !spec.isUserWorkload, noiseEvery > 0 {
            specJSON["noise_scale_every"] = .number(Double(noiseEvery))
            if spec.strategy.noiseScaleEvery == nil { specJSON["noise_scale_max_overhead"] = .number(0.02) }
        }
        // Who submitted it: a command workload's program runs as that user when the daemon is root.
        if let peer {
            specJSON["submitter"] = .object([
                "uid": .number(Double(peer.uid)), "gid": .number(Double(peer.gid)),
                "groups": .array((PeerCredentials.supplementaryGroups(of: peer.uid).nilIfEmpty ?? [peer.gid]).map { .number(Double($0)) }),
            ])
        }
        let objective = TunedStore.Objective(metric: spec.objective.metric.rawValue, mode: spec.objective.mode == .min ? .min : .max)
        let id = try await store.createTask(
            NewTask(name: spec.name, specText: p.text, specFormat: p.format == .toml ? .toml : .json, specJSON: jsonText(specJSON),
                    strategy: spec.strategy.kind.rawValue, seed: Int64(bitPattern: spec.budget.seed), objective: objective,
                    leasedByClient: spec.workload["kind"]?.stringValue == "external"),
            trials: trials)
        await recordFeatures(id, description)
        let records = try await store.trials(task: id)
        tasks[id.rawValue] = TaskState(
            strategy: strategy, trialByMember: Dictionary(uniqueKeysWithValues: records.map { ($0.member, $0.id) }),
            memberByTrial: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.member) }))
        for case .completeTask(let best) in actions {
            try await store.setTaskStatus(id, best == nil ? .failed : .succeeded, error: best == nil ? "no trial completed" : nil)
        }
        logger.info("task \(id) '\(spec.name)': \(trials.count) trial(s), strategy \(spec.strategy.kind.rawValue)")
        return TaskSubmitResult(taskID: id.rawValue, warnings: spec.warnings.map(\.description))
    }

    /// The task's strategy, rebuilt by replaying its recorded events when it is not in memory.
    func taskState(_ taskID: Int64) async throws -> TaskState? {
        if let s = tasks[taskID] { return s }
        guard let task = try await store.task(TunedStore.TaskID(taskID)), !task.status.isTerminal else { return nil }
        let meta = (try? JSONValue.parse(Data(task.specJSON.utf8)))?.objectValue ?? [:]
        let spec = try TaskFile.parse(
            task.specText, file: meta["filename"]?.stringValue ?? "task", baseDirectory: meta["base_dir"]?.stringValue ?? ".",
            format: task.specFormat == .toml ? .toml : .json, checkFiles: false)
        var strategy = try Strategy.make(for: spec)
        let records = try await store.trials(task: task.id).sorted { $0.member < $1.member }
        try await StrategyDriver.rebuild(&strategy, spec: spec, store: store, task: task.id, trials: records)
        let state = TaskState(
            strategy: strategy, trialByMember: Dictionary(uniqueKeysWithValues: records.map { ($0.member, $0.id) }),
            memberByTrial: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.member) }))
        tasks[taskID] = state
        if strategy.isFinished {
            try await store.setTaskStatus(task.id, strategy.best == nil ? .failed : .succeeded)
            tasks[taskID] = nil
        }
        logger.info("task \(taskID): strategy rebuilt from the store")
        return state
    }

    func list(_ p: TaskListParams) async throws -> [TaskSummary] {
        let statuses = p.status.map { Set($0.flatMap(storeStatuses)) }
        var out: [TaskSummary] = []
        for t in try await store.listTasks(status: statuses, limit: p.limit ?? 1000) {
            let (done, total, best) = try await progress(t)
            var row = TaskSummary(
                taskID: t.id.rawValue, name: t.name, status: wire(t.status), strategy: t.strategy,
                workload: workloadKind(t), stepsDone: done, stepsTotal: total, best: best,
                createdAt: t.createdAt.timeIntervalSince1970, finishedAt: t.finishedAt?.timeIntervalSince1970)
            row.paused = t.status.isTerminal ? nil : ioPause?.reason
            out.append(row)
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
        let select = objectiveSelect(t)
        let candidates = trials.enumerated().map { i, tr in
            FinalBest.Candidate(
                index: i, member: tr.member, completed: tr.status == .succeeded,
                final: select == .best
                    ? tr.bestValue : tr.finalMetricsJSON.flatMap { try? JSONValue.parse(Data($0.utf8)) }?[t.objectiveMetric]?.doubleValue,
                steps: select == .best ? tr.bestStep ?? tr.stepsDone : tr.stepsDone)
        }
        if let f = FinalBest.pick(candidates, mode: t.objectiveMode) {
            best = BestMetric(value: f.value, trialID: trials[f.index].id.rawValue, step: Int64(f.step))
        }
        // Steps to train: the budget of each trial that may still train; a trial that never will
        // (pruned by ASHA, failed, diverged, or any trial of a succeeded task) counts the steps it
        // reached, so a finished ASHA task is at 100 % rather than at its survivors' share.
        let total = trials.reduce(Int64(0)) { sum, tr in
            let over = tr.status == .pruned || tr.status == .failed || tr.status == .diverged || (t.status == .succeeded && tr.status.isTerminal)
            return sum + (over ? Int64(tr.stepsDone) : steps)
        }
        return (trials.reduce(0) { $0 + Int64($1.stepsDone) }, total, best)
    }

    func detail(_ id: Int64) async throws -> TaskDetail {
        guard let t = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        let (done, total, best) = try await progress(t)
        var workerOf: [Int64: String] = [:]
        for s in live.values { workerOf[s.trialID.rawValue] = s.worker }
        let inFlight = latestInFlight(task: id, metric: t.objectiveMetric)
        let members = try await store.trials(task: t.id).map {
            MemberSummary(
                trialID: $0.id.rawValue, member: $0.member, status: wire($0.status), step: Int64($0.stepsDone),
                config: parse($0.configJSON),
                lastMetric: inFlight[$0.id.rawValue] ?? latestCommitted(t.objectiveMetric, $0.finalMetricsJSON),
                workerID: $0.status == .running ? workerOf[$0.id.rawValue] : nil)
        }
        var detail = TaskDetail(
            taskID: id, name: t.name, status: wire(t.status), strategy: t.strategy, workload: workloadKind(t),
            objective: wireObjective(t),
            members: members, stepsDone: done, stepsTotal: total, best: best,
            createdAt: t.createdAt.timeIntervalSince1970, startedAt: t.startedAt?.timeIntervalSince1970,
            finishedAt: t.finishedAt?.timeIntervalSince1970, error: t.error)
        detail.paused = t.status.isTerminal ? nil : ioPause?.reason
        return detail
    }

    func results(_ id: Int64) async throws -> TunedRPC.TaskResults {
        guard try await store.task(TunedStore.TaskID(id)) != nil else { throw RPCError.taskNotFound(id) }
        let r = try await store.results(task: TunedStore.TaskID(id))
        let select = objectiveSelect(r.task)
        func value(_ t: TrialResult) -> Double? {
            select == .best ? t.bestValue : t.finalMetrics[r.task.objectiveMetric]
        }
        // Ranked by the value `select` defines, the one the strategies and the result use.
        let rows = FinalBest.ranked(r.trials, value: value, mode: r.task.objectiveMode).map {
            TrialRow(
                trialID: $0.trial.rawValue, member: $0.member, status: wire($0.status), config: parse($0.configJSON),
                stepsDone: Int64($0.stepsDone), finalMetrics: $0.finalMetrics, bestMetric: $0.bestValue,
                error: $0.error, objectiveValue: value($0))
        }
        // The task's best is what the strategies rank on (`FinalBest`).
        var best: TrialResult?, bestValue: Double?, bestStep = 0
        let candidates = r.trials.enumerated().map { i, t in
            FinalBest.Candidate(
                index: i, member: t.member, completed: t.status == .succeeded, final: value(t),
                steps: select == .best ? t.bestStep ?? t.stepsDone : t.stepsDone)
        }
        if let f = FinalBest.pick(candidates, mode: r.task.objectiveMode) {
            (best, bestValue, bestStep) = (r.trials[f.index], f.value, f.step)
        }
        if best == nil, let b = r.best { (best, bestValue, bestStep) = (b, b.bestValue, b.bestStep ?? b.stepsDone) }
        return TunedRPC.TaskResults(
            taskID: id, status: wire(r.task.status), objective: wireObjective(r.task),
            bestConfig: best.map { parse($0.configJSON) },
            best: best.flatMap { b in bestValue.map { BestMetric(value: $0, trialID: b.trial.rawValue, step: Int64(bestStep)) } },
            finalMetrics: best?.finalMetrics ?? [:], trials: rows)
    }

    func cancel(_ id: Int64) async throws -> TaskCancelResult {
        guard let t = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        if t.status.isTerminal { return TaskCancelResult(taskID: id, status: wire(t.status)) }
        try await store.setTaskStatus(t.id, .cancelled)
        tasks[id] = nil
        logger.info("task \(id) cancelled")
        return TaskCancelResult(taskID: id, status: .cancelled)
    }

    // MARK: Workers

    func lease(_ p: WorkerLeaseParams) async throws -> WorkerLeaseResult {
        if shuttingDown { return .idle(retryAfterSeconds: 1) }
        if let pause = ioPause { return .idle(retryAfterSeconds: max(0.5, pause.nextProbe.timeIntervalSinceNow)) }
        guard let l = try await store.leaseNextSegment(worker: p.workerID, leaseDuration: leaseSeconds) else {
            return .idle(retryAfterSeconds: 0.5)
        }
        return WorkerLeaseResult(lease: grant(l, to: p.workerID, leaseSeconds: leaseSeconds))
    }

    /// A segment the store has leased to `worker`, as the worker (or the asking client) gets it.
    func grant(_ l: SegmentLease, to worker: String, leaseSeconds: Double) -> Lease {
        let seg = l.segment
        let meta = (try? JSONValue.parse(Data(l.taskSpecJSON.utf8)))?.objectValue ?? [:]
        // The worker creates the folder when it writes there (a mkdir here, on the actor, was a
        // quarter of the daemon's CPU with short segments: ext4 scans for recently deleted inodes).
        let dir = checkpointDirectory(task: seg.taskID.rawValue, trial: seg.trialID.rawValue, segment: seg.id.rawValue)
        live[seg.id.rawValue] = LiveSegment(
            taskID: seg.taskID.rawValue, trialID: seg.trialID, start: seg.startStep, end: seg.endStep,
            worker: worker, attempts: seg.attempts, leaseSeconds: leaseSeconds)
        var strategy: [String: RPCValue] = [:]
        if let seed = meta["seed"] { strategy["seed"] = RPCValue(seed) }
        for key in ["noise_scale_every", "noise_scale_max_overhead", "config_float_keys"] {
            if let v = meta[key] { strategy[key] = RPCValue(v) }
        }
        return Lease(
            segmentID: seg.id.rawValue, taskID: seg.taskID.rawValue, trialID: seg.trialID.rawValue,
            config: parse(seg.configJSON), startStep: Int64(seg.startStep), endStep: Int64(seg.endStep),
            restoreCheckpoint: l.checkpoint?.path, checkpointDir: dir, leaseSeconds: leaseSeconds,
            workload: RPCValue(meta["workload"] ?? .object([:])), strategy: .object(strategy), runAs: runAs(meta))
    }

    /// Whom a command segment's program runs as: the submitter, when this daemon runs as root
    /// and the submitter is not root (never root on another user's behalf); nil otherwise.
    func runAs(_ meta: [String: JSONValue]) -> RunAs? {
        guard geteuid() == 0, meta["workload"]?["kind"]?.stringValue == "command", let who = Self.submitter(meta), who.uid != 0
        else { return nil }
        return who
    }

    /// Renews the lease; returns `stop` (the task was cancelled or ended).
    func renew(_ segmentID: Int64, _ worker: String) async throws -> Bool {
        do {
            try await store.renewLease(
                TunedStore.SegmentID(segmentID), worker: worker, leaseDuration: live[segmentID]?.leaseSeconds ?? leaseSeconds)
        } catch let e as StoreError where e.code == .leaseLost || e.code == .notFound {
            throw RPCError.leaseExpired(segmentID: segmentID)
        }
        guard let seg = live[segmentID], let t = try await store.task(TunedStore.TaskID(seg.taskID)) else { return false }
        return t.status.isTerminal
    }

    /// Commits how a segment ended. `checkpointRefusal`: why the checkpoint it names may not be
    /// committed (`CheckpointCheck`); the segment then fails with that reason.
    func finish(_ p: WorkerFinishParams, checkpointRefusal: String? = nil) async throws -> WorkerFinishResult {
        guard let seg = live[p.segmentID], seg.worker == p.workerID else { throw RPCError.leaseExpired(segmentID: p.segmentID) }
        let sid = TunedStore.SegmentID(p.segmentID)
        if p.status == .failed, p.fault == .io, try await ioFaultEnded(p, seg) {
            return WorkerFinishResult(committed: false)
        }
        var p = p
        if let checkpointRefusal {
            logger.error("segment \(p.segmentID) (task \(seg.taskID), trial \(seg.trialID)): checkpoint refused: \(checkpointRefusal)")
            (p.status, p.checkpoint, p.error) = (.failed, nil, "checkpoint refused: \(checkpointRefusal)")
        }
        guard let state = try await taskState(seg.taskID), let member = state.memberByTrial[seg.trialID] else {
            // The task has ended (cancelled, or failed): record the segment's end, nothing more.
            live[p.segmentID] = nil
            if p.status == .ok, let c = p.checkpoint {
                let out = try await store.commitSegment(sid, worker: p.workerID, metrics: metrics(seg), checkpoint: checkpoint(c))
                ioFaults[p.segmentID] = nil
                return WorkerFinishResult(committed: !out.alreadyCommitted)
            }
            try? await store.failSegment(sid, worker: p.workerID, error: p.error ?? "failed", retry: false, trialStatus: .stopped)
            return WorkerFinishResult(committed: true)
        }
        let event: StrategyEvent
        let failure: (error: String, status: TunedStore.TrialStatus)?
        switch p.status {
        case .ok where p.checkpoint == nil:
            // Strategies take a finished segment as a committed checkpoint (PBT donors, next segments).
            event = .segmentFailed(trial: member, error: "the segment finished without a checkpoint", attempt: seg.attempts + 1)
            failure = ("the segment finished without a checkpoint", .failed)
        case .ok:
            let points = seg.metrics.values.lazy.map { (step: $0.step, name: $0.name, value: $0.value) }
            event = .segmentFinished(
                trial: member, step: seg.end, metrics: state.strategy.objective.segmentMetrics(points, end: Int64(seg.end)))
            failure = nil
        case .failed, .diverged:
            event = p.status == .diverged
                ? .trialDiverged(trial: member, step: seg.end)
                : .segmentFailed(trial: member, error: p.error ?? "failed", attempt: seg.attempts + 1)
            failure = (p.error ?? p.status.rawValue, p.status == .diverged ? TunedStore.TrialStatus.diverged : .failed)
        }
        let committed: Bool
        do {
            committed = try await commitStep(
                seg, segment: sid, worker: p.workerID, event: event, state: state, strategy: state.strategy
            ) { retry in
                if let failure {
                    logger.warning("\(Self.failureLogLine(task: seg.taskID, trial: seg.trialID, segment: p.segmentID, status: p.status.rawValue, reason: Self.failureReason(p), error: failure.error, retry: retry))")
                    return .failed(error: failure.error, retry: retry, trialStatus: failure.status)
                }
                return .committed(metrics: metrics(seg), checkpoint: p.checkpoint.map(checkpoint))
            }
        } catch let e as StoreError where Self.isIOFault(e) {
            // Nothing was committed; the segment is redone (no attempt counted) once writes succeed.
            live[p.segmentID] = nil
            faulted[p.segmentID] = p.workerID
            pauseForIO("committing segment \(p.segmentID): \(e.message)")
            throw e
        }
        live[p.segmentID] = nil
        ioFaults[p.segmentID] = nil
        if committed, failure != nil { await recordFailure(p, seg) }
        return WorkerFinishResult(committed: committed)
    }

    /// Tells the task's strategy `event` and commits, in one transaction, how the segment
    /// ended (`end`, given whether the strategy retries it) with the event and the store
    /// effects of the strategy's actions. Returns false when the segment was already committed.
    func commitStep(
        _ seg: LiveSegment, segment sid: TunedStore.SegmentID, worker: String, event: StrategyEvent, state: TaskState,
        strategy: Strategy, end: (_ retry: Bool) -> SegmentEnd
    ) async throws -> Bool {
        var state = state
        var strategy = strategy
        let actions = strategy.handle(event)
        let (effects, retry) = StrategyDriver.effects(actions, trialByMember: state.trialByMember)
        let segmentEnd = end(retry)
        let committed: Bool
        do {
            committed = try await store.commitStrategyStep(StrategyStep(
                task: TunedStore.TaskID(seg.taskID), segment: sid, worker: worker, end: segmentEnd, eventTrial: seg.trialID,
                eventJSON: event.recordJSON, effects: effects))
        } catch {
            // The strategy moved on in memory but the store did not: rebuild it from the store next time.
            tasks[seg.taskID] = nil
            throw error
        }
        guard committed else {
            tasks[seg.taskID] = nil
            return false
        }
        state.strategy = strategy
        tasks[seg.taskID] = state
        if retry, case .failed = segmentEnd {
            // The store holds the retry back for its delay; a long-polling worker wakes then.
            let at = Date().addingTimeInterval(Store.retryDelay(attempt: seg.attempts + 1))
            nextRetryAt = min(nextRetryAt ?? at, at)
        }
        for case .completeTask(let best) in actions {
            tasks[seg.taskID] = nil
            logger.info("task \(seg.taskID) finished: \(best.map { "best trial \($0.trial), \($0.objective)" } ?? "no trial completed")")
        }
        return true
    }

    func metrics(_ seg: LiveSegment) -> [Metric] {
        seg.metrics.values.sorted { ($0.step, $0.name) < ($1.step, $1.name) }.map { Metric(step: Int($0.step), name: $0.name, value: $0.value) }
    }

    func checkpoint(_ c: TunedRPC.CheckpointRef) -> NewCheckpoint {
        NewCheckpoint(step: Int(c.step), location: .file(path: c.path), size: c.size, checksum: c.checksum)
    }

    /// The task's `[objective] select` (kept in its spec JSON; tasks from before it: `final`).
    func objectiveSelect(_ t: TaskRecord) -> TunedEngine.Objective.Select {
        let meta = try? JSONValue.parse(Data(t.specJSON.utf8))
        return meta?["objective_select"]?.stringValue.flatMap(TunedEngine.Objective.Select.init(rawValue:)) ?? .final
    }

    func wireObjective(_ t: TaskRecord) -> TunedRPC.Objective {
        .init(metric: t.objectiveMetric, mode: t.objectiveMode == .min ? .min : .max,
              select: objectiveSelect(t) == .best ? .best : .final)
    }

    /// The objective's latest committed value in a trial's `final_metrics_json` (nil for NaN or none).
    func latestCommitted(_ metric: String, _ json: String?) -> Double? {
        json.flatMap { try? JSONValue.parse(Data($0.utf8)) }?[metric]?.doubleValue
    }

    /// Per trial of `task` with a segment in flight, the latest value of `metric` it has reported
    /// in that segment (not yet committed): what `status` and `watch` show while a trial runs.
    /// One pass over the task's in-flight reports (at most a segment's worth per trial).
    func latestInFlight(task: Int64, metric: String) -> [Int64: Double] {
        var out: [Int64: (Int64, Double)] = [:]
        for seg in live.values where seg.taskID == task {
            for m in seg.metrics.values where m.name == metric {
                if let o = out[seg.trialID.rawValue], o.0 >= m.step { continue }
                out[seg.trialID.rawValue] = (m.step, m.value)
            }
        }
        return out.mapValues(\.1)
    }

    func workloadKind(_ t: TaskRecord) -> String {
        (try? JSONValue.parse(Data(t.specJSON.utf8)))?["workload"]?["kind"]?.stringValue ?? ""
    }
}

// MARK: Conversions

func jsonText(_ o: [String: JSONValue]) -> String { RPCValue(JSONValue.object(o)).jsonText }

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}

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
