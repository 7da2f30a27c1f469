import ArgumentParser
import TunedCLI
import TunedRPC

extension Tunectl {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tasks, newest first.",
            discussion: """
                Examples:
                  tunectl list
                  tunectl list --status running --status queued
                  tunectl --json list | jq '.[].task_id'
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Only tasks with this status (repeatable): \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "status"))
        var status: [String] = []

        @Option(help: "At most this many tasks.")
        var limit: Int?

        func validate() throws {
            for s in status where TaskStatus(rawValue: s) == nil {
                throw ValidationError("unknown status \"\(s)\"; use one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let limit, limit <= 0 { throw ValidationError("--limit must be a positive number") }
        }

        func run() throws {
            let session = try global.connect()
            let params = TaskListParams(status: status.isEmpty ? nil : status.compactMap(TaskStatus.init), limit: limit)
            let raw = try session.raw(RPCMethods.TaskList.self, params)
            if global.json { return emitJSON(raw) }
            emit(Render.taskList(try session.decode(RPCMethods.TaskList.self, raw)))
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one task's detail and members, or the daemon and all tasks.",
            discussion: """
                Without a task, prints the daemon's summary and the task list (with --json: \
                {"daemon": …, "tasks": […]}).

                Examples:
                  tunectl status 7
                  tunectl status
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The task's id (omit for all tasks).", valueName: "task"))
        var task: Int64?

        func validate() throws {
            if let task, task <= 0 { throw ValidationError("a task id is a positive number, like 7 (see `tunectl list`)") }
        }

        func run() throws {
            let session = try global.connect()
            if let task {
                let raw = try session.raw(RPCMethods.TaskGet.self, TaskIDParams(taskID: task))
                if global.json { return emitJSON(raw) }
                return emit(Render.taskDetail(try session.decode(RPCMethods.TaskGet.self, raw)))
            }
            let daemon = try session.raw(RPCMethods.DaemonStatusMethod.self, RPCEmpty())
            let tasks = try session.raw(RPCMethods.TaskList.self, TaskListParams())
            if global.json { return emitJSON(["daemon": daemon, "tasks": tasks]) }
            emit(
                Render.overview(
                    try session.decode(RPCMethods.DaemonStatusMethod.self, daemon),
                    tasks: try session.decode(RPCMethods.TaskList.self, tasks)))
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a task: its running trials stop, nothing new starts.",
            discussion: """
                Cancelling a task that has already ended is not an error; tunectl prints its final status.

                Example:
                  tunectl cancel 7
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TaskCancel.self, TaskIDParams(taskID: target.task))
            if global.json { return emitJSON(raw) }
            let r = try session.decode(RPCMethods.TaskCancel.self, raw)
            emit(
                r.status == .cancelled
                    ? "task \(r.taskID) cancelled\n" : "task \(r.taskID) had already ended: \(r.status.rawValue)\n")
        }
    }

    struct Daemon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask about the daemon itself.",
            subcommands: [DaemonStatusCommand.self],
            defaultSubcommand: DaemonStatusCommand.self
        )
    }

    struct DaemonStatusCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Version, uptime, workers, task counts, socket and store of the daemon.",
            discussion: """
                Example:
                  tunectl daemon status
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.DaemonStatusMethod.self, RPCEmpty())
            if global.json { return emitJSON(raw) }
            emit(Render.daemonStatus(try session.decode(RPCMethods.DaemonStatusMethod.self, raw)))
        }
    }
}
