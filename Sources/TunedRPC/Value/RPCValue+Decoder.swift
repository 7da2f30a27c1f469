/// Decodes `Decodable` types straight from an `RPCValue`, with the protocol's conventions
/// (non-finite numbers as `"NaN"`, `"Infinity"`, `"-Infinity"`; integral doubles accepted
/// as integers). Every error carries the full coding path, so invalid params name the field
/// (`metrics[3].value`) — which Foundation's JSONDecoder does not do for numbers out of range.
struct RPCValueDecoder: Decoder {
    let value: RPCValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: RPCValue, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw Self.mismatch([String: RPCValue].self, value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw Self.mismatch([RPCValue].self, value, codingPath) }
        return Unkeyed(array: a, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        Single(value: value, codingPath: codingPath)
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: RPCValue, at path: [any CodingKey]) throws -> T {
        if T.self == RPCValue.self { return value as! T }
        if let primitive = try decodePrimitive(type, value, path) { return primitive }
        return try T(from: RPCValueDecoder(value, codingPath: path))
    }

    /// Scalars, decoded here so that their errors name the path.
    static func decodePrimitive<T>(_ type: T.Type, _ value: RPCValue, _ path: [any CodingKey]) throws -> T? {
        if case .null = value, !(T.self is any ExpressibleByNilLiteral.Type) {
            if T.self == String.self || T.self == Bool.self || T.self == Double.self || T.self == Float.self
                || T.self is any BinaryInteger.Type
            {
                throw DecodingError.valueNotFound(T.self, .init(codingPath: path, debugDescription: "null"))
            }
        }
        switch T.self {
        case is String.Type:
            guard case .string(let s) = value else { throw mismatch(T.self, value, path) }
            return (s as! T)
        case is Bool.Type:
            guard case .bool(let b) = value else { throw mismatch(T.self, value, path) }
            return (b as! T)
        case is Double.Type:
            return (try double(value, path) as! T)
        case is Float.Type:
            return (Float(try double(value, path)) as! T)
        case let intType as any FixedWidthInteger.Type:
            return (try integer(intType, value, path) as! T)
        default:
            return nil
        }
    }

    static func double(_ value: RPCValue, _ path: [any CodingKey]) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        default: throw mismatch(Double.self, value, path)
        }
    }

    static func integer<I: FixedWidthInteger>(_ type: I.Type, _ value: RPCValue, _ path: [any CodingKey]) throws -> I {
        let result: I?
        switch value {
        case .int(let i): result = I(exactly: i)
        case .double(let d): result = d.isFinite ? I(exactly: d) : nil
        default: throw mismatch(I.self, value, path)
        }
        guard let result else {
            throw DecodingError.typeMismatch(
                I.self, .init(codingPath: path, debugDescription: "\(value.jsonText) is not an integer in range"))
        }
        return result
    }

    static func mismatch(_ type: Any.Type, _ value: RPCValue, _ path: [any CodingKey]) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "null"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "found \(value.typeName)"))
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: [String: RPCValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

        func value(_ key: Key) throws -> RPCValue {
            guard let v = object[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return v
        }

        func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try RPCValueDecoder.decode(T.self, from: value(key), at: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type, forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try RPCValueDecoder(value(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try RPCValueDecoder(value(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { RPCValueDecoder(.object(object), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            RPCValueDecoder(object[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Index: CodingKey {
        let intValue: Int?
        var stringValue: String { "Index \(intValue!)" }
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let array: [RPCValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(array: [RPCValue], codingPath: [any CodingKey]) {
            self.array = array
            self.codingPath = codingPath
        }

        var count: Int? { array.count }
        var isAtEnd: Bool { currentIndex >= array.count }

        mutating func next() throws -> (RPCValue, [any CodingKey]) {
            let path = codingPath + [Index(currentIndex)]
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    RPCValue.self,
                    .init(codingPath: path, debugDescription: "the array has only \(array.count) elements"))
            }
            defer { currentIndex += 1 }
            return (array[currentIndex], path)
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, array[currentIndex].isNull else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, path) = try next()
            return try RPCValueDecoder.decode(T.self, from: v, at: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let (v, path) = try next()
            return try RPCValueDecoder(v, codingPath: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, path) = try next()
            return try RPCValueDecoder(v, codingPath: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (v, path) = try next()
            return RPCValueDecoder(v, codingPath: path)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: RPCValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value.isNull }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try RPCValueDecoder.decode(T.self, from: value, at: codingPath)
        }
    }
}
