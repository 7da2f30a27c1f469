import Foundation
import GRDB
import Testing

@testable import TunedStore

@Suite struct FailureTests {
    /// SQLite's max_page_count makes the file "full" exactly like a full disk (SQLITE_FULL).
    @Test func aFullDiskIsReportedAsOutOfDiskSpaceAndWritesResumeOnceThereIsRoom() async throws {
        try await withStore { store, path in
            let taskID = try await store.createTask(demoTask(), trials: [NewTrial(member: 0, configJSON: config(0))])
            let trial = try #require(try await store.trials(task: taskID).first)
            let pages = try await store.onWriter { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
            _ = try await store.onWriter { db in try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages + 2)") }
            let rows = (0..<20_000).map { MetricRow(trial: trial.id, step: $0, name: "train_loss", value: Double($0)) }
            let error = await #expect(throws: StoreError.self) { try await store.appendMetrics(rows) }
            #expect(error?.code == .outOfDiskSpace)
            #expect(error?.message == "the store at \(path) is out of disk space; free space and the daemon resumes")
            // Nothing of the failed transaction is visible; after "freeing space" it goes through.
            #expect(try await store.metricCount(trial: trial.id) == 0)
            _ = try await store.onWriter { db in try Int.fetchOne(db, sql: "PRAGMA max_page_count = 1073741823") }
            #expect(try await store.appendMetrics(rows) == 20_000)
        }
    }

    @Test func aDamagedFileIsReportedAsCorrupt() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            do {
                let store = try Store(path: path)
                try await store.createTask(
                    demoTask(), trials: (0..<200).map { NewTrial(member: $0, configJSON: config($0)) })
            }  // the last connection closes: the WAL is checkpointed into the file
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seek(toOffset: 100)  // page 1 after the file header: the schema's b-tree page
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 3000))
            try handle.close()
            let error = #expect(throws: StoreError.self) {
                let store = try Store(path: path)
                _ = store
            }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("is corrupt") == true)
        }
    }

    @Test func quickCheckPassesOnAHealthyStore() async throws {
        try await withStore { store, _ in try await store.quickCheck() }
    }

    @Test func aMetricNameThatCannotBeAJSONKeyIsRefused() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(demoTask(), trials: [NewTrial(member: 0, configJSON: config(0))])
            let trial = try #require(try await store.trials(task: taskID).first)
            await #expect(throws: StoreError(.invalidArgument, "")) {
                try await store.appendMetrics([MetricRow(trial: trial.id, step: 0, name: "bad\"name", value: 1)])
            }
        }
    }

    @Test func finalMetricsKeepTheHighestStepAndBestKeepsTheEarliestTie() async throws {
        try await withStore { store, _ in
            let taskID = try await store.createTask(demoTask(), trials: [NewTrial(member: 0, configJSON: config(0))])
            let trial = try #require(try await store.trials(task: taskID).first)
            try await store.appendMetrics([
                MetricRow(trial: trial.id, step: 20, name: "val_loss", value: 0.5),
                MetricRow(trial: trial.id, step: 10, name: "val_loss", value: 0.5),
                MetricRow(trial: trial.id, step: 30, name: "val_loss", value: 0.7),
                MetricRow(trial: trial.id, step: 30, name: "lr", value: .infinity),
            ])
            try await store.appendMetrics([MetricRow(trial: trial.id, step: 40, name: "val_loss", value: 0.6)])
            let result = try #require(try await store.results(task: taskID).best)
            #expect(result.bestValue == 0.5 && result.bestStep == 10)
            #expect(result.finalMetrics["val_loss"] == 0.6)
            #expect(result.finalMetrics["lr"] == .infinity)
        }
    }

    @Test(arguments: [
        (#"{"a":1.5,"b":null,"c":-2e-3}"#, ["a": 1.5, "c": -2e-3]),
        (#"{ "a" : 9.0e+999 }"#, ["a": Double.infinity]),
        (#"{}"#, [:]),
        (#"{"esc\"aped":1}"#, ["esc\"aped": 1.0]),
    ])
    func flatJSONDecodesWhatSQLiteWrites(text: String, expected: [String: Double]) {
        let decoded = FlatJSON.numbers(text)
        #expect(decoded.filter { !$0.value.isNaN } == expected)
        if text.contains("null") { #expect(decoded["b"]?.isNaN == true) }
    }
}
