/// The server's connection accounting, a pure value kept under a lock.
///
/// A connection is *unclassified* from accept until its first request: then it becomes a
/// *worker* (its first request was a `worker.hello` that proved the daemon's secret) or a
/// *client*. Only clients count against `maxConnections`, so the daemon's own workers are
/// never refused because clients filled the limit; at most `maxConnections` connections may
/// sit unclassified (silent) at once, and the idle timeout closes those.
struct ConnectionCounter: Sendable, Equatable {
    let maxConnections: Int
    private(set) var unclassified = 0
    private(set) var clients = 0
    private(set) var workers = 0

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    enum Kind: Sendable { case unclassified, client, worker }

    /// A new connection, before any request; false: refuse it.
    mutating func accept() -> Bool {
        guard unclassified < maxConnections else { return false }
        unclassified += 1
        return true
    }

    /// The connection's first request decided what it is; false: a client over the limit
    /// (refuse it, and call `close(.unclassified)`).
    mutating func classify(asWorker: Bool) -> Bool {
        if asWorker {
            unclassified -= 1
            workers += 1
            return true
        }
        guard clients < maxConnections else { return false }
        unclassified -= 1
        clients += 1
        return true
    }

    mutating func close(_ kind: Kind) {
        switch kind {
        case .unclassified: unclassified -= 1
        case .client: clients -= 1
        case .worker: workers -= 1
        }
    }
}
