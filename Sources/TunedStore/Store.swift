import Foundation
import GRDB

/// The tuned store: one SQLite file in WAL mode, opened through a GRDB `DatabasePool`.
///
/// Every public method is one transaction and is `async`: GRDB runs the blocking SQLite
/// work on its own serial queues, off the cooperative thread pool. Writes are serialised
/// by the pool's single writer connection, which runs with `synchronous = FULL`, so a
/// transaction that returned is on disk (see docs/STORE.md, "Durability").
public final class Store: Sendable {
    /// The store's file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    ///
    /// Blocking; call once at start-up.
    /// - Throws: ``StoreError`` — `.notADatabase` for a file that is not SQLite,
    ///   `.notATunedStore`, `.schemaNewer`, `.migrationModified`, `.corrupt`, `.cannotOpen`.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.label = "tuned.store"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        // Readers get FULL too (harmless); the writer's FULL is set below, because GRDB
        // switches the writer to NORMAL when it enables WAL, after prepareDatabase runs.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try Migrator.migrate(pool, path: path)
            self.pool = pool
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }

    /// The schema versions applied to this file, in order (from `schema_migrations`).
    public func appliedMigrations() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT name FROM schema_migrations ORDER BY version")
        }
    }

    // MARK: - Transactions

    /// One write transaction; SQLite errors become ``StoreError``s that name the file.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }

    /// One read transaction (a WAL snapshot), concurrent with writes.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }

    /// Runs `body` on the writer connection outside any transaction (for PRAGMA checks).
    func onWriter<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }
}

extension Store {
    /// `PRAGMA quick_check`: throws `.corrupt` with SQLite's first complaint when the file is damaged.
    public func quickCheck() async throws {
        let problems = try await read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        if problems != ["ok"] {
            throw StoreError(
                .corrupt,
                "the store at \(path) is corrupt (\(problems.first ?? "?")); "
                    + "restore it from a backup or move it aside to start afresh",
                path: path)
        }
    }
}
