import Foundation
import GRDB

/// Applies `store/migrations/*.sql` (compiled in as ``GeneratedMigrations``) in order.
///
/// The runner is this project's own, not GRDB's `DatabaseMigrator`, so that it can record a
/// checksum of each migration and refuse files edited after shipping. Each migration runs
/// in its own IMMEDIATE transaction, together with its row in `schema_migrations`
/// (version, name, checksum, applied_at) and a `PRAGMA foreign_key_check`.
enum Migrator {
    /// `PRAGMA application_id` of a tuned store: "tund" in ASCII.
    static let applicationID: Int32 = 0x7475_6E64

    struct Migration: Sendable {
        var version: Int
        var name: String
        var sql: String
        var checksum: String
    }

    static var all: [Migration] {
        GeneratedMigrations.all.map { entry in
            Migration(
                version: Int(entry.name.prefix { $0.isNumber }) ?? 0, name: entry.name, sql: entry.sql,
                checksum: fnv1a64(entry.sql))
        }
    }

    static func migrate(_ pool: DatabasePool, path: String) throws {
        let migrations = all
        let known = migrations.map(\.version).max() ?? 0
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try adopt(db, path: path)
                return .commit
            }
            let applied = try Row.fetchAll(db, sql: "SELECT version, name, checksum FROM schema_migrations")
            for row in applied {
                let version: Int = row["version"]
                if version > known {
                    throw StoreError.schemaNewer(path: path, applied: version, known: known)
                }
                let name: String = row["name"]
                if let migration = migrations.first(where: { $0.version == version }),
                    migration.checksum != (row["checksum"] as String)
                {
                    throw StoreError.migrationModified(path: path, name: name)
                }
            }
            for migration in migrations.sorted(by: { $0.version < $1.version }) {
                try db.inTransaction(.immediate) {
                    // Re-check inside the lock: another process may have applied it.
                    let done =
                        try Bool.fetchOne(
                            db, sql: "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)",
                            arguments: [migration.version]) ?? false
                    if done { return .commit }
                    try db.execute(sql: migration.sql)
                    if try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") != nil {
                        throw StoreError.invalidState("migration \(migration.name) leaves foreign-key violations")
                    }
                    try db.execute(
                        sql: "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                        arguments: [migration.version, migration.name, migration.checksum, Date().storeTime])
                    return .commit
                }
            }
        }
    }

    /// Accepts an empty file (and makes it a tuned store) or an existing tuned store;
    /// refuses any other SQLite database.
    private static func adopt(_ db: Database, path: String) throws {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if appID != 0 && appID != applicationID {
            throw StoreError.notATunedStore(path: path, reason: "its application_id is \(appID)")
        }
        if try db.tableExists("schema_migrations") { return }
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if !tables.isEmpty {
            let some = tables.prefix(3).joined(separator: ", ")
            throw StoreError.notATunedStore(path: path, reason: "it has tables \(some) but no schema_migrations")
        }
        try db.execute(
            sql: """
                CREATE TABLE schema_migrations (
                    version     INTEGER PRIMARY KEY,
                    name        TEXT NOT NULL,
                    checksum    TEXT NOT NULL,
                    applied_at  REAL NOT NULL
                )
                """)
        try db.execute(sql: "PRAGMA application_id = \(applicationID)")
    }

    /// FNV-1a, 64 bit, of the UTF-8 bytes, as 16 hex digits: detects an edited migration.
    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
