import Foundation
import TunedRPC

/// Runs one segment of a command workload: the user's program in its own process group,
/// with the segment in its environment, its stdout parsed for `tuned:` metric lines as they
/// arrive and the tail of its stderr kept. The contract is docs/COMMAND_WORKLOADS.md.
struct CommandSegment {
    var lease: Lease
    var workload: CommandWorkload
    var seed: UInt64
    var workDirectory: URL
    var wallClockLimit: Double?
    var cpuTimeLimit: Double?
    var memoryLimitBytes: UInt64?
    var killGracePeriod: Double
    var stderrTailBytes: Int
    var log: @Sendable (String) -> Void

    /// The child's environment: the worker's, then `OPENBLAS_NUM_THREADS=1` and
    /// `PYTHONUNBUFFERED=1` (unless already set), then the workload's `env`, then the
    /// `TUNED_*` variables of the contract (which nothing overrides).
    func environment(config: String, checkpointDir: String, restoreDir: String) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        env[workerSecretEnvironmentKey] = nil  // the daemon's, never the program's
        if env["PYTHONUNBUFFERED"] == nil { env["PYTHONUNBUFFERED"] = "1" }
        env.merge(workload.env) { $1 }
        env["TUNED_CONFIG"] = config
        env["TUNED_CHECKPOINT_DIR"] = checkpointDir
        env["TUNED_RESTORE_DIR"] = restoreDir
        env["TUNED_START_STEP"] = String(lease.startStep)
        env["TUNED_END_STEP"] = String(lease.endStep)
        env["TUNED_TASK"] = String(lease.taskID)
        env["TUNED_TRIAL"] = String(lease.trialID)
        env["TUNED_SEGMENT"] = String(lease.segmentID)
        env["TUNED_SEED"] = String(seed)
        if let who = lease.runAs {
            if let user = RunAsUser.account(who.uid) {
                (env["HOME"], env["USER"], env["LOGNAME"]) = (user.home, user.name, user.name)
            }
            // Not the worker's (root's) PATH, whose entries — pyenv shims under /root, say — the
            // user cannot run; the task's own `env.PATH` wins.
            if workload.env["PATH"] == nil { env["PATH"] = RunAsUser.defaultPath }
        }
        return env
    }

    private func absolute(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : workDirectory.appendingPathComponent(path)
    }

    func run(
        config: [String: RPCValue], onMetrics: ([MetricPoint]) -> Void, isCancelled: () -> Bool
    ) -> SegmentResult {
        let t0 = Date()
        let fm = FileManager.default
        func fail(_ message: String) -> SegmentResult {
            SegmentResult(outcome: .failed(error: message, stderrTail: nil), seconds: Date().timeIntervalSince(t0))
        }
        guard lease.endStep >= lease.startStep else {
            return fail("the segment ends at step \(lease.endStep), before its start at step \(lease.startStep)")
        }
        let directory = workload.workdir.map(absolute) ?? workDirectory
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            return fail("[workload] workdir \(directory.path) is not a directory")
        }
        let checkpointDir = absolute(lease.checkpointDir)
        var restoreDir = ""
        if let r = lease.restoreCheckpoint {
            let url = absolute(r)
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
                return fail("the checkpoint to restore from, \(url.path), is not a directory")
            }
            guard !BuiltinSegment.samePath(url, checkpointDir) else {
                return fail("the checkpoint directory \(checkpointDir.path) is also the one to restore from; a segment must write a new checkpoint")
            }
            restoreDir = url.path
        }
        // A fresh, empty checkpoint directory: files of an earlier attempt at this segment must
        // not be mistaken for this run's checkpoint.
        do {
            try fm.createDirectory(at: checkpointDir, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: checkpointDir.path) {
                try fm.removeItem(at: checkpointDir.appendingPathComponent(name))
            }
            if let who = lease.runAs { try RunAsUser.hand(checkpointDir, to: who) }
        } catch {
            return fail("cannot prepare the checkpoint directory \(checkpointDir.path): \(error.localizedDescription)")
        }
        let env = environment(
            config: RPCValue.object(config).jsonText, checkpointDir: checkpointDir.path, restoreDir: restoreDir)
        let executable: URL
        do {
            executable = try CommandWorkload.resolveExecutable(
                workload.command[0], directory: directory, searchPath: env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        } catch {
            return fail("\(error)")
        }

        var argv = [executable.path] + Array(workload.command.dropFirst())
        // Memory and CPU limits: prlimit(1) sets RLIMIT_AS / RLIMIT_CPU on itself, then
        // executes the program in the same process, which therefore starts under them.
        let prefix = ResourceUsage.prlimitPrefix(memoryBytes: memoryLimitBytes, cpuSeconds: cpuTimeLimit)
        if !prefix.isEmpty {
            guard let prlimit = ResourceUsage.prlimitPath else {
                return fail("the worker has per-segment memory/CPU limits but prlimit(1) is not installed (Debian: apt-get install util-linux)")
            }
            argv = [prlimit] + prefix + argv
        }
        // The submitter's identity: setpriv(1) sets uid, gid and groups, then executes the rest.
        if let who = lease.runAs {
            do { argv = try RunAsUser.prefix(who) + argv } catch { return fail("\(error)") }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = directory
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let sink = CommandOutput(stderrTailBytes: stderrTailBytes)
        do {
            // The child inherits the signal mask of the thread that spawns it, and Foundation
            // does not reset it: spawned from a Dispatch or Swift-concurrency thread (which
            // block nearly every signal) the program would never see SIGTERM. Spawn with an
            // empty mask, then restore this thread's.
            var empty = sigset_t(), saved = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try process.run()
        } catch {
            return fail("cannot start \(workload.command.joined(separator: " ")): \(error.localizedDescription)")
        }
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let pid = process.processIdentifier
        // Foundation starts the child as the leader of a process group of its own (pgid == pid),
        // so a signal to -pid reaches the program and everything it started.
        let ownGroup = getpgid(pid) == pid
        if !ownGroup { log("warning: \(executable.lastPathComponent) (pid \(pid)) is not in a process group of its own; only it will be signalled") }
        func signal(_ sig: Int32) { _ = ownGroup ? kill(-pid, sig) : kill(pid, sig) }

        let readers = DispatchGroup()
        Self.pump(out.fileHandleForReading, group: readers) { sink.stdout($0) }
        Self.pump(err.fileHandleForReading, group: readers) { sink.stderr($0) }

        var metricCount = 0
        func deliver() {
            let (metrics, lines) = sink.take()
            for line in lines { log(line) }
            if !metrics.isEmpty {
                metricCount += metrics.count
                onMetrics(metrics)
            }
        }

        enum Stop { case cancelled, timedOut, diverged(Int64), limit(SegmentLimit) }
        var peakVirtual: UInt64 = 0, lastCPU: Double = 0
        var stop: Stop?
        var termSentAt = Date.distantFuture
        var killed = false
        // Foundation learns that the child ended when a socket the child inherited closes, i.e.
        // when every process holding it has ended: a background process left behind would
        // hide the exit. So the runner also watches for the program becoming a zombie, then
        // kills what is left of its group; if the exit still goes unreported (a process
        // outside the group holds the socket), it takes the status from /proc after 5 s.
        var leaderExited: (at: Date, status: Int32?)?
        var statusFromProc: Int32?
        while true {
            let done = exited.wait(timeout: .now() + .milliseconds(50)) == .success
            deliver()
            if done { break }
            let now = Date()
            if let e = leaderExited {
                if now.timeIntervalSince(e.at) > 5 {
                    log("warning: \(executable.lastPathComponent) (pid \(pid)) exited, but a process outside its group keeps its descriptors open; not waiting for it")
                    statusFromProc = e.status ?? 255 << 8  // unknown (a kernel before 3.5): report status 255
                    break
                }
            } else if let p = Self.procState(pid), p.state == "Z" {
                leaderExited = (now, p.exitStatus)
                if ownGroup { _ = kill(-pid, SIGKILL) }
            }
            if leaderExited == nil {
                if let v = ResourceUsage.virtualBytes(of: pid) { peakVirtual = max(peakVirtual, v) }
                if let c = ResourceUsage.cpuSeconds(of: pid) { lastCPU = max(lastCPU, c) }
            }
            if stop == nil {
                if isCancelled() {
                    stop = .cancelled
                } else if let limit = wallClockLimit, now.timeIntervalSince(t0) > limit {
                    stop = .timedOut
                } else if let m = memoryLimitBytes, let rss = ResourceUsage.residentBytes(of: pid), rss > m {
                    stop = .limit(.memory(limitBytes: m, usedBytes: rss))
                } else if let c = cpuTimeLimit, lastCPU > c + 3 {
                    stop = .limit(.cpu(limitSeconds: c, usedSeconds: lastCPU))  // RLIMIT_CPU did not stop it
                } else if let s = sink.divergedStep {
                    stop = .diverged(s)
                }
                if stop != nil {
                    signal(SIGTERM)
                    termSentAt = now
                }
            } else if !killed, now.timeIntervalSince(termSentAt) >= killGracePeriod {
                signal(SIGKILL)
                killed = true
            }
        }
        // Whatever the program left running in its group goes too (it would hold the pipes open).
        if ownGroup { _ = kill(-pid, SIGKILL) }
        if readers.wait(timeout: .now() + (statusFromProc == nil ? 5 : 0.5)) == .timedOut {
            log("warning: the output of \(executable.lastPathComponent) is still open after it exited (a process outside its group holds it); not waiting for it")
        }
        deliver()

        let tail = sink.stderrTailText
        let warnings = sink.warnings
        var result = SegmentResult(
            outcome: .cancelled, metricCount: metricCount, warnings: warnings.kept, warningCount: warnings.count,
            stderrTail: tail, seconds: Date().timeIntervalSince(t0))
        let status: Int32, signalled: Bool
        if let raw = statusFromProc {
            // A waitpid(2) status: the low 7 bits are the signal (0: a normal exit, code in bits 8–15).
            (status, signalled) = raw & 0x7f == 0 ? ((raw >> 8) & 0xff, false) : (raw & 0x7f, true)
        } else {
            (status, signalled) = (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }
        switch stop {
        case .cancelled?:
            result.outcome = .cancelled
        case .timedOut?:
            result.outcome = .timedOut(limitSeconds: wallClockLimit ?? 0, stderrTail: tail)
        case .diverged(let s)?:
            result.outcome = .diverged(step: s)
        case .limit(let l)?:
            result.outcome = .failed(error: "\(workload.command[0]) \(l.message); killed", stderrTail: tail)
        case nil:
            if let s = sink.divergedStep {
                result.outcome = .diverged(step: s)
            } else if let l = overLimit(status: status, signalled: signalled, tail: tail, peakVirtual: peakVirtual, cpu: lastCPU) {
                let how = signalled ? "was killed by signal \(status)" : "exited with status \(status)"
                result.outcome = .failed(error: "\(workload.command[0]) \(l.message): it \(how)", stderrTail: tail)
            } else if signalled {
                let name = strsignal(status).map { String(cString: $0) } ?? "signal \(status)"
                result.outcome = .failed(error: "\(workload.command[0]) was killed by signal \(status) (\(name))", stderrTail: tail)
                result.reason = FailureReason.fromStderr(tail)  // a crash's last words, if any
            } else if status != 0 {
                result.outcome = .failed(error: "\(workload.command[0]) exited with status \(status)", stderrTail: tail)
                result.reason = FailureReason.fromStderr(tail)  // the traceback's last line
            } else {
                result.outcome = checkpointOutcome(checkpointDir, lastStep: sink.lastStep, tail: tail)
            }
        }
        return result
    }

    /// Whether a program that failed did so at one of its limits: SIGXCPU (or SIGKILL at
    /// RLIMIT_CPU's hard limit) after using its CPU time; a failed allocation (the usual
    /// words in its stderr, or an address space that had reached 90 % of RLIMIT_AS).
    private func overLimit(status: Int32, signalled: Bool, tail: String?, peakVirtual: UInt64, cpu: Double) -> SegmentLimit? {
        guard signalled || status != 0 else { return nil }
        if let c = cpuTimeLimit, signalled, status == SIGXCPU || (status == SIGKILL && cpu >= c - 0.5) {
            return .cpu(limitSeconds: c, usedSeconds: cpu > 0 ? cpu : nil)
        }
        if let m = memoryLimitBytes {
            let words = ["MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory", "Out of memory", "memory exhausted"]
            if peakVirtual >= m / 10 * 9 || words.contains(where: { tail?.contains($0) == true }) {
                return .memory(limitBytes: m, usedBytes: nil)
            }
        }
        return nil
    }

    /// Exit status 0: the checkpoint is whatever the program wrote. An empty directory is
    /// accepted only when the program reported `step=END_STEP` (or later): a stateless
    /// program that did its work in one go.
    private func checkpointOutcome(_ dir: URL, lastStep: Int64?, tail: String?) -> SegmentOutcome {
        do {
            let d = try CheckpointDigest.of(directory: dir)
            if d.files.isEmpty, (lastStep ?? -1) < lease.endStep {
                let reported = lastStep.map { "its last metric line was at step \($0)" } ?? "it printed no metric line"
                return .failed(
                    error: "\(workload.command[0]) exited with status 0 but wrote nothing to TUNED_CHECKPOINT_DIR (\(dir.path)) and \(reported), before TUNED_END_STEP=\(lease.endStep)",
                    stderrTail: tail)
            }
            return .ok(CheckpointRef(path: dir.path, step: lease.endStep, checksum: d.checksum, size: d.size))
        } catch {
            return .failed(error: "\(error)", stderrTail: tail)
        }
    }

    /// State letter (`R`, `S`, `Z`, …) and, once it has exited, the waitpid(2) status of a
    /// process (fields 3 and 52 of /proc/PID/stat; the latter since Linux 3.5).
    static func procState(_ pid: Int32) -> (state: Character, exitStatus: Int32?)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard let state = fields.first?.first else { return nil }
        return (state, fields.count > 49 ? Int32(fields[49].trimmingCharacters(in: .whitespacesAndNewlines)) : nil)
    }

    /// Reads `handle` to its end on a thread of its own.
    private static func pump(_ handle: FileHandle, group: DispatchGroup, _ onChunk: @escaping @Sendable (ArraySlice<UInt8>) -> Void) {
        group.enter()
        let fd = handle.fileDescriptor
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    onChunk(buffer[0..<n])
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            onChunk([][...])
            group.leave()
        }
    }
}

