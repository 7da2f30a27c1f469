import Foundation
import TunedEngine
import TunedMeta
import TunedOptim
import TunedRPC
import TunedStore
import TunedWorker
import TunedWorkloads

/// `recommend`, `policy.fit`, `policy.show`, and the task features recorded at submit
/// (docs/META.md). The policy is the store's active `recommendation` document, or the shipped
/// default (`DefaultPolicy`, the text of policies/default.json) while the store has none.
extension DaemonCore {
    static let policyKind = PolicyDocument.kind

    func recommend(_ p: RecommendParams) async throws -> RecommendResult {
        let file = p.filename ?? "features"
        let text: String
        if let t = p.text {
            text = t
        } else if let f = p.features, case .object = f {
            text = f.jsonText
        } else {
            throw RPCError.invalidParams(
                field: "text", "give the features file's text in `text` (or an object in `features`)")
        }
        let features: TaskDescription
        do {
            features = try TaskFeaturesFile.parse(text, file: p.text == nil ? file + ".json" : file)
        } catch {
            throw RPCError.validationFailed(problems: error.problems.map {
                ValidationProblem(file: $0.file, line: $0.line, column: $0.column, field: $0.field, message: $0.message)
            })
        }
        if let k = p.topK, k < 1 { throw RPCError.invalidParams(field: "top_k", "must be ≥ 1, got \(k)") }
        let (policy, label, _) = try await activeRecommendationPolicy()
        var report = Recommender(policy: policy).recommend(features, top: p.topK ?? 1)
        report.policy = label
        return try RPCCoding.decode(RecommendResult.self, from: try RPCCoding.value(of: report))
    }

    func policyFit(_ p: PolicyFitParams) async throws -> PolicyFitResult {
        let history = try await trainingHistory(only: p.taskIDs.map(Set.init))
        let existing = try await store.policies(kind: Self.policyKind)
        let name = "store-\((existing.last?.version ?? 0) + 1)"
        let document: PolicyDocument
        do {
            document = try PolicyFitter.fit(
                history, name: name, source: "tunectl policy fit (store \(storePath))",
                note: "fitted from the daemon's finished tasks")
        } catch let e as PolicyFitter.FitError {
            throw RPCError.invalidParams(field: "task_ids", e.message + "; run more tasks to completion first")
        }
        let version = try await store.savePolicy(kind: Self.policyKind, documentJSON: try PolicyCodec.encodeString(document))
        logger.info("policy \(name) (version \(version)) fitted from \(history.count) task(s)")
        return PolicyFitResult(
            policyVersion: version, name: name, tasksUsed: document.provenance.tasks.count,
            metrics: document.statistics, fittedAt: document.createdAt)
    }

    func policyShow() async throws -> PolicyShowResult {
        let (policy, _, version) = try await activeRecommendationPolicy()
        let document = try RPCValue.parse(try PolicyCodec.encodeString(policy))
        return PolicyShowResult(version: version, source: version == nil ? "shipped" : "store", document: document)
    }

    /// The store's active policy, else the shipped default, with a label for replies.
    func activeRecommendationPolicy() async throws -> (PolicyDocument, String, Int64?) {
        if let record = try await store.activePolicy(kind: Self.policyKind) {
            let doc = try PolicyCodec.decode(Data(record.documentJSON.utf8), source: "store policy version \(record.version)")
            return (doc, "store:\(record.version) \(doc.name)", record.version)
        }
        guard let shipped = DefaultPolicy.json else {
            throw RPCError.invalidParams(
                field: nil, "no recommendation policy yet: the store has none and this build ships no "
                    + "policies/default.json; run tasks to completion, then `tunectl policy fit`")
        }
        let doc = try PolicyCodec.decode(Data(shipped.utf8), source: "the shipped policies/default.json")
        return (doc, "shipped:\(doc.name)", nil)
    }

