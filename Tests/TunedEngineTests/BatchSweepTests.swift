import Testing
import TunedOptim

@testable import TunedEngine

@Suite struct BatchSweepTests {
    static let text = """
        name = "sweep"
        [workload]
        kind = "nqm"
        dimension = 10
        [search]
        optimizer = ["sgd"]
        lr = 0.1
        [strategy]
        kind = "batch-sweep"
        batch_sizes = [4, 16, 64]
        target_loss = 0.5
        [budget]
        steps = 300
        segment_steps = 100
        seed = 2
        [objective]
        metric = "val_loss"
        mode = "min"
        """

    @Test func oneTrialPerBatchSizeWithTheSameConfigurationAndSeed() throws {
        let spec = try TaskFile.parse(Self.text, file: "s.toml", checkFiles: false)
        var s = try Strategy.make(for: spec)
        #expect(s.trials.map { $0.config["batch_size"]?.doubleValue } == [4, 16, 64])
        #expect(Set(s.trials.map { $0.config["lr"]?.doubleValue }) == [0.1])
        #expect(Set(s.trials.map(\.seed)).count == 1)
        let first = s.start()
        #expect(first.count == 3)
        #expect(first.allSatisfy { if case .scheduleSegment(let seg) = $0 { seg.start == 0 && seg.end == 100 } else { false } })
    }

    @Test func theSweepCompletesWhenEveryBatchSizeHasRunItsBudget() throws {
        let spec = try TaskFile.parse(Self.text, file: "s.toml", checkFiles: false)
        var s = try Strategy.make(for: spec)
        _ = s.start()
        var completed = 0
        for step in [100, 200, 300] {
            for trial in 0..<3 {
                for a in s.handle(.segmentFinished(trial: trial, step: step, metrics: ["val_loss": Double(trial + 1) / 10]))
                where { if case .completeTrial = a { true } else { false } }() {
                    completed += 1
                }
            }
        }
        #expect(completed == 3)
        #expect(s.isFinished)
        #expect(s.best?.trial == 0)
    }
}