/// The program's output as the reader threads see it, for the runner's thread to take.
final class CommandOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var partial: [UInt8] = []
    private var pendingMetrics: [MetricPoint] = []
    private var pendingLines: [String] = []
    private var tail: [UInt8] = []
    private var tailTruncated = false
    private let tailLimit: Int
    private var _warnings: [String] = []
    private var _warningCount = 0
    private var _diverged: Int64?
    private var _lastStep: Int64?
    static let maxLine = 1 << 20
    static let maxWarningsKept = 100

    init(stderrTailBytes: Int) { tailLimit = stderrTailBytes }

    var divergedStep: Int64? { lock.withLock { _diverged } }
    var lastStep: Int64? { lock.withLock { _lastStep } }
    var warnings: (kept: [String], count: Int) { lock.withLock { (_warnings, _warningCount) } }

    /// A chunk of stdout; an empty chunk is the end of the stream (a last line without `\n` counts).
    func stdout(_ chunk: ArraySlice<UInt8>) {
        lock.withLock {
            if chunk.isEmpty {
                if !partial.isEmpty { line(partial[...]) }
                partial.removeAll()
                return
            }
            partial += chunk
            var start = partial.startIndex
            while let nl = partial[start...].firstIndex(of: UInt8(ascii: "\n")) {
                line(partial[start..<nl])
                start = nl + 1
            }
            partial.removeSubrange(..<start)
            if partial.count > Self.maxLine {
                line(partial[...])
                partial.removeAll()
            }
        }
    }

    func stderr(_ chunk: ArraySlice<UInt8>) {
        lock.withLock {
            tail += chunk
            if tail.count > tailLimit {
                tail.removeFirst(tail.count - tailLimit)
                tailTruncated = true
            }
        }
    }

    /// The stderr kept: whole lines only (a line cut by the byte bound is dropped), at most
    /// `LineTail.defaultMaxLines` of them.
    var stderrTailText: String? {
        lock.withLock {
            guard !tail.isEmpty else { return nil }
            var text = String(decoding: tail, as: UTF8.self)
            if tailTruncated, let nl = text.firstIndex(of: "\n"), text.index(after: nl) < text.endIndex {
                text = String(text[text.index(after: nl)...])
            }
            return LineTail.bounded(text, maxBytes: tailLimit)
        }
    }

    /// Metrics and log lines since the last call.
    func take() -> ([MetricPoint], [String]) {
        lock.withLock {
            defer { pendingMetrics.removeAll(); pendingLines.removeAll() }
            return (pendingMetrics, pendingLines)
        }
    }

    private func line(_ bytes: ArraySlice<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let parsed = MetricLine.parse(text) else {
            pendingLines.append(text)
            return
        }
        for w in parsed.warnings {
            _warningCount += 1
            if _warnings.count < Self.maxWarningsKept { _warnings.append(w) }
            pendingLines.append("warning: \(w)")
        }
        guard let step = parsed.step else { return }
        _lastStep = max(_lastStep ?? step, step)
        pendingMetrics += parsed.metrics
        if _diverged == nil, parsed.metrics.contains(where: { MetricLine.isLoss($0.name) && !$0.value.isFinite }) {
            _diverged = step
        }
    }
}
