import Foundation
import Testing

@testable import TunedRPC

/// task.curves' types on the wire, and the server-side thinning of long series.
@Suite struct CurvesTests {
    static let curves = TaskCurves(
        taskID: 7, name: "digits-pbt", objective: Objective(metric: "val_loss", mode: .min),
        best: BestMetric(value: 0.07, trialID: 2, step: 400),
        trials: [
            TrialCurves(
                trialID: 2, member: 1, status: .completed, config: ["optimizer": "adamw", "lr": 0.001],
                series: [MetricSeries(name: "val_loss", steps: [100, 200, 400], values: [0.5, 0.2, 0.07])])
        ])

    @Test func curvesAndLineageSurviveJSONWithSnakeCaseKeys() throws {
        try assertRoundTrip(
            TaskCurvesParams(taskID: 7, metrics: ["val_loss", "lr"], maxPoints: 50),
            keys: ["task_id", "metrics", "max_points"])
        try assertRoundTrip(Self.curves, keys: ["task_id", "objective", "best", "trials", "trial_id", "total_points"])
        let edge = LineageEdge(
            step: 400, at: 1, trialID: 3, donorTrialID: 1, donorStep: 400, configBefore: ["lr": 0.1],
            configAfter: ["lr": 0.12], changed: ["lr"], optimizerReset: false, generation: 2,
            changes: ["lr": ["from": 0.1, "to": 0.12, "how": "perturb x1.2"]])
        try assertRoundTrip(TaskLineage(taskID: 7, edges: [edge]), keys: ["generation", "changes", "config_after"])
        #expect(RPCMethods.TaskCurves.name == "task.curves")
        #expect(RPCMethodName.allMethods.contains("task.curves"))
    }

    @Test func divergedValuesTravelAsStringsAndComeBackNonFinite() throws {
        let s = MetricSeries(name: "val_loss", steps: [1, 2], values: [.nan, .infinity])
        let text = String(decoding: try RPCCoding.encode(s), as: UTF8.self)
        #expect(text.contains(#"["NaN","Infinity"]"#), "\(text)")
        let back = try RPCCoding.makeDecoder().decode(MetricSeries.self, from: Data(text.utf8))
        #expect(back.values[0].isNaN && back.values[1] == .infinity)
    }

    @Test(arguments: [(10, 10), (1000, 7), (1001, 2), (5, 100), (3, 2)])
    func downsamplingKeepsFirstAndLastAndAtMostMaxPoints(total: Int, maxPoints: Int) {
        let s = MetricSeries(
            name: "val_loss", steps: (0..<total).map { Int64($0 * 10) }, values: (0..<total).map { Double($0) })
        let d = s.downsampled(to: maxPoints)
        #expect(d.steps.count == min(total, maxPoints))
        #expect(d.steps.first == 0 && d.steps.last == Int64((total - 1) * 10))
        #expect(d.values.last == Double(total - 1))
        #expect(zip(d.steps, d.steps.dropFirst()).allSatisfy { $0 < $1 }, "\(d.steps)")
        #expect(d.totalPoints == total)
        // Each kept point is a real (step, value) pair of the original.
        #expect(zip(d.steps, d.values).allSatisfy { Double($0 / 10) == $1 })
    }
}
