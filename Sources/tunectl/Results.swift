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
            let r = try session.decode(RPCMethods.TaskResults.self, raw)
            emit(Render.results(r) + Render.failures(r.trials, taskID: r.taskID))
        }
    }

    struct Trials: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a task's trials: status, steps, best objective, final metrics, config.",
            discussion: """
                Below the table, each failed or diverged trial's reason in one line (a traceback's \
                last line, e.g. KeyError: 'lr'); `tunectl logs TASK TRIAL` prints its stderr tail.

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
            let rows = try session.decode(RPCMethods.TrialList.self, raw)
            emit(Render.trials(rows, objective: objective) + Render.failures(rows, taskID: target.task))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a task's trials as CSV or JSON: one row per trial, config keys and final metrics as columns.",
            discussion: """
                Columns: trial_id, member, status, steps_done, best_metric, parent_trial_id, then each \
                configuration key, then each final metric (metric.NAME if the name is already a column). \
                `tunectl --json export TASK` is `--format json`: the same flat rows, every digit kept \
                (the daemon's own nested rows: `tunectl --json trials TASK`).

                Examples:
                  tunectl export 7 --format csv > trials.csv
                  tunectl export 7 --format json | jq 'sort_by(.best_metric) | .[0]'
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(help: ArgumentHelp("csv or json (default: csv; json with --json).", valueName: "format"))
        var format: String?

        func validate() throws {
            if let format, TrialExport.Format(rawValue: format) == nil {
                throw ValidationError("--format must be csv or json, not \"\(format)\"")
            }
            if global.json, format == "csv" {
                throw ValidationError("--json asks for JSON and --format csv for CSV; give one of them")
            }
        }

        /// `--json` is `--format json`: one shape for both spellings.
        var resolvedFormat: TrialExport.Format { global.json ? .json : format.flatMap(TrialExport.Format.init) ?? .csv }

        func run() throws {
            let session = try global.connect()
            let rows = try session.call(RPCMethods.TrialList.self, TrialListParams(taskID: target.task))
            emit(TrialExport(trials: rows).render(resolvedFormat))
        }
    }
}
