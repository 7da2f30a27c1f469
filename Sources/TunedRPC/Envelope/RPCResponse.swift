/// A reply to a request: `{"jsonrpc":"2.0","id":…,"result":…}` or `{…,"error":{code,message,data?}}`.
/// `id` is nil (null on the wire) only when the request's id could not be read.
public struct RPCResponse: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case result(RPCValue)
        case error(RPCError)
    }

    public var id: RPCID?
    public var body: Body

    public init(id: RPCID?, body: Body) {
        self.id = id
        self.body = body
    }

    public static func error(id: RPCID?, _ error: RPCError) -> RPCResponse {
        RPCResponse(id: id, body: .error(error))
    }

    public var error: RPCError? { if case .error(let e) = body { e } else { nil } }
    public var result: RPCValue? { if case .result(let r) = body { r } else { nil } }

    public var value: RPCValue {
        var o: [String: RPCValue] = ["jsonrpc": .string(jsonRPCVersion), "id": id?.value ?? .null]
        switch body {
        case .result(let r): o["result"] = r
        case .error(let e): o["error"] = e.value
        }
        return .object(o)
    }

    /// One protocol line: compact JSON, sorted keys, `\n`-terminated. Never fails.
    public func encodedLine() -> [UInt8] { value.serialized() + [0x0A] }

    /// The line for a successful reply with a typed result. If the result cannot be encoded
    /// (a bug), the line is an `internalError` reply instead, so the client always hears back.
    public static func encodedLine<R: Encodable>(id: RPCID?, result: R) -> [UInt8] {
        do {
            return RPCResponse(id: id, body: .result(try RPCCoding.value(of: result))).encodedLine()
        } catch {
            return RPCResponse.error(id: id, .internalError("internal error: could not encode the result"))
                .encodedLine()
        }
    }

    /// Decodes the result as `R`; an error reply throws its `RPCError`.
    public func decodeResult<R: Decodable>(_ type: R.Type = R.self) throws -> R {
        switch body {
        case .error(let e): throw e
        case .result(let r): return try RPCCoding.decode(R.self, from: r)
        }
    }
}

/// A server-to-client notification (`task.progress`, `task.finished`): a request without id.
public struct RPCNotification: Sendable, Hashable {
    public var method: String
    public var params: RPCValue?

    public init(method: String, params: RPCValue?) {
        self.method = method
        self.params = params
    }

    public func encodedLine() -> [UInt8] { RPCRequest(id: nil, method: method, params: params).encodedLine() }

    public static func encodedLine<P: Encodable>(method: String, params: P) throws -> [UInt8] {
        try RPCRequest.encodedLine(id: nil, method: method, params: params)
    }

    public func decodeParams<P: Decodable>(_ type: P.Type = P.self) throws -> P {
        try RPCCoding.decode(P.self, from: params ?? .object([:]))
    }
}

/// What a client reads from the daemon: a reply or a notification.
public enum RPCIncoming: Sendable, Hashable {
    case response(RPCResponse)
    case notification(RPCNotification)

    /// Reads one line from the daemon; throws a description of what is wrong with it.
    public static func parse(_ line: some Sequence<UInt8>) throws -> RPCIncoming {
        let v = try RPCValue.parse(line, maxDepth: 512)
        guard case .object(let o) = v else { throw RPCProtocolViolation("a reply is \(v.typeName), not an object") }
        guard o["jsonrpc"] == .string(jsonRPCVersion) else {
            throw RPCProtocolViolation("a reply lacks \"jsonrpc\": \"2.0\"")
        }
        if case .string(let method)? = o["method"] {
            return .notification(RPCNotification(method: method, params: o["params"]))
        }
        let id: RPCID?
        switch o["id"] {
        case .int(let i)?: id = .int(i)
        case .string(let s)?: id = .string(s)
        case .null?, nil: id = nil
        default: throw RPCProtocolViolation("a reply's id is \(o["id"]!.typeName)")
        }
        if let e = o["error"] {
            guard case .object(let eo) = e, let code = eo["code"]?.int64Value,
                case .string(let message)? = eo["message"]
            else { throw RPCProtocolViolation("a reply's error is not {code, message}") }
            return .response(.error(id: id, RPCError(code: Int(code), message: message, data: eo["data"])))
        }
        guard let r = o["result"] else { throw RPCProtocolViolation("a reply has neither result nor error") }
        return .response(RPCResponse(id: id, body: .result(r)))
    }
}

/// The daemon sent something that is not JSON-RPC.
public struct RPCProtocolViolation: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
