import ArgumentParser
import Foundation
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Recommend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recommend an optimizer and its hyperparameters for a task, without a search.",
            discussion: """
                Describe the task in a features file (TOML or JSON; keys in docs/META.md and \
                examples/features-digits-mlp.toml): model kind, parameter count, depth, widest layer, \
                dataset size, input and output size, task type, step budget, memory budget, … Missing \
                keys are allowed and lower the confidence; unknown keys and impossible values are \
                errors naming FILE:LINE: key.

                The daemon answers from its active policy (fitted from its own finished tasks by \
                `tunectl policy fit`), else from the shipped policies/default.json: optimizer, \
                learning rate, warm-up + cosine schedule, weight decay, betas, batch size, \
                hypergradient beta, the predicted validation-loss band, a confidence, and the \
                nearest tasks in the history that the answer rests on. The `config` line is a \
                trial configuration you can train with as is.

                Examples:
                  tunectl recommend --task-features examples/features-digits-mlp.toml
                  tunectl recommend --task-features f.json --top 3
                  tunectl --json recommend --task-features f.toml | jq '.options[0].config'
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("task-features"), help: ArgumentHelp("The task-features file (*.toml or *.json).", valueName: "file"))
        var taskFeatures: String

        @Option(help: ArgumentHelp("How many optimizers to rank.", valueName: "k"))
        var top: Int = 1

        func validate() throws {
            guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
            guard TaskFileInput.format(of: taskFeatures) != nil else {
                throw ValidationError("\(taskFeatures): a features file must end in .toml or .json (see docs/META.md)")
            }
        }

        func run() throws {
            let input = try TaskFileInput.params(path: taskFeatures)
            let session = try global.connect()
            let raw = try session.raw(
                RPCMethods.Recommend.self, RecommendParams(text: input.text, filename: taskFeatures, topK: top))
            if global.json { return emitJSON(raw) }
            emit(Render.recommendation(try session.decode(RPCMethods.Recommend.self, raw)))
        }
    }

    struct Policy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit or show the recommendation policy.",
            subcommands: [Fit.self, Show.self]
        )

        struct Fit: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Refit the recommendation policy from the daemon's finished tasks and make it active.",
                discussion: """
                    Uses every succeeded task whose features the daemon recorded (built-in workloads), \
                    or only --task IDs. Needs at least 2 such tasks; a useful policy needs a few dozen.

                    Examples:
                      tunectl policy fit
                      tunectl policy fit --task 3 --task 4 --task 9
                    """
            )

            @OptionGroup var global: GlobalOptions

            @Option(name: .customLong("task"), help: ArgumentHelp("Use only this task (repeatable).", valueName: "id"))
            var tasks: [Int64] = []

            func run() throws {
                let session = try global.connect()
                let raw = try session.raw(RPCMethods.PolicyFit.self, PolicyFitParams(taskIDs: tasks.isEmpty ? nil : tasks))
                if global.json { return emitJSON(raw) }
                emit(Render.policyFit(try session.decode(RPCMethods.PolicyFit.self, raw)))
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the active recommendation policy: provenance, models and their fit.",
                discussion: """
                    Examples:
                      tunectl policy show
                      tunectl --json policy show | jq .document > my-policy.json
                    """
            )

            @OptionGroup var global: GlobalOptions

            func run() throws {
                let session = try global.connect()
                let raw = try session.raw(RPCMethods.PolicyShow.self, RPCEmpty())
                if global.json { return emitJSON(raw) }
                emit(Render.policy(try session.decode(RPCMethods.PolicyShow.self, raw)))
            }
        }
    }
}
