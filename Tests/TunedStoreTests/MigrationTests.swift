import Foundation
import GRDB
import Testing

@testable import TunedStore

@Suite struct MigrationTests {
    @Test func migrationsApplyToAnEmptyFileAndAreIdempotentOnReopen() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            let names = GeneratedMigrations.all.map(\.name)
            do {
                let store = try Store(path: path)
                #expect(try await store.appliedMigrations() == names)
                try await store.createTask(demoTask(), trials: [NewTrial(member: 0, configJSON: config(0))])
            }
            let reopened = try Store(path: path)
            #expect(try await reopened.appliedMigrations() == names)
            #expect(try await reopened.listTasks().count == 1)
            let rows: Int? = try rawValue(path, "SELECT COUNT(*) FROM schema_migrations")
            #expect(rows == names.count)
            let tables = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in ["tasks", "trials", "segments", "metrics", "checkpoints", "lineage", "events", "policies"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
        }
    }

    @Test func generatedSwiftMatchesTheSQLFilesInStoreMigrations() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("store/migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(
            GeneratedMigrations.all.map(\.name) == files.map { String($0.dropLast(4)) },
            "Migrations.generated.swift is stale: run scripts/gen-migrations.sh")
        for (file, entry) in zip(files, GeneratedMigrations.all) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(text == entry.sql, "\(file) differs from its generated copy: run scripts/gen-migrations.sh")
        }
        // The script's own check agrees (it also pins the generated file's exact layout).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/gen-migrations.sh").path, "--check"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "scripts/gen-migrations.sh --check failed")
    }

    @Test func migrationVersionsAreNumberedInOrderWithoutGaps() {
        let versions = Migrator.all.map(\.version)
        #expect(versions == Array(1...versions.count))
    }

    @Test func aFileMigratedByANewerBinaryIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            _ = try Store(path: path)
            try DatabaseQueue(path: path).write { db in
                try db.execute(
                    sql: "INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x', 0)")
            }
            #expect(throws: StoreError(.schemaNewer, "")) { try Store(path: path) }
        }
    }

    @Test func anEditedShippedMigrationIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("tuned.db").path
            _ = try Store(path: path)
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
            }
            #expect(throws: StoreError(.migrationModified, "")) { try Store(path: path) }
        }
    }
}
