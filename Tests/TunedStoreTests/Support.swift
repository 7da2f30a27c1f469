import Foundation
import GRDB
import Testing

@testable import TunedStore

/// A fresh temporary folder, removed when the test's closure returns.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tuned-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A store in a fresh temporary folder.
func withStore<T>(_ body: (Store, String) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { dir in
        let path = dir.appendingPathComponent("tuned.db").path
        let store = try Store(path: path)
        return try await body(store, path)
    }
}

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

func demoTask(name: String = "digits-random", mode: ObjectiveMode = .min) -> NewTask {
    NewTask(
        name: name, specText: "name = \"\(name)\"\n", specFormat: .toml,
        specJSON: #"{"name":"\#(name)","workload":{"kind":"mlp"}}"#, strategy: "random", seed: 7,
        objective: Objective(metric: "val_loss", mode: mode))
}

func config(_ i: Int) -> String { #"{"optimizer":"adamw","lr":\#(1e-3 * Double(i + 1))}"# }

/// Reads one value with a raw SQL query through a separate plain connection.
func rawValue<T: DatabaseValueConvertible>(_ path: String, _ sql: String) throws -> T? {
    let queue = try DatabaseQueue(path: path)
    return try queue.read { db in try T.fetchOne(db, sql: sql) }
}
