import Foundation
import TunedRPC

/// `tunectl submit FILE`: the file's text, its format from the extension, its name for error
/// messages, and its folder (absolute) for the relative paths inside it.
public enum TaskFileInput {
    /// The format a file's extension names, or nil (`.toml`, `.json`, any case).
    public static func format(of path: String) -> TaskFormat? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "toml": .toml
        case "json": .json
        default: nil
        }
    }

    /// Reads `path` (relative to `currentDirectory`) into `task.submit` params. Throws a
    /// `TunectlError` naming the file and what to do.
    public static func params(
        path: String, currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(TunectlError) -> TaskSubmitParams {
        guard let format = format(of: path) else {
            throw TunectlError(
                "\(path): unknown task file type; name it *.toml or *.json (see docs/TASKFILE.md)", isUsage: true)
        }
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        let url = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw TunectlError("\(path): no such file; check the path (it is relative to \(currentDirectory))")
        }
        if isDir.boolValue { throw TunectlError("\(path) is a folder; give the task file inside it") }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TunectlError("cannot read \(path): check its permissions (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TunectlError("\(path) is not UTF-8 text; save it as UTF-8")
        }
        return TaskSubmitParams(
            text: text, format: format, filename: url.lastPathComponent,
            baseDir: url.deletingLastPathComponent().path)
    }
}
