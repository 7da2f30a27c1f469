import Foundation
import TunedEngine
import TunedMeta
import TunedOptim
import TunedRPC
import TunedStore

/// `task.batchsize`: the steps each run of a batch-sweep task needed to reach its target loss,
/// and the fit of McCandlish et al.'s model (docs/META.md, "The batch-size model").
extension DaemonCore {
    func batchSize(_ id: Int64) async throws -> BatchSizeReport {
        guard let task = try await store.task(TunedStore.TaskID(id)) else { throw RPCError.taskNotFound(id) }
        let meta = (try? JSONValue.parse(Data(task.specJSON.utf8)))?.objectValue ?? [:]
        let spec = try TaskFile.parse(
            task.specText, file: meta["filename"]?.stringValue ?? "task", baseDirectory: meta["base_dir"]?.stringValue ?? ".",
            format: task.specFormat == .toml ? .toml : .json, checkFiles: false)
        guard let sweep = spec.strategy.batchSweep else {
            throw RPCError.invalidParams(
                field: "task_id", "task \(id) is a \(task.strategy) task; `tunectl batchsize` reads batch-sweep tasks")
        }
        let metric = task.objectiveMetric
        // StepsToTarget looks for value ≤ target; a metric to maximise (accuracy) is negated.
        let sign = task.objectiveMode == .max ? -1.0 : 1.0
        var runs: [(batchSize: Int, rows: [(step: Int, value: Double)])] = []
        var points: [BatchSizeReport.Point] = []
        for t in try await store.trials(task: task.id).sorted(by: { $0.member < $1.member }) {
            let config = (try? JSONValue.parse(Data(t.configJSON.utf8)))?.objectValue ?? [:]
            guard let b = config["batch_size"]?.doubleValue.map({ Int($0) }) else { continue }
            let rows = try await store.metrics(trial: t.id)
            let losses = rows.filter { $0.name == metric }.map { (step: $0.step, value: sign * $0.value) }
            runs.append((b, losses))
            points.append(
                BatchSizeReport.Point(
                    batchSize: b, steps: StepsToTarget.steps(losses, target: sign * sweep.targetLoss),
                    finalLoss: losses.max { $0.step < $1.step }.map { sign * $0.value },
                    noiseScale: rows.filter { $0.name == "gradient_noise_scale" && $0.value.isFinite }.max { $0.step < $1.step }?.value))
        }
        var report = BatchSizeReport(taskID: id, targetLoss: sweep.targetLoss, points: points)
        let measured = StepsToTarget.points(runs, target: sign * sweep.targetLoss).points
        do {
            let fit = try BatchSizeFit.fit(measured)
            func estimate(_ e: BatchSizeFit.Estimate) -> BatchSizeReport.Estimate { .init(value: e.value, low: e.low, high: e.high) }
            report.criticalBatchSize = estimate(fit.criticalBatchSize)
            report.minimumSteps = estimate(fit.minimumSteps)
            report.minimumExamples = estimate(fit.minimumExamples)
            report.rSquared = fit.rSquared
        } catch {
            report.note = "no fit: \(error)" + (task.status.isTerminal ? "" : " (the task is still running)")
        }
        return report
    }
}
