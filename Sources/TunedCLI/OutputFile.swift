import Foundation

/// Files `tunectl` writes (`plot --out`): written whole to a temporary file beside the target
/// and renamed over it, so a reader never sees half a picture.
public enum OutputFile {
    /// Writes `text` to `path`; a failure says which file and what to check.
    public static func write(_ text: String, to path: String) throws(TunectlError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TunectlError("cannot write \(path): the folder \(folder.path) does not exist; create it or pick another --out")
        }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw TunectlError("cannot write \(path): \(error.localizedDescription); check that the folder is writable")
        }
    }
}
