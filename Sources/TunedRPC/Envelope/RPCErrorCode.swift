/// The stable `code` of a JSON-RPC error object. Never renumber a case: clients match on these.
///
/// −32700…−32603 are JSON-RPC 2.0's own; application codes count down from −32000.
public enum RPCErrorCode: Int, Sendable, Hashable, CaseIterable, Codable {
    /// The line is not JSON: invalid UTF-8, truncated or malformed text, a number out of
    /// range, nesting deeper than the limit. The reply's `id` is null.
    case parseError = -32700
    /// The line is JSON but not a request object: an array, a scalar, a missing or wrong
    /// `"jsonrpc": "2.0"`, a missing or non-string `method`, an `id` that is neither an integer
    /// nor a string, `params` that is neither an object nor an array, an unknown member.
    case invalidRequest = -32600
    /// `method` names no method this daemon serves.
    case methodNotFound = -32601
    /// The method exists but its `params` do not fit: a missing field, a wrong type, a value
    /// out of its domain. The message names the field; `data.field` carries its path.
    case invalidParams = -32602
    /// A bug or an unexpected failure inside the daemon; the daemon logs the details.
    case internalError = -32603

    /// The `task_id` names no task in the store.
    case taskNotFound = -32000
    /// `task.submit` (or `recommend`'s features) failed validation. `data` carries
    /// `{file, line, field}` so that the CLI can print `FILE:LINE: field: message`.
    case validationFailed = -32001
    /// The peer's credentials are not allowed (not the daemon's uid, root, or the socket's
    /// group), or a worker method was called by a connection that is not a worker.
    case unauthorized = -32002
    /// The daemon already serves its maximum number of connections; sent once, then the
    /// connection is closed. Retry later.
    case tooManyConnections = -32003
    /// The request line exceeds the size limit (`data.limit` in bytes). The line is discarded
    /// up to its newline and the connection keeps serving.
    case requestTooLarge = -32004
    /// The store cannot be written or read: disk full, read-only file system, a locked or
    /// corrupt database. Nothing was committed; retry after fixing the store.
    case storeUnavailable = -32005
    /// The operation was cancelled: the task was cancelled (`tunectl cancel`) while the
    /// request waited on it, or a worker's segment belongs to a cancelled task.
    case cancelled = -32006
    /// A worker's `segment_id` names no live lease: it expired (no heartbeat in time) or was
    /// never granted. The worker must drop the segment and lease again.
    case leaseExpired = -32007
    /// The daemon is shutting down and accepts no new work (leases, submissions).
    case shuttingDown = -32008

    /// JSON-RPC's short name for the code, as the spec and the docs spell it.
    public var name: String {
        switch self {
        case .parseError: "parse error"
        case .invalidRequest: "invalid request"
        case .methodNotFound: "method not found"
        case .invalidParams: "invalid params"
        case .internalError: "internal error"
        case .taskNotFound: "task not found"
        case .validationFailed: "validation failed"
        case .unauthorized: "unauthorized"
        case .tooManyConnections: "too many connections"
        case .requestTooLarge: "request too large"
        case .storeUnavailable: "store unavailable"
        case .cancelled: "cancelled"
        case .leaseExpired: "lease expired"
        case .shuttingDown: "shutting down"
        }
    }
}
