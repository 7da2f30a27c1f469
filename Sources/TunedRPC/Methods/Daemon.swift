// Types of daemon.status.

/// `daemon.status`'s result.
public struct DaemonStatus: Codable, Sendable, Hashable {
    public struct Workers: Codable, Sendable, Hashable {
        /// How many the daemon keeps running (`--workers N`).
        public var configured: Int
        public var alive: Int
        /// Alive and holding a lease.
        public var busy: Int

        public init(configured: Int, alive: Int, busy: Int) {
            self.configured = configured
            self.alive = alive
            self.busy = busy
        }
    }

    public struct Store: Codable, Sendable, Hashable {
        public var path: String
        public var sizeBytes: Int64?
        /// Nil when healthy; otherwise what is wrong (disk full, read-only).
        public var error: String?

        public init(path: String, sizeBytes: Int64? = nil, error: String? = nil) {
            self.path = path
            self.sizeBytes = sizeBytes
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case path, error
            case sizeBytes = "size_bytes"
        }
    }

    public var version: String
    public var protocolVersion: Int
    public var uptimeSeconds: Double
    public var pid: Int32
    public var workers: Workers
    /// Task counts keyed by `TaskStatus` raw value (`"running": 2`).
    public var tasks: [String: Int]
    public var socket: String
    public var store: Store

    public init(
        version: String, protocolVersion: Int = rpcProtocolVersion, uptimeSeconds: Double, pid: Int32,
        workers: Workers, tasks: [String: Int], socket: String, store: Store
    ) {
        self.version = version
        self.protocolVersion = protocolVersion
        self.uptimeSeconds = uptimeSeconds
        self.pid = pid
        self.workers = workers
        self.tasks = tasks
        self.socket = socket
        self.store = store
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, workers, tasks, socket, store
        case protocolVersion = "protocol_version"
        case uptimeSeconds = "uptime_seconds"
    }
}

// recommend, policy.fit and policy.show: Meta.swift.
