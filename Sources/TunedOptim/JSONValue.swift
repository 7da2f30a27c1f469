import Foundation

/// A JSON document, as read from a reference-vector file or a task configuration.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var doubleValue: Double? { if case .number(let d) = self { d } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var isNull: Bool { self == .null }

    /// `[Double]` for an array of numbers.
    public var doublesValue: [Double]? {
        guard case .array(let a) = self else { return nil }
        var out = [Double]()
        out.reserveCapacity(a.count)
        for v in a {
            guard let d = v.doubleValue else { return nil }
            out.append(d)
        }
        return out
    }
}

/// Named hyperparameters with the reference's own keyword names and defaults.
/// Every accessor names the key in its error, and `checkNoUnknownKeys` rejects typos.
public struct Hyperparameters: Sendable, Equatable {
    public var values: [String: JSONValue]
    /// Where these came from, for error messages (`"torch_adam_default.json"`, `"[search]"`).
    public var context: String

    public init(_ values: [String: JSONValue], context: String = "hyperparameters") {
        self.values = values
        self.context = context
    }

    public init(json: JSONValue?, context: String = "hyperparameters") throws {
        switch json {
        case nil, .null?: self.init([:], context: context)
        case .object(let o)?: self.init(o, context: context)
        default: throw OptimizerError("\(context): expected an object of hyperparameters")
        }
    }

    public func double(_ key: String, default value: Double) throws -> Double {
        switch values[key] {
        case nil, .null?: return value
        case .number(let d)?: return d
        case .bool(let b)?: return b ? 1 : 0
        default: throw OptimizerError("\(context): '\(key)' must be a number")
        }
    }

    /// A number, or nil when absent or `null` (Python `None`).
    public func optionalDouble(_ key: String) throws -> Double? {
        switch values[key] {
        case nil, .null?: return nil
        case .number(let d)?: return d
        default: throw OptimizerError("\(context): '\(key)' must be a number or null")
        }
    }

    public func int(_ key: String, default value: Int) throws -> Int {
        let d = try double(key, default: Double(value))
        guard d == d.rounded(), abs(d) < 1e15 else { throw OptimizerError("\(context): '\(key)' must be an integer, got \(d)") }
        return Int(d)
    }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        switch values[key] {
        case nil, .null?: return value
        case .bool(let b)?: return b
        case .number(let d)? where d == 0 || d == 1: return d == 1
        default: throw OptimizerError("\(context): '\(key)' must be true or false")
        }
    }

    public func string(_ key: String, default value: String?) throws -> String? {
        switch values[key] {
        case nil, .null?: return value
        case .string(let s)?: return s
        default: throw OptimizerError("\(context): '\(key)' must be a string")
        }
    }

    /// A tuple of numbers such as `betas`; `count` elements exactly.
    public func doubles(_ key: String, count: Int, default value: [Double]) throws -> [Double] {
        switch values[key] {
        case nil, .null?: return value
        case .array(let a)?:
            var out = [Double]()
            for v in a {
                switch v {
                case .number(let d): out.append(d)
                case .null: out.append(.nan)  // Python None inside a tuple, e.g. Adafactor's eps
                default: throw OptimizerError("\(context): '\(key)' must be an array of \(count) numbers")
                }
            }
            guard out.count == count else { throw OptimizerError("\(context): '\(key)' must have \(count) elements, got \(out.count)") }
            return out
        default: throw OptimizerError("\(context): '\(key)' must be an array of \(count) numbers")
        }
    }

    public func nested(_ key: String) throws -> Hyperparameters? {
        switch values[key] {
        case nil, .null?: return nil
        case .object(let o)?: return Hyperparameters(o, context: "\(context).\(key)")
        default: throw OptimizerError("\(context): '\(key)' must be an object")
        }
    }

    /// Throws for the first key not in `known`, naming it and the accepted keys.
    public func checkNoUnknownKeys(_ known: Set<String>) throws {
        for key in values.keys.sorted() where !known.contains(key) {
            throw OptimizerError("\(context): unknown hyperparameter '\(key)' (accepted: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// Throws unless `value` satisfies `ok`, with `what` describing the valid range.
    public func require(_ ok: Bool, _ key: String, _ what: String) throws {
        if !ok { throw OptimizerError("\(context): '\(key)' \(what)") }
    }
}