    /// Succeeded tasks with recorded features, as policy training data: each trial's final
    /// validation loss (`val_loss`; the objective's best value when it is a loss and no final
    /// `val_loss` was reported).
    func trainingHistory(only ids: Set<Int64>?) async throws -> [PolicyTrainingTask] {
        var out: [PolicyTrainingTask] = []
        for t in try await store.listTasks(status: [.succeeded], limit: 100_000) {
            if let ids, !ids.contains(t.id.rawValue) { continue }
            guard let json = t.featuresJSON,
                let features = try? JSONDecoder().decode(TaskDescription.self, from: Data(json.utf8))
            else { continue }
            let results = try await store.results(task: t.id)
            let objectiveIsLoss = t.objectiveMetric == "val_loss" && t.objectiveMode == .min
            var trials: [PolicyTrainingTask.Trial] = []
            for r in results.trials where r.status == .succeeded {
                guard let config = (try? JSONValue.parse(Data(r.configJSON.utf8)))?.objectValue else { continue }
                let loss = r.finalMetrics["val_loss"] ?? (objectiveIsLoss ? r.bestValue : nil)
                if let loss, loss.isFinite { trials.append(.init(config: config, loss: loss)) }
            }
            if !trials.isEmpty { out.append(PolicyTrainingTask(id: t.id.rawValue, name: t.name, features: features, trials: trials)) }
        }
        return out.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    /// The task's features: what its built-in workload says about itself, refined by the task
    /// file's `[features]`; for a command workload, its `[features]` (the daemon cannot see
    /// inside the program), with the step budget and a fixed batch size added. Built at submit
    /// so that a workload the workers could not build — or a model too large for this
    /// machine's memory — is refused with the reason instead of failing in every worker.
    static func describeWorkload(_ spec: TaskSpec, file: String) throws(RPCError) -> TaskDescription? {
        guard !spec.isUserWorkload else {
            var d = spec.features ?? TaskDescription()
            d.stepBudget = d.stepBudget ?? spec.budget.steps
            if d.batchSize == nil, case .fixed(let v)? = spec.search.parameters["batch_size"] {
                d.batchSize = v.doubleValue.map { Int($0) }
            }
            return d
        }
        let workload: any Workload<Double>
        do {
            workload = try WorkloadFactory.make(spec.workload, baseDirectory: spec.baseDirectory, scalar: Double.self)
        } catch {
            var message = SegmentRunner.message(error)
            if message.hasPrefix("[workload]: ") { message.removeFirst("[workload]: ".count) }
            throw RPCError.validationFailed(message, file: file, line: nil, field: "workload")
        }
        let f = workload.features
        // Accuracy exists only for classification: a regression or an analytic objective never
        // reports it, and every segment would fail for want of it.
        if spec.objective.metric.rawValue == "val_accuracy", f.taskType != "classification" {
            throw RPCError.validationFailed(
                "metric val_accuracy is reported by classification workloads only; this \(spec.workloadKind) workload "
                    + "(\(f.taskType)) reports val_loss, train_loss and lr: choose one of those",
                file: file, line: nil, field: "[objective] metric")
        }
        if let problem = Self.memoryProblem(parameters: f.parameterCount, physicalBytes: ProcessInfo.processInfo.physicalMemory) {
            throw RPCError.validationFailed(problem, file: file, line: nil, field: "workload")
        }
        var d = TaskDescription(f, stepBudget: spec.budget.steps)
        // The batch size is a fixed feature only when the search does not vary it.
        switch spec.search.parameters["batch_size"] {
        case nil: break
        case .fixed(let v)?: d.batchSize = v.doubleValue.map { Int($0) } ?? d.batchSize
        default: d.batchSize = nil
        }
        return spec.features.map { d.refined(by: $0) } ?? d
    }

    /// Why a model of `parameters` cannot train here, if it cannot: a worker holds the float32
    /// weights, their gradients and up to two optimizer moments (16 bytes a parameter), which
    /// must fit in the machine's memory.
    static func memoryProblem(parameters: Int, physicalBytes: UInt64) -> String? {
        let (need, overflow) = parameters.multipliedReportingOverflow(by: 16)
        guard overflow || UInt64(need) > physicalBytes else { return nil }
        func gb(_ b: Double) -> String { String(format: "%.1f GB", b / 1e9) }
        return "the model has \(parameters) parameters; a worker needs ≈ \(overflow ? "more than 10¹⁹ bytes" : gb(Double(need))) "
            + "for its float32 weights, gradients and optimizer moments, and this machine has \(gb(Double(physicalBytes))); make it smaller"
    }

    /// Records the task's description (`describeWorkload`) as its features: the history the
    /// recommendation policy is fitted from.
    func recordFeatures(_ id: TunedStore.TaskID, _ d: TaskDescription?) async {
        guard let d else { return }
        do {
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            try await store.setTaskFeatures(id, featuresJSON: String(decoding: try e.encode(d), as: UTF8.self))
        } catch {
            logger.warning("task \(id): no task features recorded (\(error))")
        }
    }
}
