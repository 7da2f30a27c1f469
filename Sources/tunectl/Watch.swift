import ArgumentParser
import Foundation
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a task live until it ends: members, steps, best metric so far, ETA.",
            discussion: """
                On a terminal the view is redrawn in place; piped or redirected, one progress line is \
                printed per update. Ends when the task ends; exit 1 if it failed or was cancelled. \
                Ctrl-C stops watching, not the task (`tunectl cancel` does that). A failed task ends with its \
                first failure's reason and the last lines of its stderr (`tunectl logs` has the rest).

                Examples:
                  tunectl watch 7
                  tunectl watch 7 | tee progress.log
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(help: "Seconds between updates.")
        var interval: Double = 1

        func validate() throws {
            guard interval > 0, interval.isFinite else { throw ValidationError("--interval must be a positive number of seconds") }
        }

        func run() throws {
            let session = try global.connect()
            let taskID = target.task
            let printer = WatchPrinter(json: global.json, tty: isatty(STDOUT_FILENO) == 1)
            var detail: TaskDetail
            var notifications = true
            do {
                detail = try session.call(
                    RPCMethods.TaskWatch.self, TaskWatchParams(taskID: taskID, intervalSeconds: interval))
            } catch {
                guard error.remoteError?.knownCode == .methodNotFound else { throw error }
                notifications = false  // an older daemon: poll task.get instead
                detail = try session.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: taskID))
            }
            printer.start(detail)
            var final = detail.status
            if notifications && !detail.status.isFinal {
                final = try printer.follow(session.client)
                detail = try session.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: taskID))
                printer.show(.init(detail, at: Date().timeIntervalSince1970))
            } else {
                while !final.isFinal {
                    Thread.sleep(forTimeInterval: interval)
                    detail = try session.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: taskID))
                    final = detail.status
                    printer.show(.init(detail, at: Date().timeIntervalSince1970))
                }
            }
            if let e = detail.error, !global.json { emit("error: " + TunectlError.oneLine(e) + "\n") }
            if final == .failed, !global.json { emit(firstFailureSummary(session, taskID: taskID)) }
            let status = CLIExitStatus.forFinishedTask(final)
            if status != .success { throw ExitCode(status.rawValue) }
        }
    }
}

/// Prints watch snapshots: redrawn frames on a terminal, lines otherwise, JSON with --json.
final class WatchPrinter {
    let json: Bool
    let tty: Bool
    private var view: WatchView?

    init(json: Bool, tty: Bool) {
        self.json = json
        self.tty = tty && !json
    }

    func start(_ detail: TaskDetail) {
        view = WatchView(taskID: detail.taskID, name: detail.name, objective: detail.objective)
        show(.init(detail, at: Date().timeIntervalSince1970))
    }

    func show(_ s: WatchView.Snapshot) {
        guard var v = view else { return }
        let eta = v.update(s)
        if json {
            emitJSON((try? RPCCoding.value(of: s.progress(taskID: v.taskID))) ?? .null)
        } else if tty {
            emit(v.redraw(s, eta: eta))
        } else {
            emit(v.line(s, eta: eta) + "\n")
        }
        view = v
    }

    /// Shows every `task.progress` until `task.finished`; returns the final status.
    func follow(_ client: RPCClient) throws -> TaskStatus {
        while true {
            let n = try client.nextNotification()
            switch n.method {
            case RPCMethodName.taskProgress:
                guard let p = try? n.decodeParams(TaskProgress.self) else {
                    throw RPCClientError.protocolViolation("a task.progress notification does not fit")
                }
                if json {
                    emitJSON(n.params ?? .null)  // the notification as the daemon sent it
                } else {
                    var snapshot = WatchView.Snapshot(p)
                    snapshot.at = Date().timeIntervalSince1970  // one clock for the ETA: ours
                    show(snapshot)
                }
            case RPCMethodName.taskFinished:
                guard let f = try? n.decodeParams(TaskFinished.self) else {
                    throw RPCClientError.protocolViolation("a task.finished notification does not fit")
                }
                return f.status
            default:
                continue
            }
        }
    }
}

extension WatchView.Snapshot {
    /// The snapshot as a `task.progress` object, for `watch --json` (one per line).
    func progress(taskID: TaskID) -> TaskProgress {
        TaskProgress(
            taskID: taskID, status: status, stepsDone: stepsDone, stepsTotal: stepsTotal, best: best,
            etaSeconds: etaSeconds, members: members, at: at)
    }
}
