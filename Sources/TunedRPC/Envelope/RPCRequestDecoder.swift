/// Turns any byte line into either a request to dispatch or the exact error reply the
/// server must send. It never throws and never traps: every input, however broken, has an
/// answer (JSON-RPC 2.0 §5: parse error / invalid request with a null id when the id cannot
/// be read, otherwise the request's own id).
///
/// Notifications (no `id`) that are well-formed come back as requests; the server runs them
/// and sends nothing. A malformed notification still gets an error reply with a null id,
/// as the specification requires for invalid requests.
public struct RPCRequestDecoder: Sendable {
    /// Lines longer than this (excluding the `\n`) are answered with `requestTooLarge`.
    public var maxLineBytes: Int
    /// Arrays and objects nested deeper than this are a parse error.
    public var maxDepth: Int

    public static let defaultMaxLineBytes = 1 << 20

    public init(maxLineBytes: Int = defaultMaxLineBytes, maxDepth: Int = RPCValue.defaultMaxDepth) {
        self.maxLineBytes = maxLineBytes
        self.maxDepth = maxDepth
    }

    public enum Outcome: Sendable, Hashable {
        /// A well-formed request or notification to dispatch.
        case request(RPCRequest)
        /// The line is not a valid request: send this reply.
        case reply(RPCResponse)

        public var request: RPCRequest? { if case .request(let r) = self { r } else { nil } }
        public var reply: RPCResponse? { if case .reply(let r) = self { r } else { nil } }
    }

    /// The members a request object may have.
    static let allowedMembers: Set<String> = ["jsonrpc", "id", "method", "params"]

    public func decode(_ line: some Collection<UInt8>) -> Outcome {
        if line.count > maxLineBytes {
            return .reply(.error(id: nil, .requestTooLarge(limit: maxLineBytes)))
        }
        var bytes = Array(line)
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            return .reply(.error(id: nil, .parseError("empty line")))
        }

        let value: RPCValue
        do {
            value = try RPCValue.parse(bytes, maxDepth: maxDepth)
        } catch {
            return .reply(.error(id: nil, .parseError(error.description)))
        }
        return decode(value: value)
    }

    /// Validates an already-parsed value as a request object.
    public func decode(value: RPCValue) -> Outcome {
        let object: [String: RPCValue]
        switch value {
        case .object(let o): object = o
        case .array(let a):
            return .reply(
                .error(
                    id: nil,
                    .invalidRequest(
                        a.isEmpty
                            ? "an empty array is not a request"
                            : "batch requests (arrays) are not supported; send one object per line")))
        default:
            return .reply(.error(id: nil, .invalidRequest("expected a request object, found \(value.typeName)")))
        }

        // The id first: once it is known, every later error reply carries it.
        let id: RPCID?
        switch object["id"] {
        case nil: id = nil
        case .int(let i)?: id = .int(i)
        case .string(let s)?: id = .string(s)
        case let other?:
            let what: String
            switch other {
            case .double(let d) where d.rounded() == d: what = "an integer out of range"
            case .double: what = "a fractional number"
            default: what = other.typeName
            }
            return .reply(
                .error(
                    id: nil,
                    .invalidRequest("\"id\" must be an integer or a string (omit it for a notification), found \(what)")
                ))
        }
        func fail(_ reason: String) -> Outcome { .reply(.error(id: id, .invalidRequest(reason))) }

        switch object["jsonrpc"] {
        case .string(jsonRPCVersion)?: break
        case nil: return fail("missing \"jsonrpc\": \"2.0\"")
        case .string(let s)?: return fail("\"jsonrpc\" must be \"2.0\", found \"\(s)\"")
        case let other?: return fail("\"jsonrpc\" must be the string \"2.0\", found \(other.typeName)")
        }

        let method: String
        switch object["method"] {
        case .string(let m)? where !m.isEmpty: method = m
        case .string?: return fail("\"method\" must not be empty")
        case nil: return fail("missing \"method\"")
        case let other?: return fail("\"method\" must be a string, found \(other.typeName)")
        }

        let params: RPCValue?
        switch object["params"] {
        case nil, .null?: params = nil
        case .object(let o)?: params = .object(o)
        case .array(let a)?: params = .array(a)
        case let other?: return fail("\"params\" must be an object or an array, found \(other.typeName)")
        }

        if let unknown = object.keys.filter({ !Self.allowedMembers.contains($0) }).sorted().first {
            return fail("unknown member \"\(unknown)\" (a request has jsonrpc, id, method, params)")
        }
        return .request(RPCRequest(id: id, method: method, params: params))
    }
}
