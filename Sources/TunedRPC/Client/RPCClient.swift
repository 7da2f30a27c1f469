#if canImport(Glibc)
    import Glibc
#endif

/// A blocking JSON-RPC client over the daemon's Unix socket, for `tunectl` and for workers.
///
/// One request at a time: `call` sends a line and reads lines until the reply with the same
/// id; notifications that arrive meanwhile (after `task.watch`) are queued for
/// `nextNotification`. Use from one thread. Every error is an `RPCClientError` whose message
/// says what to do.
public final class RPCClient {
    public let socketPath: String
    /// Time allowed for one call (send and reply); nil waits forever.
    public var timeout: Duration?
    /// The longest reply line accepted.
    public let maxResponseBytes: Int

    public static let defaultTimeout: Duration = .seconds(30)
    public static let defaultMaxResponseBytes = 64 << 20

    private let socket: UnixSocket
    private var framer: RPCLineFramer
    private var nextID: Int64 = 1
    private var queuedNotifications: [RPCNotification] = []
    private var closed = false

    /// Connects to the daemon at `socketPath` (see `RPCSocketPath.resolve`).
    public init(
        socketPath: String, timeout: Duration? = defaultTimeout, maxResponseBytes: Int = defaultMaxResponseBytes
    ) throws(RPCClientError) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.socket = try UnixSocket(connectingTo: socketPath)
        self.framer = RPCLineFramer(maxLineBytes: maxResponseBytes)
    }

    // MARK: Calls

    /// Calls `method` with `params` and decodes its result as `R`. A JSON-RPC error reply
    /// throws `.remote` carrying the daemon's `RPCError` (its message is the description).
    public func call<P: Encodable, R: Decodable>(
        _ method: String, params: P, as resultType: R.Type = R.self
    ) throws(RPCClientError) -> R {
        let response = try callRaw(method, params: params)
        switch response.body {
        case .error(let e): throw .remote(e)
        case .result(let r):
            do {
                return try RPCCoding.decode(R.self, from: r)
            } catch let error as DecodingError {
                let rpc = RPCError.invalidParams(decodingError: error)
                throw .protocolViolation(
                    "the result of `\(method)` does not fit: \(rpc.message.dropFirst("invalid params: ".count))")
            } catch {
                throw .protocolViolation("the result of `\(method)` does not fit: \(error)")
            }
        }
    }

    /// Calls a typed method: `try client.call(RPCMethods.TaskGet.self, .init(taskID: 7))`.
    public func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(RPCClientError) -> M.Result {
        try call(M.name, params: params, as: M.Result.self)
    }

    /// Calls a method that takes no params.
    public func call<M: RPCMethod>(_ method: M.Type) throws(RPCClientError) -> M.Result where M.Params == RPCEmpty {
        try call(M.name, params: RPCEmpty(), as: M.Result.self)
    }

    /// Sends a request and returns the reply as it came (result or error object).
    public func callRaw<P: Encodable>(_ method: String, params: P) throws(RPCClientError) -> RPCResponse {
        let id = RPCID.int(nextID)
        nextID += 1
        let line: [UInt8]
        do {
            line = try RPCRequest.encodedLine(id: id, method: method, params: params)
        } catch {
            throw .encoding("\(error)")
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let sent: Bool
        do throws(RPCClientError) {
            sent = try socket.sendAll(line, until: deadline)
        } catch where error.code == .connectionClosed {
            // A daemon that refuses a connection (another user, too many connections) writes
            // one error line and closes without reading: our send then fails, but its reason
            // is already in our receive buffer — report that rather than a bare hang-up.
            if let incoming = try? readMessage(until: ContinuousClock.now + .milliseconds(500)),
                case .response(let r) = incoming, r.error != nil, r.id == nil || r.id == id
            {
                return r
            }
            throw error
        }
        guard sent else { throw .timeout(at: socketPath, method: method, seconds: seconds(timeout)) }
        while true {
            guard let incoming = try readMessage(until: deadline) else {
                throw .timeout(at: socketPath, method: method, seconds: seconds(timeout))
            }
            switch incoming {
            case .notification(let n):
                queuedNotifications.append(n)
            case .response(let r) where r.id == id:
                return r
            case .response(let r) where r.id == nil && r.error != nil:
                // The daemon could not read our id (a line too large, say): it is our reply.
                return r
            case .response:
                continue  // a late reply to an earlier call that timed out
            }
        }
    }

    /// Sends a notification (no reply expected).
    public func notify<P: Encodable>(_ method: String, params: P) throws(RPCClientError) {
        let line: [UInt8]
        do {
            line = try RPCRequest.encodedLine(id: nil, method: method, params: params)
        } catch {
            throw .encoding("\(error)")
        }
        guard try socket.sendAll(line, until: timeout.map { ContinuousClock.now + $0 }) else {
            throw .timeout(at: socketPath, method: method, seconds: seconds(timeout))
        }
    }

    // MARK: Notifications

    /// The next notification from the daemon, waiting at most `timeout` (nil: forever).
    /// Throws `.connectionClosed` when the daemon hangs up, `.timeout` when none comes.
    public func nextNotification(timeout: Duration? = nil) throws(RPCClientError) -> RPCNotification {
        if !queuedNotifications.isEmpty { return queuedNotifications.removeFirst() }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            guard let incoming = try readMessage(until: deadline) else {
                throw .timeout(at: socketPath, method: "notification", seconds: seconds(timeout))
            }
            if case .notification(let n) = incoming { return n }
        }
    }

    /// Reads notifications, handing each to `body`, until `body` returns true; returns that
    /// last notification. `timeout` bounds the wait for each one.
    @discardableResult
    public func readNotifications(
        timeout: Duration? = nil, until body: (RPCNotification) throws(RPCClientError) -> Bool
    ) throws(RPCClientError) -> RPCNotification {
        while true {
            let n = try nextNotification(timeout: timeout)
            if try body(n) { return n }
        }
    }

    /// `task.watch`: calls `onProgress` with the initial detail's progress and every
    /// `task.progress` notification until `task.finished`, which it returns.
    public func watchTask(
        _ taskID: TaskID, intervalSeconds: Double? = nil, onProgress: (TaskProgress) -> Void
    ) throws(RPCClientError) -> TaskFinished {
        _ = try call(RPCMethods.TaskWatch.self, TaskWatchParams(taskID: taskID, intervalSeconds: intervalSeconds))
        var finished: TaskFinished?
        try readNotifications { (n) throws(RPCClientError) -> Bool in
            switch n.method {
            case RPCMethodName.taskProgress:
                onProgress(try decodeNotification(n, as: TaskProgress.self))
                return false
            case RPCMethodName.taskFinished:
                finished = try decodeNotification(n, as: TaskFinished.self)
                return true
            default:
                return false
            }
        }
        return finished!
    }

    private func decodeNotification<T: Decodable>(_ n: RPCNotification, as: T.Type) throws(RPCClientError) -> T {
        do {
            return try n.decodeParams(T.self)
        } catch {
            throw .protocolViolation("a `\(n.method)` notification does not fit: \(error)")
        }
    }

    // MARK: Reading

    /// The next message, or nil at the deadline.
    private func readMessage(until deadline: ContinuousClock.Instant?) throws(RPCClientError) -> RPCIncoming? {
        while true {
            switch framer.next() {
            case .line(let line)?:
                if line.isEmpty { continue }
                do {
                    return try RPCIncoming.parse(line)
                } catch {
                    throw .protocolViolation("\(error)")
                }
            case .oversized?:
                throw .responseTooLarge(limit: maxResponseBytes)
            case nil:
                break
            }
            switch try socket.receive(max: 64 << 10, until: deadline) {
            case .bytes(let b): framer.append(b)
            case .closed: throw .connectionClosed(at: socketPath)
            case .timedOut: return nil
            }
        }
    }

    private func seconds(_ d: Duration?) -> Double {
        guard let d else { return .infinity }
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
