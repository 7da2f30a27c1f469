import Foundation
import GRDB
import Testing

@testable import TunedStore

@Suite struct OpenAndDurabilityTests {
    @Test func journalModeIsWALAndSynchronousIsFullOnTheWriterAndReaders() async throws {
        try await withStore { store, _ in
            let writer = try await store.onWriter { db in
                (
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
                )
            }
            #expect(writer.0 == "wal")
            #expect(writer.1 == 2, "synchronous must be FULL (2) on the writer; GRDB's WAL default is NORMAL (1)")
            #expect(writer.2 == 1)
            // Inside a write transaction too: the connection that commits.
            let inWrite = try await store.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(inWrite == 2)
            let reader = try await store.read { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
            }
            #expect(reader.0 == "wal")
            #expect(reader.1 == 2)
        }
    }

    @Test func openingAFileThatIsNotSQLiteThrowsNotADatabase() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("not-a-db.db").path
            let junk = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try junk.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StoreError.self) { try Store(path: path) }
            #expect(error?.code == .notADatabase)
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("not an SQLite database") == true)
            // The file is left as it was.
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == junk)
        }
    }

    @Test func openingAnotherProgramsSQLiteDatabaseThrowsNotATunedStore() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("other.db").path
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
            }
            let error = #expect(throws: StoreError.self) { try Store(path: path) }
            #expect(error?.code == .notATunedStore)
        }
    }

    @Test func storeErrorsTranslateSQLiteCodesIntoMessagesThatSayWhatToDo() {
        let full = StoreError.from(DatabaseError(resultCode: .SQLITE_FULL), path: "/var/lib/tuned/tuned.db")
        #expect(full.code == .outOfDiskSpace)
        #expect(
            full.message
                == "the store at /var/lib/tuned/tuned.db is out of disk space; free space and the daemon resumes")
        #expect(StoreError.from(DatabaseError(resultCode: .SQLITE_CORRUPT), path: "p").code == .corrupt)
        #expect(StoreError.from(DatabaseError(resultCode: .SQLITE_NOTADB), path: "p").code == .notADatabase)
        #expect(StoreError.from(DatabaseError(resultCode: .SQLITE_BUSY), path: "p").code == .busy)
    }

    /// A second Store on the same file, dropped without any close or checkpoint, after
    /// commits: a fresh open (a new pool, as after a crash) finds every committed row.
    @Test func committedRowsSurviveAStoreDroppedWithoutCleanup() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            var taskID: TaskID?
            do {
                let writer = try Store(path: path)
                taskID = try await writer.createTask(
                    demoTask(), trials: [NewTrial(member: 0, configJSON: config(0), firstSegmentEnd: 10)])
                let lease = try #require(try await writer.leaseNextSegment(worker: "w", now: t0, leaseDuration: 30))
                try await writer.commitSegment(
                    lease.segment.id,
                    metrics: (0..<10).map { Metric(step: $0, name: "val_loss", value: 1.0 / Double($0 + 1)) },
                    checkpoint: nil, now: t0)
            }
            // The WAL is still there: nothing checkpointed it into the main file.
            let reopened = try Store(path: path)
            let id = try #require(taskID)
            let trials = try await reopened.trials(task: id)
            #expect(try await reopened.metricCount(trial: trials[0].id) == 10)
        }
    }
}
