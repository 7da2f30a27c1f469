import ArgumentParser
import Foundation
import TunedOptim
import TunedWorkloads

extension Tuned {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train one built-in workload with one configuration and print its metrics.",
            discussion: """
                Runs steps [start, --steps) of one trial outside the daemon: the same code a worker runs for \
                a segment. Progress goes to stdout as `tuned: step=N train_loss=… val_loss=… val_accuracy=… lr=…` \
                lines (the format command workloads print), and the last line is one JSON object with the \
                final metrics, so scripts and other tuners can drive it.

                Example:
                  tuned train --workload '{"kind": "mlp", "dataset": "datasets/digits.csv", "hidden": [64]}' \\
                              --config '{"optimizer": "adamw", "lr": 0.003, "batch_size": 64}' --steps 2000

                --workload takes the [workload] table of a task file as JSON (kinds: \
                \(WorkloadFactory.kinds.joined(separator: ", "))); --task reads it from a JSON task file \
                instead. --config is a trial configuration (keys: \(TrialConfig.keys.sorted().joined(separator: ", "))).
                With --checkpoint DIR the final state is written there; --restore DIR resumes from one, and \
                the result is bit-identical to an uninterrupted run.
                """
        )

        @Option(help: "The [workload] table as a JSON object.")
        var workload: String?

        @Option(help: "A JSON task file whose \"workload\" object is used (relative dataset paths resolve against its folder).")
        var task: String?

        @Option(help: "The trial configuration as a JSON object, e.g. {\"optimizer\": \"adam\", \"lr\": 0.001}.")
        var config: String

        @Option(help: "Train until this many steps are done.")
        var steps: Int

        @Option(help: "Seed of initialisation and minibatch order.")
        var seed: UInt64 = 0

        @Option(help: "Record metrics every N steps.")
        var evalEvery = 100

        @Option(help: "Arithmetic: float (fast) or double.")
        var precision: Precision = .float

        @Option(help: "Resume from the checkpoint in this directory.")
        var restore: String?

        @Option(help: "Write the final checkpoint to this directory.")
        var checkpoint: String?

        @Option(help: "Measure the gradient noise scale B_simple every N steps (0: off); lines gain gns=….")
        var noiseScaleEvery = 0

        @Option(help: "Small and big batch of the noise-scale measurement, e.g. 8,128 (big a multiple of small).")
        var noiseBatches = "8,128"

        @Flag(help: "Print only the final JSON line.")
        var quiet = false

        enum Precision: String, ExpressibleByArgument { case float, double }

        func validate() throws {
            guard (workload == nil) != (task == nil) else {
                throw ValidationError("give exactly one of --workload JSON or --task FILE")
            }
            guard steps >= 0 else { throw ValidationError("--steps must be ≥ 0, got \(steps)") }
            guard evalEvery >= 1 else { throw ValidationError("--eval-every must be ≥ 1, got \(evalEvery)") }
        }

        func run() throws {
            do {
                switch precision {
                case .float: try train(Float.self)
                case .double: try train(Double.self)
                }
            } catch let e as WorkloadError {
                throw Failure(e.message)
            } catch let e as OptimizerError {
                throw Failure(e.message)
            }
        }

        private func train<S: KernelScalar>(_: S.Type) throws {
            let (table, base) = try workloadTable()
            let w: any Workload<S> = try WorkloadFactory.make(table, baseDirectory: base, context: "--workload")
            let trial = try TrialConfig(json: try object(config, "--config"), context: "--config")
            try train(AnyWorkload(w), trial)
        }

        private func train<W: Workload>(_ w: W, _ trial: TrialConfig) throws {
            var trainer = try trial.makeTrainer(workload: w, seed: seed, evalEvery: evalEvery)
            if noiseScaleEvery > 0 {
                let b = noiseBatches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard b.count == 2 else { throw Failure("--noise-batches must be two integers SMALL,BIG, e.g. 8,128") }
                try trainer.measureNoiseScale(every: noiseScaleEvery, smallBatch: b[0], bigBatch: b[1])
            }
            if let restore {
                try trainer.restore(Checkpoint<W.Scalar>.read(from: URL(fileURLWithPath: restore)))
            }
            let start = trainer.step
            let t0 = Date()
            let result = trainer.run(until: max(steps, start)) { r in
                guard !quiet else { return }
                var line = "tuned: step=\(r.step) train_loss=\(r.trainLoss) val_loss=\(r.validationLoss)"
                if let a = r.validationAccuracy { line += " val_accuracy=\(a)" }
                line += " lr=\(r.learningRate)"
                if let g = r.gradientNoiseScale { line += " gns=\(g)" }
                print(line)
            }
            let seconds = Date().timeIntervalSince(t0)
            if let checkpoint { try trainer.checkpoint().write(to: URL(fileURLWithPath: checkpoint)) }
            let m = w.evaluate(trainer.parameters)
            var out: [String: JSONValue] = [
                "start_step": .number(Double(start)), "step": .number(Double(result.step)),
                "diverged": .bool(result.diverged), "train_loss": number(m.trainLoss),
                "val_loss": number(m.validationLoss), "lr": number(trainer.optimizer.learningRate),
                "seconds": .number(seconds),
                "steps_per_second": .number(seconds > 0 ? Double(result.step - start) / seconds : 0),
            ]
            if let a = m.validationAccuracy { out["val_accuracy"] = .number(a) }
            if let g = trainer.noiseScale?.simpleNoiseScale { out["gradient_noise_scale"] = .number(g) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            print(String(decoding: try encoder.encode(JSONValue.object(out)), as: UTF8.self))
            if result.diverged { throw ExitCode(1) }
        }

        private func number(_ d: Double) -> JSONValue { d.isFinite ? .number(d) : .string("\(d)") }

        private func workloadTable() throws -> ([String: JSONValue], String) {
            if let workload { return (try object(workload, "--workload"), FileManager.default.currentDirectoryPath) }
            let url = URL(fileURLWithPath: task!)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw Failure("cannot read task file \(url.path)")
            }
            guard let doc = try? JSONValue.parse(data), let table = doc["workload"]?.objectValue else {
                throw Failure("\(url.path): expected a JSON object with a \"workload\" object")
            }
            return (table, url.deletingLastPathComponent().path)
        }

        private func object(_ text: String, _ flag: String) throws -> [String: JSONValue] {
            guard let v = try? JSONValue.parse(Data(text.utf8)), let o = v.objectValue else {
                throw Failure("\(flag) must be a JSON object, e.g. {\"optimizer\": \"adam\"}")
            }
            return o
        }
    }
}
