import Foundation
import GRDB

/// Shared column conventions of the store's records: times are REAL seconds since 1970 UTC.
public protocol StoreRecord: Codable, Sendable, FetchableRecord, PersistableRecord {}

extension StoreRecord {
    public static var databaseDateEncodingStrategy: DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    public static var databaseDateDecodingStrategy: DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

/// A metric value as stored: SQLite stores NaN as NULL, so NULL reads back as NaN.
@inline(__always) func metricValue(_ stored: Double?) -> Double { stored ?? .nan }

extension Date {
    /// The store's time representation (REAL seconds since 1970 UTC), for raw SQL arguments.
    var storeTime: Double { timeIntervalSince1970 }
}
