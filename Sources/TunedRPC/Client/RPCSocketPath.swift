import Foundation

/// Where the daemon's socket is: the explicit flag, else `TUNED_SOCKET`, else the system path.
public enum RPCSocketPath {
    /// The system daemon's socket (the systemd unit's `RuntimeDirectory=tuned`).
    public static let systemDefault = "/run/tuned/tuned.sock"
    /// The environment variable `tunectl` and `tuned` read when no `--socket` is given.
    public static let environmentVariable = "TUNED_SOCKET"

    /// `flag` if given and not empty, else `$TUNED_SOCKET` if set and not empty, else
    /// `/run/tuned/tuned.sock`.
    public static func resolve(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let env = environment[environmentVariable], !env.isEmpty { return env }
        return systemDefault
    }
}
