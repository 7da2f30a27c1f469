import ArgumentParser
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task's best configuration, its final metrics, and every trial (best first).",
            discussion: """
                Works while the task runs too (the best so far).

                Examples:
                  tunectl results 7
                  tunectl --json results 7 | jq .best_config
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TaskResults.self, TaskIDParams(taskID: target.task))
            if global.json { return emitJSON(raw) }
            emit(Render.results(try session.decode(RPCMethods.TaskResults.self, raw)))
        }
    }

    struct Trials: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a task's trials: status, steps, best objective, final metrics, config.",
            discussion: """
                Examples:
                  tunectl trials 7
                  tunectl trials 7 --status diverged
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(help: ArgumentHelp("Only trials with this status (repeatable): \(TrialStatus.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "status"))
        var status: [String] = []

        func validate() throws {
            for s in status where TrialStatus(rawValue: s) == nil {
                throw ValidationError("unknown trial status \"\(s)\"; use one of \(TrialStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let session = try global.connect()
            let params = TrialListParams(taskID: target.task, status: status.isEmpty ? nil : status.compactMap(TrialStatus.init))
            let raw = try session.raw(RPCMethods.TrialList.self, params)
            if global.json { return emitJSON(raw) }
            // The task's objective names and orders the objective's column.
            let objective = try? session.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: target.task)).objective
            emit(Render.trials(try session.decode(RPCMethods.TrialList.self, raw), objective: objective))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a task's trials as CSV or JSON: one row per trial, config keys and final metrics as columns.",
            discussion: """
                Columns: trial_id, member, status, steps_done, best_metric, parent_trial_id, then each \
                configuration key, then each final metric (metric.NAME if the name is already a column).

                Examples:
                  tunectl export 7 --format csv > trials.csv
                  tunectl export 7 --format json | jq 'sort_by(.best_metric) | .[0]'
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(help: ArgumentHelp("csv or json.", valueName: "format"))
        var format: String = "csv"

        func validate() throws {
            guard TrialExport.Format(rawValue: format) != nil else {
                throw ValidationError("--format must be csv or json, not \"\(format)\"")
            }
        }

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TrialList.self, TrialListParams(taskID: target.task))
            if global.json { return emitJSON(raw) }
            let rows = try session.decode(RPCMethods.TrialList.self, raw)
            emit(TrialExport(trials: rows).render(TrialExport.Format(rawValue: format)!))
        }
    }
}
