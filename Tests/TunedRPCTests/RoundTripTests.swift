import Foundation
import Testing

@testable import TunedRPC

/// One value of a wire type and the snake_case keys its JSON must contain.
struct RoundTripSample: Sendable, CustomTestStringConvertible {
    let name: String
    let keys: [String]
    let check: @Sendable () throws -> Void
    var testDescription: String { name }

    init<T: Codable & Equatable & Sendable>(_ value: T, keys: [String] = []) {
        self.name = String(describing: T.self)
        self.keys = keys
        self.check = { try assertRoundTrip(value, keys: keys) }
    }
}

/// Through the encoder and back; through a request line and the request decoder; through a
/// response line and the client's reply parser.
func assertRoundTrip<T: Codable & Equatable & Sendable>(_ value: T, keys: [String]) throws {
    let bytes = try RPCCoding.encode(value)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(!text.contains("\n"))
    for key in keys { #expect(text.contains("\"\(key)\":"), "\(T.self) lacks \(key) in \(text)") }
    #expect(try RPCCoding.makeDecoder().decode(T.self, from: Data(bytes)) == value)

    let value2 = try RPCCoding.value(of: value)
    #expect(try RPCCoding.decode(T.self, from: value2) == value)

    // As params of a request, through the server's decoder.
    if case .object = value2 {
        let line = try RPCRequest.encodedLine(id: .int(9), method: "x.y", params: value)
        #expect(line.last == 0x0A)
        let outcome = RPCRequestDecoder().decode(line)
        let request = try #require(outcome.request)
        #expect(try request.decodeParams(T.self) == value)
    }
    // As a result, through the client's parser.
    let reply = RPCResponse.encodedLine(id: .string("r"), result: value)
    guard case .response(let response) = try RPCIncoming.parse(reply.dropLast()) else {
        Issue.record("not a response")
        return
    }
    #expect(response.id == .string("r"))
    #expect(try response.decodeResult(T.self) == value)
}

let config: RPCValue = ["optimizer": "adamw", "lr": 0.001, "batch_size": 64, "nesterov": false, "betas": [0.9, 0.999]]
let best = BestMetric(value: 0.0712, trialID: 12, step: 4000)
let member = MemberSummary(
    trialID: 12, member: 3, status: .running, step: 1200, config: config, lastMetric: 0.31, workerID: "w1")
let detail = TaskDetail(
    taskID: 7, name: "digits-pbt", status: .running, strategy: "pbt", workload: "mlp",
    objective: Objective(metric: "val_loss", mode: .min), members: [member], stepsDone: 9600, stepsTotal: 32000,
    best: best, etaSeconds: 41.5, createdAt: 1_764_412_800.25, startedAt: 1_764_412_801, finishedAt: nil, error: nil)
let row = TrialRow(
    trialID: 12, member: 3, status: .completed, config: config, stepsDone: 4000,
    finalMetrics: ["val_loss": 0.0712, "train_loss": 0.05], bestMetric: 0.07, parentTrialID: 4, error: nil)
let lease = Lease(
    segmentID: 99, taskID: 7, trialID: 12, config: config, startStep: 1200, endStep: 1300,
    restoreCheckpoint: "/var/lib/tuned/ckpt/12/1200", checkpointDir: "/var/lib/tuned/ckpt/12/1300",
    leaseSeconds: 10, workload: ["kind": "mlp", "dataset": "/data/digits.csv", "hidden": [64]],
    strategy: ["hypergradient": ["beta": 1e-4]])

let roundTripSamples: [RoundTripSample] = [
    RoundTripSample(
        TaskSubmitParams(text: "name = \"x\"\n", format: .toml, filename: "x.toml", baseDir: "/home/a"),
        keys: ["text", "format", "filename", "base_dir"]),
    RoundTripSample(TaskSubmitParams(text: "{}", format: .json)),
    RoundTripSample(TaskSubmitResult(taskID: 7), keys: ["task_id"]),
    RoundTripSample(TaskListParams(status: [.running, .queued], limit: 10), keys: ["status", "limit"]),
    RoundTripSample([
        TaskSummary(
            taskID: 7, name: "a", status: .completed, strategy: "random", workload: "mlp", stepsDone: 10,
            stepsTotal: 10,
            best: best, createdAt: 1, finishedAt: 2)
    ]),
    RoundTripSample(
        TaskSummary(
            taskID: 7, name: "a", status: .queued, strategy: "grid", workload: "command", stepsDone: 0, stepsTotal: 10,
            createdAt: 1), keys: ["task_id", "steps_done", "steps_total", "created_at"]),
    RoundTripSample(TaskIDParams(taskID: 7), keys: ["task_id"]),
    RoundTripSample(detail, keys: ["task_id", "eta_seconds", "started_at", "members", "best", "objective"]),
    RoundTripSample(member, keys: ["trial_id", "last_metric", "worker_id"]),
    RoundTripSample(TaskCancelResult(taskID: 7, status: .cancelled), keys: ["task_id", "status"]),
    RoundTripSample(TaskWatchParams(taskID: 7, intervalSeconds: 0.5), keys: ["task_id", "interval_seconds"]),
    RoundTripSample(
        TaskProgress(
            taskID: 7, status: .running, stepsDone: 100, stepsTotal: 200, best: best, etaSeconds: 3, members: [member],
            at: 5), keys: ["task_id", "steps_done", "eta_seconds", "at"]),
    RoundTripSample(
        TaskFinished(taskID: 7, status: .failed, best: nil, error: "all trials diverged", finishedAt: 9),
        keys: ["task_id", "finished_at", "error"]),
    RoundTripSample(
        TaskResults(
            taskID: 7, status: .completed, objective: Objective(metric: "val_acc", mode: .max), bestConfig: config,
            best: best, finalMetrics: ["val_loss": 0.07], trials: [row]),
        keys: ["best_config", "final_metrics", "trials"]),
    RoundTripSample(row, keys: ["trial_id", "steps_done", "final_metrics", "best_metric", "parent_trial_id"]),
    RoundTripSample([row]),
    RoundTripSample(TrialListParams(taskID: 7, status: [.diverged]), keys: ["task_id"]),
    RoundTripSample(
        TaskLineage(
            taskID: 7,
            edges: [
                LineageEdge(
                    step: 400, at: 12.5, trialID: 3, donorTrialID: 1, donorStep: 400, configBefore: config,
                    configAfter: ["optimizer": "lion", "lr": 0.0001], changed: ["optimizer", "lr"], optimizerReset: true
                )
            ]),
        keys: ["donor_trial_id", "donor_step", "config_before", "config_after", "optimizer_reset"]),
    RoundTripSample(
        RecommendParams(features: ["model_kind": "mlp", "parameter_count": 4810, "depth": 2], topK: 3),
        keys: ["features", "top_k"]),
    RoundTripSample(RecommendParams(text: "depth = 2\n", filename: "f.toml"), keys: ["text", "filename"]),
    RoundTripSample(
        RecommendResult(
            policy: "shipped:default",
            options: [
                RecommendedOption(
                    optimizer: "adamw", config: config, predictedLoss: 0.08, lossLow: 0.05, lossHigh: 0.12,
                    stateBytesPerParameter: 8, hypergradientBeta: 1e-7)
            ],
            confidence: 0.6, missingFeatures: ["gradient_noise_scale"], excluded: ["muon": "no matrices"],
            nearest: [NearestTask(name: "digits", id: 3, distance: 0.4, bestLoss: 0.07, bestConfig: config)]),
        keys: ["missing_features", "options", "nearest", "excluded"]),
    RoundTripSample(PolicyFitParams(taskIDs: [1, 2, 3]), keys: ["task_ids"]),
    RoundTripSample(PolicyFitParams()),
    RoundTripSample(
        PolicyFitResult(policyVersion: 2, name: "store-2", tasksUsed: 40, metrics: ["tasks": 40], fittedAt: "2026-11-29T12:00:00Z"),
        keys: ["policy_version", "tasks_used", "fitted_at"]),
    RoundTripSample(
        BatchSizeReport(
            taskID: 3, targetLoss: 0.1, points: [.init(batchSize: 8, steps: 120.5, finalLoss: 0.05, noiseScale: nil)],
            criticalBatchSize: .init(value: 64, low: 40, high: 90), rSquared: 0.99),
        keys: ["task_id", "target_loss", "b_crit", "batch_size", "r_squared"]),
    RoundTripSample(PolicyShowResult(version: nil, source: "shipped", document: ["kind": "recommendation"]), keys: ["source", "document"]),
    RoundTripSample(RPCEmpty()),
    RoundTripSample(
        DaemonStatus(
            version: "0.1.0", uptimeSeconds: 12.5, pid: 4242, workers: .init(configured: 2, alive: 2, busy: 1),
            tasks: ["running": 1, "completed": 4], socket: "/run/tuned/tuned.sock",
            store: .init(path: "/var/lib/tuned/tuned.db", sizeBytes: 1 << 20)),
        keys: ["protocol_version", "uptime_seconds", "size_bytes", "workers", "tasks"]),
    RoundTripSample(WorkerHelloParams(workerID: "w1", pid: 77), keys: ["worker_id", "pid", "protocol_version"]),
    RoundTripSample(
        WorkerHelloResult(heartbeatSeconds: 2, leaseSeconds: 10), keys: ["heartbeat_seconds", "lease_seconds"]),
    RoundTripSample(WorkerLeaseParams(workerID: "w1"), keys: ["worker_id"]),
    RoundTripSample(WorkerLeaseResult(lease: lease), keys: ["lease"]),
    RoundTripSample(WorkerLeaseResult.idle(retryAfterSeconds: 0.5), keys: ["lease", "retry_after_seconds"]),
    RoundTripSample(
        lease,
        keys: [
            "segment_id", "task_id", "trial_id", "start_step", "end_step", "restore_checkpoint", "checkpoint_dir",
            "lease_seconds", "workload", "config",
        ]),
    RoundTripSample(WorkerSegmentParams(workerID: "w1", segmentID: 99), keys: ["worker_id", "segment_id"]),
    RoundTripSample(WorkerHeartbeatResult(leaseSeconds: 10, stop: true), keys: ["lease_seconds", "stop"]),
    RoundTripSample(
        WorkerReportParams(
            workerID: "w1", segmentID: 99,
            metrics: [
                MetricPoint(step: 1201, name: "train_loss", value: 0.4),
                MetricPoint(step: 1300, name: "val_loss", value: 0.3),
            ]), keys: ["worker_id", "segment_id", "metrics", "step", "name", "value"]),
    RoundTripSample(WorkerReportResult(accepted: 2), keys: ["accepted", "stop"]),
    RoundTripSample(
        WorkerFinishParams(
            workerID: "w1", segmentID: 99, status: .ok,
            checkpoint: CheckpointRef(
                path: "/c/12/1300", step: 1300, checksum: "sha256:" + String(repeating: "ab", count: 32), size: 40960)),
        keys: ["worker_id", "segment_id", "status", "checkpoint", "checksum", "size"]),
    RoundTripSample(
        WorkerFinishParams(
            workerID: "w1", segmentID: 99, status: .diverged, error: "loss is NaN at step 1211",
            stderrTail: "Traceback …\n"),
        keys: ["stderr_tail", "error"]),
    RoundTripSample(WorkerFinishResult(committed: true), keys: ["committed"]),
    RoundTripSample(
        RPCError.validationFailed("must be ≥ 2", file: "digits.toml", line: 12, field: "strategy.population"),
        keys: ["code", "message", "data"]),
]

@Suite struct RoundTripTests {
    @Test(arguments: roundTripSamples)
    func everyWireTypeSurvivesJSON(_ sample: RoundTripSample) throws {
        try sample.check()
    }

    @Test func idleLeaseHasAnExplicitNull() throws {
        let text = String(decoding: try RPCCoding.encode(WorkerLeaseResult.idle(retryAfterSeconds: 1)), as: UTF8.self)
        #expect(text == #"{"lease":null,"retry_after_seconds":1}"#)
    }

    @Test func divergedMetricTravelsAsAString() throws {
        let p = WorkerReportParams(
            workerID: "w", segmentID: 1, metrics: [MetricPoint(step: 3, name: "loss", value: .nan)])
        let line = try RPCRequest.encodedLine(id: .int(1), method: RPCMethodName.workerReport, params: p)
        #expect(String(decoding: line, as: UTF8.self).contains(#""value":"NaN""#))
        let back = try #require(RPCRequestDecoder().decode(line).request).decodeParams(WorkerReportParams.self)
        #expect(back.metrics[0].value.isNaN)
    }

    @Test func typedMethodsNameTheirWireMethods() {
        #expect(RPCMethods.TaskSubmit.name == "task.submit")
        #expect(RPCMethods.DaemonStatusMethod.name == "daemon.status")
        #expect(RPCMethods.WorkerFinish.name == "worker.finish")
        #expect(RPCMethods.StudyAsk.name == "study.ask" && RPCMethods.StudyTell.name == "study.tell")
        #expect(Set(RPCMethodName.allMethods).count == 23)
    }

    @Test func encodingIsStableWithSortedKeys() throws {
        let a = try RPCRequest.encodedLine(
            id: .int(1), method: "recommend",
            params: RecommendParams(
                features: ["z": 1, "a": 2, "m": ["y": 1, "b": 2]], topK: 2))
        #expect(
            String(decoding: a, as: UTF8.self)
                == #"{"id":1,"jsonrpc":"2.0","method":"recommend","params":{"features":{"a":2,"m":{"b":2,"y":1},"z":1},"top_k":2}}"#
                + "\n")
    }

    @Test func errorRepliesEncodeAsOneSortedLine() {
        let line = RPCResponse.error(id: .string("a"), .taskNotFound(42)).encodedLine()
        #expect(
            String(decoding: line, as: UTF8.self)
                == #"{"error":{"code":-32000,"data":{"task_id":42},"message":"no task 42 (see `tunectl list`)"},"id":"a","jsonrpc":"2.0"}"#
                + "\n")
    }
}
