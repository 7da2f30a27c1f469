/// The version string every message carries.
public let jsonRPCVersion = "2.0"

/// A request as the daemon receives it: `{"jsonrpc":"2.0","id":…,"method":…,"params":…}`.
/// Without `id` it is a notification, which gets no reply.
public struct RPCRequest: Sendable, Hashable {
    public var id: RPCID?
    public var method: String
    /// An object (named parameters), an array, or nil when absent.
    public var params: RPCValue?

    public init(id: RPCID?, method: String, params: RPCValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    public var isNotification: Bool { id == nil }

    /// The request as a free-form value.
    public var value: RPCValue {
        var o: [String: RPCValue] = ["jsonrpc": .string(jsonRPCVersion), "method": .string(method)]
        if let id { o["id"] = id.value }
        if let params { o["params"] = params }
        return .object(o)
    }

    /// One protocol line: compact JSON, sorted keys, `\n`-terminated.
    public func encodedLine() -> [UInt8] { value.serialized() + [0x0A] }

    /// Encodes a request (or, with `id == nil`, a notification) with typed params.
    public static func encodedLine<P: Encodable>(id: RPCID?, method: String, params: P) throws -> [UInt8] {
        try RPCRequest(id: id, method: method, params: RPCCoding.value(of: params)).encodedLine()
    }

    /// Decodes the named parameters into `P`, or throws the `invalidParams` error to send back,
    /// naming the offending field. Absent params decode as `{}`, so methods whose fields are
    /// all optional accept them.
    public func decodeParams<P: Decodable>(_ type: P.Type = P.self) throws(RPCError) -> P {
        let object: RPCValue
        switch params {
        case nil, .null?: object = .object([:])
        case .object?: object = params!
        case let other?:
            throw .invalidParams(field: nil, "params must be an object of named parameters, not \(other.typeName)")
        }
        do {
            return try RPCCoding.decode(P.self, from: object)
        } catch let error as DecodingError {
            throw RPCError.invalidParams(decodingError: error)
        } catch {
            throw .invalidParams(field: nil, "\(error)")
        }
    }
}

extension RPCError {
    /// The invalid-params reply for a decoding error, naming the field.
    public static func invalidParams(decodingError error: DecodingError) -> RPCError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return .invalidParams(field: RPCCoding.fieldPath(ctx.codingPath + [key]), "missing (required)")
        case .typeMismatch(let type, let ctx):
            return .invalidParams(
                field: RPCCoding.fieldPath(ctx.codingPath), "wrong type (expected \(wireTypeName(type)))")
        case .valueNotFound(let type, let ctx):
            return .invalidParams(
                field: RPCCoding.fieldPath(ctx.codingPath), "must not be null (expected \(wireTypeName(type)))")
        case .dataCorrupted(let ctx):
            return .invalidParams(field: RPCCoding.fieldPath(ctx.codingPath), ctx.debugDescription)
        @unknown default:
            return .invalidParams(field: nil, "\(error)")
        }
    }

    private static func wireTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type, is UInt32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [String: RPCValue].Type: "an object"
        default:
            String(describing: type).hasPrefix("Array")
                ? "an array"
                : String(describing: type).hasPrefix("Dictionary") ? "an object" : "\(type)"
        }
    }
}
