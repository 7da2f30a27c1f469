import Foundation

/// The protocol's JSON conventions in one place: snake_case keys written out in each type's
/// `CodingKeys`, sorted keys, unescaped slashes, and the non-finite numbers a diverged
/// member reports (`NaN`, `Infinity`, `-Infinity`) carried as strings.
public enum RPCCoding {
    /// A fresh encoder with the protocol's settings (JSONEncoder is a class: do not share one across threads).
    public static func makeEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    /// A fresh decoder with the protocol's settings.
    public static func makeDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }

    /// Encodes `value` as compact, key-sorted JSON.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try makeEncoder().encode(value))
    }

    /// Decodes `T` from a free-form value, with errors that carry the field's full path.
    public static func decode<T: Decodable>(_ type: T.Type, from value: RPCValue) throws -> T {
        try RPCValueDecoder.decode(T.self, from: value, at: [])
    }

    /// Converts any encodable value into a free-form one.
    public static func value<T: Encodable>(of value: T) throws -> RPCValue {
        let bytes = try encode(value)
        do {
            return try RPCValue.parse(bytes, maxDepth: 512)
        } catch {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "encoded value does not re-parse: \(error)"))
        }
    }

    /// `a.b[3].c` for a decoding error's coding path, as an invalid-params message names a field.
    public static func fieldPath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let i = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == String(i) {
                out += "[\(i)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }
}

/// A string enum on the wire whose decoding error lists the accepted values.
public protocol RPCWireEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String {}

extension RPCWireEnum {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let raw = try c.decode(String.self)
        guard let v = Self(rawValue: raw) else {
            let allowed = Self.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "\"\(raw)\" is not one of \(allowed)")
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
