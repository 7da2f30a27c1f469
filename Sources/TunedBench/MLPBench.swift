import TunedOptim
import TunedWorkloads

/// Training steps per second of the digits MLP (64→64→10, ReLU, batch 64, Float, one
/// thread): forward, backward and the optimizer update on one minibatch per step, no
/// evaluation. Best of 3 runs of `steps` steps, after 200 warm-up steps.
public enum MLPBench {
    public static let optimizers: [(label: String, config: [String: JSONValue])] = [
        ("sgd", ["optimizer": .string("sgd"), "lr": .number(0.05)]),
        ("momentum", ["optimizer": .string("sgd"), "lr": .number(0.05), "momentum": .number(0.9)]),
        ("adam", ["optimizer": .string("adam"), "lr": .number(1e-3)]),
        ("adamw", ["optimizer": .string("adamw"), "lr": .number(1e-3)]),
        ("lion", ["optimizer": .string("lion"), "lr": .number(1e-4)]),
        ("muon", ["optimizer": .string("muon"), "lr": .number(0.02)]),
        ("adam+hd", ["optimizer": .string("adam"), "lr": .number(1e-3), "hypergradient_beta": .number(1e-7)]),
    ]

    public static func run(csv: String, steps: Int) throws -> [BenchResult] {
        let table: [String: JSONValue] = ["kind": .string("mlp"), "dataset": .string(csv), "hidden": .array([.number(64)])]
        let workload = AnyWorkload<Float>(try WorkloadFactory.make(table))
        var rows: [BenchResult] = []
        for (label, config) in optimizers {
            let trial = try TrialConfig(json: config.merging(["batch_size": .number(64)]) { $1 })
            var trainer = try trial.makeTrainer(workload: workload, seed: 0, evalEvery: Int.max)
            trainer.run(until: 200)
            var best = Double.infinity
            for _ in 0..<3 {
                let start = trainer.step
                let t0 = Stopwatch.now()
                trainer.run(until: start + steps)
                best = min(best, Double(Stopwatch.now() - t0) / 1e9)
            }
            rows.append(BenchResult(
                group: "mlp-digits", name: label, value: Double(steps) / best, unit: "steps/s",
                note: "64→64→10 ReLU, batch 64, Float"))
        }
        return rows
    }
}
