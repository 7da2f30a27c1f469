import Foundation
import TunedRPC
import TunedWorker

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's check of a checkpoint a worker's `worker.finish` names, before it is
/// committed: a checkpoint is the daemon's, not the caller's. Only the segment's own
/// checkpoint directory under the store's checkpoint root is accepted, reached without a
/// symbolic link (each component from the root down is a real directory), and only with the
/// digest the worker computed, which is computed again here over the files themselves.
enum CheckpointCheck {
    /// nil when `ref` may be committed as the checkpoint written in `directory`; else why not.
    static func refusal(_ ref: CheckpointRef, directory: String, root: String) -> String? {
        guard ref.path == directory else {
            return "the checkpoint \(ref.path) is not this segment's checkpoint directory \(directory)"
        }
        guard directory.hasPrefix(root + "/") else {
            return "the checkpoint directory \(directory) is not under the store's checkpoint root \(root)"
        }
        var path = root
        for component in [""] + directory.dropFirst(root.count + 1).split(separator: "/").map(String.init) {
            if !component.isEmpty { path += "/" + component }
            if component == "." || component == ".." { return "the checkpoint path \(directory) contains `\(component)`" }
            var st = stat()
            guard lstat(path, &st) == 0 else { return "\(path): \(String(cString: strerror(errno)))" }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFLNK: return "\(path) is a symbolic link; a checkpoint must lie in the directory the daemon named"
            default: return "\(path) is not a directory"
            }
        }
        let digest: CheckpointDigest
        do { digest = try CheckpointDigest.of(directory: URL(fileURLWithPath: directory)) } catch {
            return "cannot read the checkpoint in \(directory): \(error)"
        }
        guard digest.checksum == ref.checksum, digest.size == ref.size else {
            return "the checkpoint in \(directory) has digest \(digest.checksum) (\(digest.size) bytes), not the \(ref.checksum) (\(ref.size) bytes) the worker reported"
        }
        return nil
    }
}
