/// The version of tuned: `tuned --version`, `tunectl --version`, `daemon.status`'s `version`.
/// Here because both executables link TunedRPC (tunectl links no numerics).
public enum TunedVersion {
    public static let string = "0.1.0"
}
