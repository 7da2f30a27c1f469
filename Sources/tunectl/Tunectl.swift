import ArgumentParser
import Foundation
import Glibc
import TunedCLI
import TunedRPC

@main
struct Tunectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunectl",
        abstract: "Submit, watch and inspect hyperparameter-tuning tasks on a running tuned daemon.",
        discussion: """
            tunectl talks to the tuned daemon over its Unix socket: --socket PATH, else $TUNED_SOCKET, \
            else /run/tuned/tuned.sock. Start a local daemon with `tuned --socket PATH --store DB`.

            A task is described by a task file (TOML or JSON; see docs/TASKFILE.md and examples/). \
            Submitting it prints the task's id, which the other commands take.

            Examples:
              tunectl submit examples/digits-random.toml   # prints the task id: 7
              tunectl submit task.toml --wait              # exit 1 if it fails
              tunectl watch 7                              # live, to the end
              tunectl list
              tunectl status 7
              tunectl results 7                            # best config, trials
              tunectl logs 7 12                            # why trial 12 failed: reason, stderr tail
              tunectl export 7 --format csv > trials.csv
              tunectl lineage 7                            # who copied whom (PBT)
              tunectl plot 7 --out task7.svg               # curves and the winning lineage
              tunectl --json results 7 | jq .best_config
              TUNED_SOCKET=./run/tuned.sock tunectl daemon status
              tunectl recommend --task-features examples/features-digits-mlp.toml

            Exit status: 0 success, 1 a task failed or an error (one line on stderr says what to \
            fix), 2 a mistake in the command line.
            """,
        version: TunedVersion.string,
        subcommands: [
            Submit.self, List.self, Status.self, Watch.self, Cancel.self, Results.self, Trials.self, Logs.self, Export.self,
            Lineage.self, Plot.self, Daemon.self, Recommend.self, Policy.self, BatchSize.self,
        ]
    )

    @OptionGroup var options: GlobalOptions

    /// Runs the command and exits with tunectl's statuses: 0 ok, 1 failure, 2 usage.
    static func main() {
        let status: Int32
        do {
            var command = try parseAsRoot()
            try command.run()
            status = CLIExitStatus.success.rawValue
        } catch {
            status = report(error)
        }
        fflush(nil)
        Glibc.exit(status)
    }

    /// Prints `error` (one line for ours — a line per problem for a file that does not validate — the parser's message with usage for command-line
    /// mistakes, help text to stdout) and returns the exit status.
    static func report(_ error: any Error) -> Int32 {
        switch error {
        case is TunectlError, is RPCClientError, is RPCError:
            FileHandle.standardError.write(Data(TunectlError.report(for: error).utf8))
            return CLIExitStatus.forError(error).rawValue
        case let code as ExitCode:
            return code.rawValue
        default:
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                return CLIExitStatus.success.rawValue
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            return code == .validationFailure ? CLIExitStatus.usage.rawValue : CLIExitStatus.failure.rawValue
        }
    }
}

/// `--socket` and `--json`, accepted before or after the command name.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("The daemon's socket (default: $TUNED_SOCKET, else /run/tuned/tuned.sock).", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's result as JSON instead of text (for scripts and jq).")
    var json = false

    /// Connects to the daemon.
    func connect() throws(RPCClientError) -> DaemonSession {
        try DaemonSession(socketFlag: socket, environment: ProcessInfo.processInfo.environment)
    }
}

/// Writes `text` to stdout as is (it ends with its own newline) and flushes.
func emit(_ text: String) {
    print(text, terminator: "")
    fflush(nil)
}

/// Prints a raw result as one line of JSON.
func emitJSON(_ value: RPCValue) { emit(value.jsonText + "\n") }

/// Writes to stderr (warnings beside a command's output).
func emitWarning(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// The task id argument every task command takes.
struct TaskArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The task's id, as `tunectl submit` printed it (see `tunectl list`).", valueName: "task"))
    var task: Int64

    func validate() throws {
        guard task > 0 else { throw ValidationError("a task id is a positive number, like 7 (see `tunectl list`)") }
    }
}
