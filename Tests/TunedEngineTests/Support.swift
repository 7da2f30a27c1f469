import Foundation

@testable import TunedEngine

enum Fixtures {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static var broken: URL { directory.appendingPathComponent("broken") }

    /// The repository's root (for examples/ and datasets/), from this file's path.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// The error a task-file text produces, or nil if it is valid.
func taskError(_ text: String, file: String = "t.toml", base: String = "/tmp") -> TaskFileError? {
    do {
        _ = try TaskFile.parse(text, file: file, baseDirectory: base)
        return nil
    } catch {
        return error
    }
}
