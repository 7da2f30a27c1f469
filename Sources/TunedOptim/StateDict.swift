/// Exact, self-describing optimizer (and workload) state: named scalars and arrays.
///
/// `Float` arrays are kept as `Float` so that a restore is bit-identical; the binary form
/// (`encoded()` / `init(decoding:)`) stores IEEE bit patterns, never decimal text.
public struct StateDict: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case int(Int)
        case double(Double)
        case doubles([Double])
        case floats([Float])
        case string(String)
    }

    public private(set) var values: [String: Value] = [:]

    public init() {}

    public subscript(key: String) -> Value? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public var keys: [String] { values.keys.sorted() }

    // MARK: typed access, throwing an error that names the key

    public func int(_ key: String) throws -> Int {
        guard case .int(let v)? = values[key] else { throw missing(key, "an integer") }
        return v
    }

    public func double(_ key: String) throws -> Double {
        guard case .double(let v)? = values[key] else { throw missing(key, "a number") }
        return v
    }

    public func string(_ key: String) throws -> String {
        guard case .string(let v)? = values[key] else { throw missing(key, "a string") }
        return v
    }

    /// An array of `Scalar`, which must have been stored with the same element type and
    /// `count` elements.
    public func array<Scalar: TunedScalar>(_ key: String, _: Scalar.Type = Scalar.self, count: Int) throws -> [Scalar] {
        let got: [Scalar]
        switch values[key] {
        case .doubles(let v)? where Scalar.self == Double.self: got = v as! [Scalar]
        case .floats(let v)? where Scalar.self == Float.self: got = v as! [Scalar]
        default: throw missing(key, "an array of \(Scalar.self)")
        }
        guard got.count == count else {
            throw OptimizerError("state key '\(key)' has \(got.count) elements, expected \(count)")
        }
        return got
    }

    public mutating func set<Scalar: TunedScalar>(_ key: String, array: [Scalar]) {
        // Decide by the element type, not by a cast: an empty [Float] casts to [Double] too.
        if Scalar.self == Double.self {
            values[key] = .doubles(array as! [Double])
        } else if Scalar.self == Float.self {
            values[key] = .floats(array as! [Float])
        } else {
            values[key] = .doubles(array.map(\.double))
        }
    }

    /// One array per parameter tensor, stored as `name.0`, `name.1`, …
    public mutating func set<Scalar: TunedScalar>(_ name: String, buffers: [[Scalar]]) {
        for (i, b) in buffers.enumerated() { set("\(name).\(i)", array: b) }
    }

    /// The arrays `set(_:buffers:)` stored, one per entry of `counts`, each of that length.
    public func buffers<Scalar: TunedScalar>(_ name: String, counts: [Int], _: Scalar.Type = Scalar.self) throws -> [[Scalar]] {
        try counts.indices.map { try array("\(name).\($0)", count: counts[$0]) }
    }

    /// Every entry of `other` under `prefix` + key (for wrapped optimizers).
    public mutating func merge(_ other: StateDict, prefix: String) {
        for (k, v) in other.values { values[prefix + k] = v }
    }

    /// The entries under `prefix`, with the prefix removed.
    public func extract(prefix: String) -> StateDict {
        var out = StateDict()
        for (k, v) in values where k.hasPrefix(prefix) { out.values[String(k.dropFirst(prefix.count))] = v }
        return out
    }

    private func missing(_ key: String, _ kind: String) -> OptimizerError {
        values[key] == nil
            ? OptimizerError("state is missing key '\(key)' (\(kind))")
            : OptimizerError("state key '\(key)' is not \(kind)")
    }
}
