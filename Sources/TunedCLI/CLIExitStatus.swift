import TunedRPC

/// `tunectl`'s exit statuses: 0 when all went well, 1 when a task failed or anything went
/// wrong, 2 when the command line itself is wrong (a usage error).
public enum CLIExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case failure = 1
    case usage = 2

    /// What a command that waited for a task (`submit --wait`, `watch`) exits with: success
    /// only when the task completed. A task that failed or was cancelled did not deliver.
    public static func forFinishedTask(_ status: TaskStatus) -> CLIExitStatus {
        status == .completed ? .success : .failure
    }

    /// The status for an error that is not a usage error: every client, daemon or file error
    /// is a failure (1). The argument parser's own usage errors are mapped by the executable.
    public static func forError(_ error: any Error) -> CLIExitStatus {
        if let e = error as? TunectlError, e.isUsage { return .usage }
        return .failure
    }
}
