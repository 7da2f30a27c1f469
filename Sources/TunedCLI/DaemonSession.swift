import TunedRPC

/// One connection to the daemon for one `tunectl` command. Calls return the result as the
/// daemon sent it (for `--json`) and decode it for the human-readable output.
public final class DaemonSession {
    public let client: RPCClient

    /// Connects to the socket `RPCSocketPath.resolve` picks from `--socket` and `TUNED_SOCKET`.
    public init(socketFlag: String?, environment: [String: String]) throws(RPCClientError) {
        client = try RPCClient(socketPath: RPCSocketPath.resolve(flag: socketFlag, environment: environment))
    }

    /// The result of `method`, undecoded. An error reply throws `.remote`.
    public func raw<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(RPCClientError) -> RPCValue {
        let response = try client.callRaw(M.name, params: params)
        switch response.body {
        case .error(let e): throw .remote(e)
        case .result(let r): return r
        }
    }

    /// Decodes a raw result as the method's result type.
    public func decode<M: RPCMethod>(_ method: M.Type, _ value: RPCValue) throws(RPCClientError) -> M.Result {
        do {
            return try RPCCoding.decode(M.Result.self, from: value)
        } catch {
            throw .protocolViolation("the result of `\(M.name)` does not fit: \(error)")
        }
    }

    /// Calls and decodes.
    public func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(RPCClientError) -> M.Result {
        try decode(M.self, raw(M.self, params))
    }
}
