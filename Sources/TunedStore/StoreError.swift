import GRDB

/// An error of the store, with a message that tells a person what happened and what to do.
///
/// Errors compare equal when their ``code`` is equal, so callers can write
/// `catch let error as StoreError where error.code == .outOfDiskSpace`.
public struct StoreError: Error, Equatable, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case outOfDiskSpace, corrupt, notADatabase, notATunedStore, schemaNewer
            case migrationModified, cannotOpen, readOnly, busy, io, notFound, leaseLost
            case invalidState, invalidArgument, sqlite
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The disk is full (SQLITE_FULL).
        public static let outOfDiskSpace = Code(.outOfDiskSpace)
        /// The file is an SQLite database, but damaged (SQLITE_CORRUPT).
        public static let corrupt = Code(.corrupt)
        /// The file is not an SQLite database at all (SQLITE_NOTADB).
        public static let notADatabase = Code(.notADatabase)
        /// The file is an SQLite database that some other program owns.
        public static let notATunedStore = Code(.notATunedStore)
        /// The file was migrated by a newer tuned: this binary does not know its schema.
        public static let schemaNewer = Code(.schemaNewer)
        /// An applied migration's SQL differs from this binary's copy (a shipped file was edited).
        public static let migrationModified = Code(.migrationModified)
        public static let cannotOpen = Code(.cannotOpen)
        public static let readOnly = Code(.readOnly)
        public static let busy = Code(.busy)
        public static let io = Code(.io)
        /// A task, trial, segment, checkpoint or policy id that the store does not hold.
        public static let notFound = Code(.notFound)
        /// The segment is leased by another worker (this worker's lease expired).
        public static let leaseLost = Code(.leaseLost)
        /// The operation does not apply to the row's current status.
        public static let invalidState = Code(.invalidState)
        public static let invalidArgument = Code(.invalidArgument)
        /// Any other SQLite error.
        public static let sqlite = Code(.sqlite)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// The store's file, when the error concerns it.
    public let path: String?
    /// The SQLite error this one translates, if any.
    public let underlying: DatabaseError?
    public let fileID: String
    public let line: Int

    init(
        _ code: Code, _ message: String, path: String? = nil, underlying: DatabaseError? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.underlying = underlying
        self.fileID = fileID
        self.line = line
    }

    public var description: String { message }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
}

extension StoreError {
    static func notFound(_ what: String, fileID: String = #fileID, line: Int = #line) -> StoreError {
        StoreError(.notFound, "\(what) does not exist in the store", fileID: fileID, line: line)
    }

    static func invalidState(_ message: String, fileID: String = #fileID, line: Int = #line) -> StoreError {
        StoreError(.invalidState, message, fileID: fileID, line: line)
    }

    static func invalidArgument(_ message: String, fileID: String = #fileID, line: Int = #line) -> StoreError {
        StoreError(.invalidArgument, message, fileID: fileID, line: line)
    }

    static func leaseLost(
        segment: SegmentID, worker: String, owner: String?, fileID: String = #fileID, line: Int = #line
    )
        -> StoreError
    {
        let holder = owner.map { "is now leased by \($0)" } ?? "is no longer leased"
        return StoreError(
            .leaseLost, "segment \(segment) \(holder): worker \(worker)'s lease expired; drop this segment's work",
            fileID: fileID, line: line)
    }

    static func notATunedStore(path: String, reason: String, fileID: String = #fileID, line: Int = #line)
        -> StoreError
    {
        StoreError(
            .notATunedStore,
            "\(path) is an SQLite database but not a tuned store (\(reason)); pass another --store path",
            path: path, fileID: fileID, line: line)
    }

    static func schemaNewer(path: String, applied: Int, known: Int, fileID: String = #fileID, line: Int = #line)
        -> StoreError
    {
        StoreError(
            .schemaNewer,
            "the store at \(path) has schema version \(applied), newer than this binary's \(known); "
                + "run a newer tuned, or open a copy of an older store",
            path: path, fileID: fileID, line: line)
    }

    static func migrationModified(path: String, name: String, fileID: String = #fileID, line: Int = #line)
        -> StoreError
    {
        StoreError(
            .migrationModified,
            "the store at \(path) applied migration \(name) with different SQL than this binary ships; "
                + "shipped migrations must never be edited (add a new one instead)",
            path: path, fileID: fileID, line: line)
    }

    /// Translates an SQLite error into a store error that says what to do.
    static func from(_ error: DatabaseError, path: String, fileID: String = #fileID, line: Int = #line)
        -> StoreError
    {
        let detail = error.message ?? "\(error.resultCode)"
        let (code, message): (Code, String)
        switch error.resultCode {
        case .SQLITE_FULL:
            (code, message) = (
                .outOfDiskSpace, "the store at \(path) is out of disk space; free space and the daemon resumes"
            )
        case .SQLITE_CORRUPT:
            (code, message) = (
                .corrupt,
                "the store at \(path) is corrupt (\(detail)); restore it from a backup or move it aside to start afresh"
            )
        case .SQLITE_NOTADB:
            (code, message) = (
                .notADatabase, "\(path) is not an SQLite database; pass the path of a tuned store (or a new file)"
            )
        case .SQLITE_CANTOPEN:
            (code, message) = (
                .cannotOpen,
                "cannot open the store at \(path) (\(detail)); check that its folder exists and is writable"
            )
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            (code, message) = (.readOnly, "the store at \(path) is read-only (\(detail)); check its permissions")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            (code, message) = (
                .busy, "the store at \(path) is locked by another process (\(detail)); is another tuned running on it?"
            )
        case .SQLITE_IOERR:
            (code, message) = (.io, "input/output error on the store at \(path) (\(detail)); check the disk")
        default:
            (code, message) = (.sqlite, "SQLite error on the store at \(path): \(detail)")
        }
        return StoreError(code, message, path: path, underlying: error, fileID: fileID, line: line)
    }
}
