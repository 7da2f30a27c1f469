import Dispatch
import Foundation
import TunedRPC
import TunedStore
#if canImport(Glibc)
import Glibc
#endif

/// `tuned serve`: store → recovery → socket → workers → lease-expiry timer; SIGTERM/SIGINT
/// stops leasing, terminates the workers, removes the socket file and exits 0.
public enum DaemonMain {
    public static func serve(socketPath: String, storePath: String, workers: Int, leaseSeconds: Double = 10,
        limits: SocketLimits = SocketLimits(), segmentLimits: SegmentLimits = SegmentLimits(),
        commandPolicy: CommandWorkloadPolicy? = nil
    ) async throws -> Never {
        signal(SIGPIPE, SIG_IGN)
        let storeDir = URL(fileURLWithPath: storePath).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: storeDir, withIntermediateDirectories: true)
        let store = try Store(path: storePath)
        let core = DaemonCore(store: store, storePath: storePath, socketPath: socketPath, leaseSeconds: leaseSeconds)
        if let commandPolicy { await core.setCommandPolicy(commandPolicy) }
        try await core.recover()

        let server = try SocketServer(path: socketPath, limits: limits)
        server.start { request, peer in blocking { await core.handle(request, peer: peer) } }

        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let supervisor = WorkerSupervisor(executable: exe, socketPath: socketPath, count: workers, segmentLimits: segmentLimits)
        await core.setWorkers(configured: workers, alive: { supervisor.alive })
        supervisor.start()

        let timer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await core.expireLeases()
            }
        }

        // ops: systemd Type=notify — READY once the socket accepts, watchdog pings, STOPPING at shutdown.
        let notifier = SystemdNotifier()
        notifier?.notify("READY=1\nSTATUS=serving on \(socketPath)\nMAINPID=\(getpid())")
        let watchdog = notifier.flatMap { n in
            n.watchdogInterval.map { interval in
                Task {
                    while !Task.isCancelled {
                        _ = await core.isShuttingDown  // the actor answers: the daemon is not wedged
                        n.notify("WATCHDOG=1")
                        try? await Task.sleep(for: .seconds(interval))
                    }
                }
            }
        }

        let shutdown: @Sendable (Int32) -> Void = { sig in
            log("signal \(sig): shutting down")
            notifier?.notify("STOPPING=1")
            watchdog?.cancel()
            blocking { await core.beginShutdown() }
            timer.cancel()
            supervisor.stopAll()
            server.stop()
            log("stopped")
            fflush(nil)
            exit(0)
        }
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue(label: "tuned.signal"))
            s.setEventHandler { DispatchQueue.global().async { shutdown(sig) } }
            s.resume()
            sources.append(s)
        }
        log("serving on \(socketPath) (store \(storePath), \(workers) worker(s), lease \(leaseSeconds) s, "
            + "at most \(limits.maxConnections) connection(s), idle timeout \(limits.idleTimeout) s)")
        withExtendedLifetime(sources) {}
        let keep = sources
        while true {
            try? await Task.sleep(for: .seconds(3600))
            _ = keep.count
        }
    }
}
