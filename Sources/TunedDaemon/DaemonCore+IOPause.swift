import Foundation
import TunedRPC
import TunedStore

#if canImport(Glibc)
    import Glibc
#endif

/// A full or failing disk pauses the daemon; it does not fail tasks.
///
/// When a worker's segment fails with an I/O fault (`worker.finish` with `fault: "io"`: its
/// checkpoint's file system was full) or the store cannot write (SQLITE_FULL, an I/O error, a
/// read-only file), the daemon pauses: no lease is granted, the segment is re-queued *without*
/// counting an attempt (its lease is given back, now or once writes succeed), nothing expires
/// through a strategy, `daemon.status` carries `store.error` and every unfinished task shows
/// `paused: <reason>`. On a back-off (0.5 s doubling to 8 s) the daemon writes and syncs a
/// 1 MiB probe file beside the store; when that succeeds it gives the faulted leases back,
/// renews the live ones (their heartbeats may have failed meanwhile) and resumes by itself.
/// Training is a pure function of (configuration, seed, checkpoint), so a task paused this way
/// ends exactly as it would have without the fault.
extension DaemonCore {
    struct IOPause: Sendable {
        var reason: String
        var since: Date
        var nextProbe: Date
        var delay: Double
    }

    static let maxProbeDelay = 8.0
    /// A segment that keeps ending in I/O faults while the daemon's own probe succeeds is
    /// writing somewhere else that is full: after this many, its failures count as attempts.
    static let maxIOFaultsPerSegment = 8
    static let probeBytes = 1 << 20

    static func isIOFault(_ e: StoreError) -> Bool {
        e.code == .outOfDiskSpace || e.code == .io || e.code == .readOnly
    }

    func pauseForIO(_ reason: String) {
        if ioPause == nil {
            logger.error("paused: \(reason); no segment is leased until writes succeed again (checked on a back-off)")
            ioPause = IOPause(reason: reason, since: Date(), nextProbe: Date().addingTimeInterval(0.5), delay: 0.5)
            changed()
        } else {
            ioPause!.reason = reason
        }
    }

    /// A worker's segment failed with an I/O fault: give its lease back without an attempt
    /// and pause. Returns false when the segment has faulted too often and must count.
    func ioFaultEnded(_ p: WorkerFinishParams, _ seg: LiveSegment) async throws -> Bool {
        let n = (ioFaults[p.segmentID] ?? 0) + 1
        guard n <= Self.maxIOFaultsPerSegment else {
            logger.warning("segment \(p.segmentID): \(n) I/O faults while the daemon's disk writes; counting it as a failed attempt")
            ioFaults[p.segmentID] = nil
            return false
        }
        ioFaults[p.segmentID] = n
        live[p.segmentID] = nil
        let reason = p.error ?? "an I/O error"
        logger.warning("segment \(p.segmentID) (task \(seg.taskID), trial \(seg.trialID)): I/O fault, re-queued without counting an attempt: \(reason)")
        pauseForIO("segment \(p.segmentID) of task \(seg.taskID): \(reason)")
        do {
            try await store.releaseLease(TunedStore.SegmentID(p.segmentID), worker: p.workerID)
        } catch {
            faulted[p.segmentID] = p.workerID
        }
        changed()
        return true
    }

    /// Heartbeat or report: renews the lease, and a renewal the store cannot write pauses the
    /// daemon instead of failing the worker's call (the segment goes on; nothing expires
    /// while paused).
    func renewDuringFaults(_ segmentID: Int64, _ worker: String) async throws -> Bool {
        do {
            return try await renew(segmentID, worker)
        } catch let e as StoreError where Self.isIOFault(e) {
            pauseForIO("renewing the lease of segment \(segmentID): \(e.message)")
            return false
        }
    }

    /// When due, probes the disk; on success gives the faulted leases back, renews the live
    /// ones and resumes leasing.
    func probeIOPause() async {
        guard var pause = ioPause, Date() >= pause.nextProbe else { return }
        func again(_ reason: String) {
            pause.reason = reason
            pause.delay = min(pause.delay * 2, Self.maxProbeDelay)
            pause.nextProbe = Date().addingTimeInterval(pause.delay)
            ioPause = pause
        }
        if let failure = await Self.probeWrite(directory: checkpointRoot) { return again(failure) }
        for (id, worker) in faulted.sorted(by: { $0.key < $1.key }) {
            do {
                try await store.releaseLease(TunedStore.SegmentID(id), worker: worker)
                faulted[id] = nil
            } catch let e as StoreError where Self.isIOFault(e) {
                return again(e.message)
            } catch {
                logger.error("segment \(id): giving its lease back after an I/O fault: \(error)")
                faulted[id] = nil
            }
        }
        for (id, seg) in live {
            try? await store.renewLease(TunedStore.SegmentID(id), worker: seg.worker, leaseDuration: seg.leaseSeconds)
        }
        logger.notice("resumed: writes succeed again after \(Int(Date().timeIntervalSince(pause.since).rounded())) s paused (\(pause.reason))")
        ioPause = nil
        changed()
    }

    /// Writes, syncs and removes a probe file in `directory`; nil on success, else why not.
    @concurrent
    static func probeWrite(directory: String) async -> String? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/.write-probe-\(getpid())"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot create \(path): \(String(cString: strerror(errno)))" }
        defer {
            close(fd)
            unlink(path)
        }
        let chunk = [UInt8](repeating: 0, count: 64 << 10)
        var written = 0
        while written < probeBytes {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { return "cannot write to \(directory): \(String(cString: strerror(errno)))" }
            written += n
        }
        if fsync(fd) != 0 { return "cannot sync a write to \(directory): \(String(cString: strerror(errno)))" }
        return nil
    }
}
