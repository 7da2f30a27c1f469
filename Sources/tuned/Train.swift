import ArgumentParser
import Foundation
import TunedOptim
import TunedRPC
import TunedWorker
import TunedEngine
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
                \(WorkloadFactory.kinds.joined(separator: ", "))); --task reads it from a task file (TOML or JSON, docs/TASKFILE.md) \
                instead. --config is a trial configuration (keys: \(TrialConfig.keys.sorted().joined(separator: ", "))).
                With --checkpoint DIR the final state is written there (not when the run diverged); --restore DIR \
                resumes from one, and the result is bit-identical to an uninterrupted run; the configuration and \
                seed a --checkpoint was written with are kept beside it (\(TrainCheckpointConfig.fileName)), and a \
                --restore whose --config or seed differs from them is refused, naming the keys. With --exploit, the \
                restore is a PBT exploit: the weights and step come from the checkpoint, the hyperparameters \
                (learning rate included) from --config, and the optimizer state is kept when the optimizer is \
                the same (else started fresh) — what another tuner's PBT needs after it changed the config.
                """
        )

        @Option(help: "The [workload] table as a JSON object.")
        var workload: String?

        @Option(help: "A task file (TOML or JSON) whose [workload] table is used; relative dataset paths resolve against its folder.")
        var task: String?

        @Option(help: "The trial configuration as a JSON object, e.g. {\"optimizer\": \"adam\", \"lr\": 0.001}.")
        var config: String

        @Option(help: "Train until this many steps are done.")
        var steps: Int

        @Option(help: "Seed of initialisation and minibatch order (default: the configuration's \"seed\" — a PBT member's, as tunectl results shows it — else the task file's [budget] seed with --task, else 0).")
        var seed: UInt64?

        @Option(help: "Record metrics every N steps.")
        var evalEvery = 100

        @Option(help: "Arithmetic: float (fast) or double.")
        var precision: Precision = .float

        @Option(help: "Resume from the checkpoint in this directory.")
        var restore: String?

        @Flag(help: "With --restore: take the hyperparameters (lr included) from --config, not from the checkpoint (a PBT exploit).")
        var exploit = false

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
            if exploit, restore == nil { throw ValidationError("--exploit needs --restore DIR (the donor's checkpoint)") }
        }

        func run() throws {
            let (table, base, taskSeed) = try workloadTable()
            var noise: BuiltinSegment.NoiseScaleSettings?
            if noiseScaleEvery > 0 {
                let b = noiseBatches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard b.count == 2 else { throw Failure("--noise-batches must be two integers SMALL,BIG, e.g. 8,128") }
                noise = .init(every: noiseScaleEvery, smallBatch: b[0], bigBatch: b[1])
            }
            // A PBT member's configuration carries its seed (`member_seeds = "distinct"`).
            var trial = try object(config, "--config")
            var seed = self.seed ?? taskSeed ?? 0
            if let s = trial.removeValue(forKey: "seed") {
                guard let d = LeaseSettings.seed(s) else {
                    throw Failure("--config: \"seed\" must be an integer in [0, 10^15], got \(RPCValue(s).jsonText)")
                }
                if let given = self.seed, given != d {
                    throw Failure("--seed \(given) and the configuration's \"seed\" \(d) differ; give one of them")
                }
                seed = d
            }
            // A plain resume keeps the checkpoint's hyperparameters: a different --config would be
            // ignored without a word, so it is refused (--exploit is the way to change them).
            let used = TrainCheckpointConfig(config: trial, seed: seed)
            if let restore, !exploit, let recorded = try TrainCheckpointConfig.read(from: URL(fileURLWithPath: restore)) {
                let differing = recorded.differences(from: used)
                if !differing.isEmpty {
                    throw Failure(
                        "--restore \(restore): the checkpoint was written with another configuration (checkpoint→given): "
                            + differing.joined(separator: ", ")
                            + ". A plain resume would keep the checkpoint's; give its configuration to resume, or add --exploit "
                            + "to continue from its weights with the new one (a PBT exploit)")
                }
            }
            // The same code a worker runs for a segment (TunedWorker.BuiltinSegment).
            var segment = BuiltinSegment(
                workload: table, baseDirectory: base, config: trial, seed: seed,
                endStep: steps, evalEvery: evalEvery, noiseScale: noise,
                restoreDirectory: restore.map { URL(fileURLWithPath: $0) },
                checkpointDirectory: checkpoint.map { URL(fileURLWithPath: $0) })
            segment.workloadContext = "--workload"
            segment.configContext = "--config"
            if exploit { segment.restoreMode = .exploit(resetOptimizerState: false) }
            let result: BuiltinSegment.Result
            do {
                let onRecord: (TrainingRecord) -> Void = { r in if !quiet { print(MetricLine.format(r)) } }
                switch precision {
                case .float: result = try segment.run(Float.self, finalEvaluation: true, onRecord: onRecord)
                case .double: result = try segment.run(Double.self, finalEvaluation: true, onRecord: onRecord)
                }
            } catch {
                throw Failure(SegmentRunner.message(error))
            }
            if let checkpoint, result.checkpoint != nil { try used.write(to: URL(fileURLWithPath: checkpoint)) }
            let seconds = result.trainingSeconds
            let m = result.final!
            var out: [String: JSONValue] = [
                "start_step": .number(Double(result.startStep)), "step": .number(Double(result.step)),
                "diverged": .bool(result.diverged), "train_loss": number(m.trainLoss),
                "val_loss": number(m.validationLoss), "lr": number(m.learningRate),
                "seconds": .number(seconds),
                "steps_per_second": .number(seconds > 0 ? Double(result.step - result.startStep) / seconds : 0),
            ]
            if let a = m.validationAccuracy { out["val_accuracy"] = .number(a) }
            if let g = m.gradientNoiseScale { out["gradient_noise_scale"] = .number(g) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            print(String(decoding: try encoder.encode(JSONValue.object(out)), as: UTF8.self))
            if result.diverged { throw ExitCode(1) }
        }

        private func number(_ d: Double) -> JSONValue { d.isFinite ? .number(d) : .string("\(d)") }

        /// The [workload] table, the folder relative paths resolve against, and the task file's
        /// [budget] seed (nil for --workload).
        private func workloadTable() throws -> ([String: JSONValue], String, UInt64?) {
            if let workload { return (try object(workload, "--workload"), FileManager.default.currentDirectoryPath, nil) }
            // The engine's loader: TOML or JSON, every problem reported with file and line,
            // dataset paths resolved against the task file's folder.
            let spec: TaskSpec
            do { spec = try TaskFile.load(path: task!) } catch { throw Failure("\(error)") }
            return (spec.workload, URL(fileURLWithPath: task!).deletingLastPathComponent().path, spec.budget.seed)
        }

        private func object(_ text: String, _ flag: String) throws -> [String: JSONValue] {
            guard let v = try? JSONValue.parse(Data(text.utf8)), let o = v.objectValue else {
                throw Failure("\(flag) must be a JSON object, e.g. {\"optimizer\": \"adam\"}")
            }
            return o
        }
    }
}
