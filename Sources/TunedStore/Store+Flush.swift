import GRDB

extension Store {
    /// Copies the write-ahead log into the database file and truncates it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), so that a stopped daemon leaves one
    /// self-contained file. Committed transactions are durable without it (synchronous=FULL).
    public func flush() async throws {
        try await onWriter { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
