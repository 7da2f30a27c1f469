import ArgumentParser
import Foundation
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a task file; print the new task's id.",
            discussion: """
                The daemon validates the file; a mistake is reported as FILE:LINE: field: what is wrong. \
                What it accepts but you may not have meant (a key of your program's own one or two \
                letters from a key tuned knows) is printed on stderr as "warning: FILE:LINE: …". \
                The format comes from the extension (.toml or .json); relative paths in the file \
                (datasets, commands) resolve against the file's folder.

                With --wait, tunectl then waits for the task to end, prints its final status and best \
                metric, and exits 1 if the task failed or was cancelled; for a failed task it prints the \
                first failure's reason and the last lines of its stderr (`tunectl logs` has the rest).

                Examples:
                  tunectl submit examples/digits-random.toml
                  id=$(tunectl submit my-task.json) && tunectl watch "$id"
                  tunectl submit my-task.toml --wait && echo done
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The task file (*.toml or *.json).", valueName: "file"))
        var file: String

        @Flag(help: "Wait until the task ends; exit 1 if it failed or was cancelled.")
        var wait = false

        func validate() throws {
            guard TaskFileInput.format(of: file) != nil else {
                throw ValidationError("\(file): a task file must end in .toml or .json (see docs/TASKFILE.md)")
            }
        }

        func run() throws {
            let params = try TaskFileInput.params(path: file)
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TaskSubmit.self, params)
            let submitted = try session.decode(RPCMethods.TaskSubmit.self, raw)
            // Accepted, but worth a look (a key one edit from a known one, …): on stderr, so
            // that stdout stays the task id for `id=$(tunectl submit FILE)`.
            if !global.json { for w in submitted.warnings { emitWarning("warning: " + w + "\n") } }
            if !wait {
                if global.json { emitJSON(raw) } else { emit("\(submitted.taskID)\n") }
                return
            }
            if !global.json { emit("\(submitted.taskID)\n") }
            let (finalRaw, detail) = try waitForEnd(session, taskID: submitted.taskID)
            if global.json {
                emitJSON(finalRaw)
            } else {
                var line = "task \(detail.taskID) \(detail.status.rawValue): best \(Render.best(detail.best, objective: detail.objective))"
                if let e = detail.error { line += "; error: " + TunectlError.oneLine(e) }
                emit(line + "\n")
                if detail.status == .failed { emit(firstFailureSummary(session, taskID: detail.taskID)) }
            }
            let status = CLIExitStatus.forFinishedTask(detail.status)
            if status != .success { throw ExitCode(status.rawValue) }
        }
    }
}

/// Polls `task.get` once a second until the task is completed, failed or cancelled.
func waitForEnd(_ session: DaemonSession, taskID: TaskID) throws -> (RPCValue, TaskDetail) {
    while true {
        let raw = try session.raw(RPCMethods.TaskGet.self, TaskIDParams(taskID: taskID))
        let detail = try session.decode(RPCMethods.TaskGet.self, raw)
        if detail.status.isFinal { return (raw, detail) }
        Thread.sleep(forTimeInterval: 1)
    }
}
