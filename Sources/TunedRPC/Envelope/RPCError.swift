/// A JSON-RPC error object `{code, message, data?}`: what a failed request gets back.
///
/// The daemon throws these from method handlers (anything else thrown becomes
/// `internalError` and is logged); the client receives them as `RPCClientError.remote`.
/// `message` tells a person what to fix.
public struct RPCError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The raw code; codes this version does not know are kept as they are.
    public var code: Int
    public var message: String
    public var data: RPCValue?

    public init(code: Int, message: String, data: RPCValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public init(_ code: RPCErrorCode, _ message: String, data: RPCValue? = nil) {
        self.init(code: code.rawValue, message: message, data: data)
    }

    /// The code as a known case, or nil for a code from a newer daemon.
    public var knownCode: RPCErrorCode? { RPCErrorCode(rawValue: code) }

    public var description: String { message }

    /// The object as a free-form value (for writing it without a throwing encoder).
    public var value: RPCValue {
        var o: [String: RPCValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }
}

// MARK: - Factories, one per situation

extension RPCError {
    public static func parseError(_ detail: String) -> RPCError {
        RPCError(.parseError, "parse error: \(detail)")
    }

    public static func invalidRequest(_ reason: String) -> RPCError {
        RPCError(.invalidRequest, "invalid request: \(reason)")
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "method not found: \"\(method)\"", data: ["method": .string(method)])
    }

    /// `field` is the path of the offending parameter (`"task_id"`, `"metrics[3].value"`).
    public static func invalidParams(field: String?, _ reason: String) -> RPCError {
        guard let field, !field.isEmpty else { return RPCError(.invalidParams, "invalid params: \(reason)") }
        return RPCError(.invalidParams, "invalid params: `\(field)`: \(reason)", data: ["field": .string(field)])
    }

    public static func internalError(_ message: String = "internal error (see the daemon's log)") -> RPCError {
        RPCError(.internalError, message)
    }

    public static func taskNotFound(_ taskID: TaskID) -> RPCError {
        RPCError(.taskNotFound, "no task \(taskID) (see `tunectl list`)", data: ["task_id": .int(taskID)])
    }

    /// A task file that does not validate: "digits.toml:12: strategy.population: must be ≥ 2".
    public static func validationFailed(
        _ message: String, file: String?, line: Int?, field: String?
    ) -> RPCError {
        var data: [String: RPCValue] = [:]
        data["file"] = file.map(RPCValue.string)
        data["line"] = line.map { .int(Int64($0)) }
        data["field"] = field.map(RPCValue.string)
        var prefix = ""
        if let file { prefix += file + (line.map { ":\($0)" } ?? "") + ": " }
        if let field { prefix += field + ": " }
        return RPCError(.validationFailed, prefix + message, data: .object(data))
    }

    public static func unauthorized(_ reason: String) -> RPCError {
        RPCError(.unauthorized, "unauthorized: \(reason)")
    }

    public static func tooManyConnections(limit: Int) -> RPCError {
        RPCError(
            .tooManyConnections, "too many connections (limit \(limit)); try again later",
            data: ["limit": .int(Int64(limit))])
    }

    public static func requestTooLarge(limit: Int) -> RPCError {
        RPCError(
            .requestTooLarge, "request too large: a line may hold at most \(limit) bytes",
            data: ["limit": .int(Int64(limit))])
    }

    public static func storeUnavailable(_ reason: String) -> RPCError {
        RPCError(.storeUnavailable, "store unavailable: \(reason)")
    }

    public static func cancelled(_ reason: String) -> RPCError {
        RPCError(.cancelled, "cancelled: \(reason)")
    }

    public static func leaseExpired(segmentID: SegmentID) -> RPCError {
        RPCError(
            .leaseExpired, "no live lease for segment \(segmentID) (expired or never granted); lease again",
            data: ["segment_id": .int(segmentID)])
    }

    public static func shuttingDown() -> RPCError {
        RPCError(.shuttingDown, "the daemon is shutting down")
    }
}
