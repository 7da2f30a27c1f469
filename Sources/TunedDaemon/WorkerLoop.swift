import Foundation
import Logging
import TunedRPC
import TunedWorker
#if canImport(Glibc)
import Glibc
#endif

/// `tuned worker`: hello (proving the daemon's worker secret), then lease → run (heartbeats
/// from a second connection, which says hello too) → report → finish, until the daemon goes
/// away. The finish asks for the next lease in the same round trip (`lease_next`); only when
/// none is queued does the worker long-poll `worker.lease`. An error the daemon answers with
/// (a full disk: `store unavailable`) is waited out on a back-off; a failure of the segment
/// caused by the disk is reported as `fault: "io"` (`DiskFault`).
public enum WorkerMain {
    final class Flags: @unchecked Sendable {
        private let lock = NSLock()
        private var _stop = false, _done = false
        var stop: Bool {
            get { lock.withLock { _stop } }
            set { lock.withLock { _stop = newValue } }
        }
        var done: Bool {
            get { lock.withLock { _done } }
            set { lock.withLock { _done = newValue } }
        }
    }

    public static func run(socketPath: String, workerID: String, secret: String, limits: SegmentLimits = SegmentLimits()) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        var logger = Logger(label: "tuned.worker")
        logger[metadataKey: "worker.id"] = "\(workerID)"
        var client: RPCClient?
        for _ in 0..<100 {
            if let c = try? RPCClient(socketPath: socketPath) { client = c; break }
            usleep(100_000)
        }
        guard let client else {
            logger.error("cannot connect to \(socketPath)")
            return 1
        }
        do {
            let helloParams = WorkerHelloParams(workerID: workerID, pid: getpid(), secret: secret)
            let hello = try client.call(RPCMethods.WorkerHello.self, helloParams)
            let segmentLogger = logger
            var runner = SegmentRunner(wallClockLimit: limits.wallSeconds, log: { line in segmentLogger.info("\(line)") })  // command output, warnings
            runner.cpuTimeLimit = limits.cpuSeconds
            runner.memoryLimitBytes = limits.memoryBytes
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            var next: Lease?  // granted with the previous finish
            var refusals = 0  // consecutive errors answered to worker.lease
            while true {
                let lease: Lease
                if let n = next {
                    (lease, next) = (n, nil)
                } else {
                    let r: WorkerLeaseResult
                    do {
                        r = try client.call(RPCMethods.WorkerLease.self, WorkerLeaseParams(workerID: workerID, waitSeconds: 5))
                        refusals = 0
                    } catch {
                        // The daemon answered with an error (its store cannot write): wait, don't exit.
                        guard let remote = error.remoteError, remote.knownCode != .unauthorized else { throw error }
                        refusals += 1
                        let delay = min(0.25 * Double(1 << min(refusals, 5)), 8)
                        logger.warning("worker.lease: \(remote.message); asking again in \(delay) s")
                        Thread.sleep(forTimeInterval: delay)
                        continue
                    }
                    guard let l = r.lease else {
                        Thread.sleep(forTimeInterval: r.retryAfterSeconds ?? 0.5)
                        continue
                    }
                    lease = l
                }
                let flags = Flags()
                let interval = max(0.2, min(hello.heartbeatSeconds, lease.leaseSeconds / 3))
                let hb = Thread {
                    // Connected at the first beat only: a segment shorter than one interval opens
                    // no connection (short segments would otherwise hold dozens open at once).
                    var hc: RPCClient?
                    while !flags.done {
                        Thread.sleep(forTimeInterval: interval)
                        if flags.done { break }
                        if hc == nil {
                            hc = try? RPCClient(socketPath: socketPath)
                            if (try? hc?.call(RPCMethods.WorkerHello.self, helloParams)) == nil { hc = nil }
                        }
                        do {
                            let h = try hc?.call(RPCMethods.WorkerHeartbeat.self, WorkerSegmentParams(workerID: workerID, segmentID: lease.segmentID))
                            if h?.stop == true { flags.stop = true }
                        } catch {
                            if (error as? RPCClientError)?.remoteError?.knownCode == .leaseExpired { flags.stop = true }
                        }
                    }
                }
                hb.start()
                let result = runner.run(
                    lease: lease, workDirectory: cwd,
                    onMetrics: { batch in
                        guard !batch.isEmpty else { return }
                        do {
                            let rep = try client.call(RPCMethods.WorkerReport.self, WorkerReportParams(workerID: workerID, segmentID: lease.segmentID, metrics: batch))
                            if rep.stop { flags.stop = true }
                        } catch {
                            if (error as? RPCClientError)?.remoteError?.knownCode == .leaseExpired { flags.stop = true }
                        }
                    },
                    isCancelled: { flags.stop })
                flags.done = true
                do {
                    var finish = result.finishParams(workerID: workerID, segmentID: lease.segmentID)
                    finish.leaseNext = true
                    if finish.status == .failed, result.outcome != .cancelled,
                        DiskFault.isDiskFault(error: finish.error, stderrTail: finish.stderrTail, checkpointDirectory: lease.checkpointDir)
                    {
                        finish.fault = .io
                    }
                    next = try client.call(RPCMethods.WorkerFinish.self, finish).lease
                } catch {
                    if let e = error.remoteError {
                        logger.warning("finish of segment \(lease.segmentID): \(e.message)")
                    } else {
                        throw error
                    }
                }
            }
        } catch {
            logger.notice("\(error); exiting")
            return 1
        }
    }
}
