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
        // lr tuned at the smallest size (4); SGD, B_noise unknown: × B/4, capped at 8×.
        #expect(s.trials.map { $0.config["lr"]?.doubleValue } == [0.1, 0.4, 0.8])
        #expect(Set(s.trials.map(\.seed)).count == 1)
        let first = s.start()
        #expect(first.count == 3)
        #expect(first.allSatisfy { if case .scheduleSegment(let seg) = $0 { seg.start == 0 && seg.end == 100 } else { false } })
    }

    /// With a noise scale the rule is McCandlish's ε_opt(B) = ε_max/(1 + B_noise/B): linear
    /// far below B_noise, flat past it — "lr ∝ B" is never applied past B_noise. Adam follows
    /// √B up to B_noise; `lr_scaling = "none"` keeps the lr; a bad value names the key.
    @Test func learningRatesAreRescaledPerBatchSizeUpToTheNoiseScale() throws {
        func lrs(_ strategyExtra: String, optimizer: String = "sgd", sizes: String = "[4, 16, 64, 1024]") throws -> [Double] {
            let text = Self.text
                .replacingOccurrences(of: "batch_sizes = [4, 16, 64]", with: "batch_sizes = \(sizes)\n\(strategyExtra)")
                .replacingOccurrences(of: "optimizer = [\"sgd\"]", with: "optimizer = [\"\(optimizer)\"]")
            let spec = try TaskFile.parse(text, file: "s.toml", checkFiles: false)
            return try Strategy.make(for: spec).trials.map { $0.config["lr"]!.doubleValue! }
        }
        let sgd = try lrs("reference_batch_size = 4\nnoise_scale = 16")
        let expected = [4.0, 16, 64, 1024].map { 0.1 * (1 + 16.0 / 4) / (1 + 16 / $0) }
        for (a, b) in zip(sgd, expected) { #expect(abs(a - b) < 1e-15) }
        #expect(sgd[3] / sgd[2] < 1.25)  // 64 → 1024 is ×16 in B, ×1.23 in lr
        #expect(sgd[1] / sgd[0] > 2.4)  // 4 → 16, below B_noise: ×2.5
        let adam = try lrs("noise_scale = 16", optimizer: "adam")
        #expect(abs(adam[1] / adam[0] - 2) < 1e-12 && adam[3] == adam[1])
        #expect(try lrs("lr_scaling = \"none\"") == [0.1, 0.1, 0.1, 0.1])
        #expect(throws: TaskFileError.self) { try lrs("lr_scaling = \"linear\"") }
        #expect(throws: TaskFileError.self) { try lrs("noise_scale = -3") }
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
