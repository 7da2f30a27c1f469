import ArgumentParser
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show why a trial's segments failed: the reason, the program's stderr tail, the worker's lines.",
            discussion: """
                Every failed or diverged segment attempt is kept in the store with its one-line reason \
                (a Python traceback's last line, e.g. KeyError: 'lr'), the full error, the last 50 lines \
                (at most 8 KiB) of the program's stderr and the worker's own lines for it (the program's \
                other output, warnings). Oldest first; a retried segment has one entry per failed attempt. \
                Without TRIAL: every failure of the task. `tunectl trials TASK` lists each failed trial's reason.

                Examples:
                  tunectl logs 7 12
                  tunectl logs 7 12 --segment 40
                  tunectl logs 7
                  tunectl --json logs 7 12 | jq -r '.logs[0].stderr_tail'
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Argument(help: ArgumentHelp("The trial's id, as `tunectl trials TASK` lists it (omit for every trial).", valueName: "trial"))
        var trial: Int64?

        @Option(help: ArgumentHelp("Only this segment (its id, as printed in the log headers).", valueName: "id"))
        var segment: Int64?

        func validate() throws {
            if let trial, trial <= 0 { throw ValidationError("a trial id is a positive number, like 12 (see `tunectl trials TASK`)") }
            if let segment, segment <= 0 { throw ValidationError("--segment takes a segment id, a positive number printed in the log headers, like 40") }
        }

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(
                RPCMethods.TrialLogs.self, TrialLogsParams(taskID: target.task, trialID: trial, segmentID: segment))
            if global.json { return emitJSON(raw) }
            emit(Render.segmentLogs(try session.decode(RPCMethods.TrialLogs.self, raw), trialID: trial))
        }
    }
}

/// The first failure of a failed task, for `submit --wait` and `watch`; empty when the
/// daemon has none recorded (or is older than `trial.logs`).
func firstFailureSummary(_ session: DaemonSession, taskID: TaskID) -> String {
    guard let logs = try? session.call(RPCMethods.TrialLogs.self, TrialLogsParams(taskID: taskID, limit: 1)),
        let first = logs.logs.first
    else { return "" }
    return Render.firstFailure(first, taskID: taskID)
}
