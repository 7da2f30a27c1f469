import Foundation
import TunedRPC
import TunedStore

/// `task.lineage` and `task.curves`: a task's history as the store keeps it, read-only
/// (what `tunectl lineage` and `tunectl plot` draw).
extension DaemonCore {
    /// Every exploit of the task in the order it happened (step, then insertion).
    func lineage(_ taskID: Int64) async throws -> TaskLineage {
        guard try await store.task(TunedStore.TaskID(taskID)) != nil else { throw RPCError.taskNotFound(taskID) }
        var edges: [LineageEdge] = []
        for r in try await store.lineage(task: TunedStore.TaskID(taskID)) {
            let before = parse(r.oldConfigJSON)
            let after = parse(r.newConfigJSON)
            let changes = (try? RPCValue.parse(r.changesJSON)) ?? .object([:])
            // The donor's weights are from its checkpoint's step; without one, from the edge's.
            var donorStep = Int64(r.step)
            if let c = r.donorCheckpointID, let checkpoint = try await store.checkpoint(c) {
                donorStep = Int64(checkpoint.step)
            }
            edges.append(
                LineageEdge(
                    step: Int64(r.step), at: r.createdAt.timeIntervalSince1970, trialID: r.recipientTrialID.rawValue,
                    donorTrialID: r.donorTrialID.rawValue, donorStep: donorStep, configBefore: before,
                    configAfter: after, changed: Self.changedKeys(before, after, changes),
                    optimizerReset: before["optimizer"] != nil && after["optimizer"] != before["optimizer"],
                    generation: Int64(r.generation), changes: changes))
        }
        return TaskLineage(taskID: taskID, edges: edges)
    }

    /// Per trial, the requested metrics (all when `metrics` is absent) as step-ordered series,
    /// each thinned to `max_points` (first and last point kept).
    func curves(_ p: TaskCurvesParams) async throws -> TaskCurves {
        let maxPoints = p.maxPoints ?? TaskCurvesParams.defaultMaxPoints
        guard TaskCurvesParams.maxPointsRange.contains(maxPoints) else {
            let r = TaskCurvesParams.maxPointsRange
            throw RPCError.invalidParams(
                field: "max_points", "must be between \(r.lowerBound) and \(r.upperBound), got \(maxPoints)")
        }
        if let names = p.metrics {
            for (i, name) in names.enumerated() where name.isEmpty {
                throw RPCError.invalidParams(field: "metrics[\(i)]", "a metric name is not empty, e.g. \"val_loss\"")
            }
        }
        guard let task = try await store.task(TunedStore.TaskID(p.taskID)) else {
            throw RPCError.taskNotFound(p.taskID)
        }
        let wanted = p.metrics.map(Set.init)
        var trials: [TrialCurves] = []
        for t in try await store.trials(task: task.id).sorted(by: { $0.member < $1.member }) {
            var byName: [String: MetricSeries] = [:]
            // One query per trial; rows come ordered by name, then step.
            for row in try await store.metrics(trial: t.id) where wanted?.contains(row.name) ?? true {
                byName[row.name, default: MetricSeries(name: row.name, steps: [], values: [])].append(row)
            }
            let series = byName.keys.sorted().map { byName[$0]!.downsampled(to: maxPoints) }
            trials.append(
                TrialCurves(
                    trialID: t.id.rawValue, member: t.member, status: wire(t.status), config: parse(t.configJSON),
                    series: series))
        }
        let (_, _, best) = try await progress(task)
        return TaskCurves(
            taskID: p.taskID, name: task.name,
            objective: wireObjective(task),
            best: best, trials: trials)
    }

    /// The keys explore changed: those the strategy recorded in `changes`, and any key whose
    /// value differs between the two configurations; `optimizer` first, then by name.
    static func changedKeys(_ before: RPCValue, _ after: RPCValue, _ changes: RPCValue) -> [String] {
        var keys = Set(changes.objectValue?.keys.map { $0 } ?? [])
        let b = before.objectValue ?? [:]
        let a = after.objectValue ?? [:]
        for k in Set(b.keys).union(a.keys) where b[k] != a[k] { keys.insert(k) }
        return keys.sorted { x, y in x == "optimizer" || y == "optimizer" ? x == "optimizer" && y != "optimizer" : x < y }
    }
}

extension MetricSeries {
    fileprivate mutating func append(_ row: MetricRow) {
        steps.append(Int64(row.step))
        values.append(row.value)
        totalPoints += 1
    }
}
