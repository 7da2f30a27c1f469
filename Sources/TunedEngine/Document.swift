import TunedOptim

/// A 1-based line and column in a task file. Columns count UTF-8 bytes from the line's start.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A value read from a task file (TOML or JSON) with the position where it starts.
///
/// Both parsers produce this tree, so validation is written once and every message can name
/// the line of the offending key or value. `text` is the value's source text for scalars
/// (`1e-4`, `"adamw"`), used to echo the user's own spelling in error messages.
public struct DocValue: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case null  // JSON only
        case array([DocValue])
        case table(DocTable)
    }

    public var kind: Kind
    public var position: SourcePosition
    public var text: String

    public init(_ kind: Kind, at position: SourcePosition, text: String = "") {
        self.kind = kind
        self.position = position
        self.text = text
    }

    public var line: Int { position.line }

    /// The value as JSON (integers become numbers; TOML tables become objects).
    public var json: JSONValue {
        switch kind {
        case .string(let s): .string(s)
        case .integer(let i): .number(Double(i))
        case .float(let d): .number(d)
        case .bool(let b): .bool(b)
        case .null: .null
        case .array(let a): .array(a.map(\.json))
        case .table(let t): t.json
        }
    }

    /// A number (integer or float).
    public var number: Double? {
        switch kind {
        case .integer(let i): Double(i)
        case .float(let d): d
        default: nil
        }
    }

    public var integer: Int? {
        if case .integer(let i) = kind { return i }
        return nil
    }

    public var string: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = kind { return b }
        return nil
    }

    public var array: [DocValue]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    public var table: DocTable? {
        if case .table(let t) = kind { return t }
        return nil
    }

    /// "a string", "an integer", … for "wrong type" messages.
    public var typeName: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// How the value reads in a message: its source text, or a short rendering.
    public var shown: String {
        if !text.isEmpty { return text }
        switch kind {
        case .string(let s): return "\"\(s)\""
        case .integer(let i): return String(i)
        case .float(let d): return formatNumber(d)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .array(let a): return "[" + a.map(\.shown).joined(separator: ", ") + "]"
        case .table: return "{…}"
        }
    }
}

/// A table (TOML) or object (JSON): keys in source order, each with its own position.
public struct DocTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: DocValue
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// Where the table starts: its `[header]`, its `{`, or 1:1 for the root.
    public var position: SourcePosition

    public init(position: SourcePosition) { self.position = position }

    public subscript(key: String) -> Entry? {
        index[key].map { entries[$0] }
    }

    public var keys: [String] { entries.map(\.key) }

    /// Appends an entry; returns the existing one instead if the key is already present.
    @discardableResult
    mutating func insert(_ entry: Entry) -> Entry? {
        if let i = index[entry.key] { return entries[i] }
        index[entry.key] = entries.count
        entries.append(entry)
        return nil
    }

    public var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value.json) }))
    }
}

/// Shortest round-tripping rendering of a number, without a trailing ".0" for integers.
func formatNumber(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d > 0 ? "inf" : "-inf" }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
    return "\(d)"
}
