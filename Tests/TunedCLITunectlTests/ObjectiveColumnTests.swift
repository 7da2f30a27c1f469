import Testing
import TunedRPC

@testable import TunedCLI

/// The results/trials table under a task's own objective and `select` (issue 12, items 2–3).
@Suite struct ObjectiveColumnTests {
    /// Trial 1 peaked (best 0.9) and ended at 0.5; trial 2 ended at 0.7 (its best).
    static func rows() -> [TrialRow] {
        [
            TrialRow(trialID: 1, member: 0, status: .completed, config: ["width": 64], stepsDone: 40,
                     finalMetrics: ["score": 0.5, "train_loss": 0.3], bestMetric: 0.9, objectiveValue: 0.5),
            TrialRow(trialID: 2, member: 1, status: .completed, config: ["width": 8], stepsDone: 40,
                     finalMetrics: ["score": 0.7, "train_loss": 0.2], bestMetric: 0.7, objectiveValue: 0.7),
        ]
    }

    @Test func finalSelectNamesTheMetricAndRanksByTheDaemonsValue() {
        let objective = Objective(metric: "score", mode: .max, select: .final)
        let lines = Render.trials(Render.ranked(Self.rows(), mode: .max), objective: objective).split(separator: "\n")
        #expect(lines[0].contains("SCORE") && !lines[0].contains("BEST") && lines[0].contains("TRAIN_LOSS"), "\(lines[0])")
        #expect(lines[0].components(separatedBy: "SCORE").count == 2, "the objective's column once: \(lines[0])")
        #expect(lines.dropFirst(2).map { $0.split(separator: " ").first.map(String.init) } == ["2", "1"])
    }

    @Test func bestSelectTitlesTheColumnBest() {
        var rows = Self.rows()
        rows[0].objectiveValue = 0.9
        let objective = Objective(metric: "score", mode: .max, select: .best)
        let lines = Render.trials(Render.ranked(rows, mode: .max), objective: objective).split(separator: "\n")
        #expect(lines[0].contains("BEST SCORE"), "\(lines[0])")
        #expect(lines.dropFirst(2).map { $0.split(separator: " ").first.map(String.init) } == ["1", "2"])
    }

    @Test func theBestSoFarLineFollowsSelect() {
        let trials = [
            TrialCurves(trialID: 1, member: 0, status: .completed, config: [:], series: [MetricSeries(name: "score", steps: [10, 20], values: [0.9, 0.5])]),
            TrialCurves(trialID: 2, member: 1, status: .completed, config: [:], series: [MetricSeries(name: "score", steps: [10, 20], values: [0.6, 0.7])]),
        ]
        #expect(BestSoFar.curve(trials, metric: "score", mode: .max, select: .best).map(\.y) == [0.9, 0.9])
        #expect(BestSoFar.curve(trials, metric: "score", mode: .max, select: .final).map(\.y) == [0.9, 0.9, 0.7])
    }
}
