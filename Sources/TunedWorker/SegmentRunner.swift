import Foundation
import TunedOptim
import TunedRPC
import TunedWorkloads

/// Runs one leased segment — what a `tuned worker` does between `worker.lease` and
/// `worker.finish`:
///
///     let runner = SegmentRunner(wallClockLimit: 3600)
///     let result = runner.run(lease: lease, workDirectory: dir,
///                             onMetrics: { batch in report(batch) },      // → worker.report
///                             isCancelled: { heartbeatSaidStop })
///     finish(result.finishParams(workerID: id, segmentID: lease.segmentID))
///
/// A built-in workload (`lease.workload.kind` one of `WorkloadFactory.kinds`) trains in
/// this process in Float arithmetic (`BuiltinSegment`); metrics come in one batch per
/// training record (every `eval_every` steps): `train_loss`, `val_loss`, `val_accuracy`
/// (classification), `lr`, and `gradient_noise_scale` when measured. When `end_step` is not
/// a multiple of `eval_every`, one more batch at `end_step` carries `train_loss` (the mean
/// minibatch loss since the last record), `val_loss`, `val_accuracy` and `lr` of the final
/// state, so every segment ends with a validation
/// metric. A command workload (`kind = "command"`) runs the user's program
/// (`CommandWorkload`, docs/COMMAND_WORKLOADS.md); its metric lines are delivered in batches
/// as they arrive (at most every 50 ms).
///
/// `onMetrics`, `isCancelled` and `log` are called on the calling thread only. `isCancelled`
/// is polled between chunks of `eval_every` steps (built-in) or every 50 ms (command).
public struct SegmentRunner: Sendable {
    /// Kill a segment that runs longer than this many seconds (nil: no limit).
    public var wallClockLimit: Double?
    /// Fail a segment that uses more CPU seconds than this (nil: no limit). A command gets it
    /// as RLIMIT_CPU (through prlimit(1)); a built-in workload is checked between chunks.
    public var cpuTimeLimit: Double?
    /// Fail a segment whose memory exceeds this (nil: no limit). A command gets it as
    /// RLIMIT_AS (its address space); a built-in workload: the worker's resident size, checked
    /// between chunks.
    public var memoryLimitBytes: UInt64?
    /// Seconds between SIGTERM and SIGKILL when a command is stopped.
    public var killGracePeriod: Double
    /// How much of a command's stderr to keep.
    public var stderrTailBytes: Int
    /// A command's ordinary stdout lines and the runner's warnings.
    public var log: @Sendable (String) -> Void
    /// Built-in workloads are kept here from one segment to the next (see `WorkloadCache`).
    public var workloadCache = WorkloadCache()

    public init(
        wallClockLimit: Double? = nil, cpuTimeLimit: Double? = nil, memoryLimitBytes: UInt64? = nil,
        killGracePeriod: Double = 5, stderrTailBytes: Int = LineTail.defaultMaxBytes,
        log: @escaping @Sendable (String) -> Void = SegmentRunner.logToStandardError
    ) {
        self.wallClockLimit = wallClockLimit
        self.cpuTimeLimit = cpuTimeLimit
        self.memoryLimitBytes = memoryLimitBytes
        self.killGracePeriod = killGracePeriod
        self.stderrTailBytes = stderrTailBytes
        self.log = log
    }

    @Sendable public static func logToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Runs the segment to its end; never throws (every error is a `failed` outcome that says
    /// what to fix). Relative paths in the lease and the workload resolve against `workDirectory`.
    public func run(
        lease: Lease, workDirectory: URL, onMetrics: ([MetricPoint]) -> Void, isCancelled: () -> Bool = { false }
    ) -> SegmentResult {
        let t0 = Date()
        func fail(_ message: String) -> SegmentResult {
            SegmentResult(outcome: .failed(error: message, stderrTail: nil), seconds: Date().timeIntervalSince(t0))
        }
        guard case .object(let table) = lease.workload else {
            return fail("[workload] must be a table (JSON object), got \(lease.workload.jsonText)")
        }
        let settings: LeaseSettings
        do { settings = try LeaseSettings(lease: lease) } catch { return fail(Self.message(error)) }

        if table["kind"]?.stringValue == CommandWorkload.kind {
            let workload: CommandWorkload
            do { workload = try CommandWorkload(table: table) } catch { return fail(Self.message(error)) }
            // The worker's lines for this segment are also kept, for a failure's log.
            let lines = LineTail(), log = self.log
            let segmentLog: @Sendable (String) -> Void = { line in
                log(line)
                lines.append(line)
            }
            let ignored = workload.ignoredKeys.map { "[workload]: key '\($0)' is not used by kind 'command' (used: \(CommandWorkload.keys.sorted().joined(separator: ", ")))" }
            for w in ignored { segmentLog("warning: \(w)") }
            let segment = CommandSegment(
                lease: lease, workload: workload, seed: settings.seed, workDirectory: workDirectory,
                wallClockLimit: wallClockLimit, cpuTimeLimit: cpuTimeLimit, memoryLimitBytes: memoryLimitBytes,
                killGracePeriod: killGracePeriod, stderrTailBytes: stderrTailBytes, log: segmentLog)
            var result = segment.run(
                config: settings.programConfig, onMetrics: onMetrics, isCancelled: isCancelled)
            result.warnings = ignored + result.warnings
            result.warningCount += ignored.count
            result.workerLog = lines.text
            result.seconds = Date().timeIntervalSince(t0)
            return result
        }
        return runBuiltin(lease, table, settings, workDirectory, onMetrics, isCancelled, t0)
    }

    private func runBuiltin(
        _ lease: Lease, _ table: [String: RPCValue], _ settings: LeaseSettings, _ workDirectory: URL,
        _ onMetrics: ([MetricPoint]) -> Void, _ isCancelled: () -> Bool, _ t0: Date
    ) -> SegmentResult {
        func absolute(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path) : workDirectory.appendingPathComponent(path)
        }
        var segment = BuiltinSegment(
            workload: table.mapValues(JSONValue.init), baseDirectory: workDirectory.path, config: settings.config,
            seed: settings.seed, startStep: Int(lease.startStep), endStep: Int(lease.endStep), evalEvery: settings.evalEvery,
            noiseScale: settings.noiseScaleEvery > 0
                ? .init(
                    every: settings.noiseScaleEvery, smallBatch: settings.noiseBatches.small,
                    bigBatch: settings.noiseBatches.big, maxOverhead: settings.noiseMaxOverhead)
                : nil,
            restoreDirectory: lease.restoreCheckpoint.map(absolute), checkpointDirectory: absolute(lease.checkpointDir))
        segment.workloadCache = workloadCache
        segment.restoreMode = settings.restoreMode
        var metricCount = 0
        let limit = wallClockLimit, cpuLimit = cpuTimeLimit, memoryLimit = memoryLimitBytes
        let cpu0 = ResourceUsage.processCPUSeconds()
        let r: BuiltinSegment.Result
        do {
            r = try segment.run(
                Float.self, finalEvaluation: lease.endStep % Int64(settings.evalEvery) != 0,
                onRecord: { record in
                    let m = MetricLine.metrics(record)
                    metricCount += m.count
                    onMetrics(m)
                },
                shouldStop: {
                    if isCancelled() { return .cancelled }
                    if let limit, Date().timeIntervalSince(t0) > limit { return .timedOut(limit: limit) }
                    if let cpuLimit {
                        let used = ResourceUsage.processCPUSeconds() - cpu0
                        if used > cpuLimit { return .limit(.cpu(limitSeconds: cpuLimit, usedSeconds: used)) }
                    }
                    if let memoryLimit, let rss = ResourceUsage.residentBytes(), rss > memoryLimit {
                        return .limit(.memory(limitBytes: memoryLimit, usedBytes: rss))
                    }
                    return nil
                })
        } catch {
            return SegmentResult(
                outcome: .failed(error: Self.message(error), stderrTail: nil), metricCount: metricCount,
                seconds: Date().timeIntervalSince(t0))
        }
        var result = SegmentResult(outcome: .cancelled, metricCount: metricCount, seconds: 0)
        switch r.stopped {
        case .cancelled?: result.outcome = .cancelled
        case .timedOut(let limit)?: result.outcome = .timedOut(limitSeconds: limit, stderrTail: nil)
        case .limit(let l)?: result.outcome = .failed(error: "the workload " + l.message, stderrTail: nil)
        case nil:
            if r.diverged {
                result.outcome = .diverged(step: Int64(r.divergedAtStep ?? r.step))
            } else if let checkpoint = r.checkpoint {
                if let f = r.final, r.lastRecordStep != r.step, r.step > r.startStep {
                    let s = Int64(r.step)
                    // train_loss too (the mean minibatch loss since the last record), so that every
                    // segment ends with each metric a built-in workload reports.
                    var m = f.runningTrainLoss.map { [MetricPoint(step: s, name: "train_loss", value: $0)] } ?? []
                    m.append(MetricPoint(step: s, name: "val_loss", value: f.validationLoss))
                    if let a = f.validationAccuracy { m.append(MetricPoint(step: s, name: "val_accuracy", value: a)) }
                    m.append(MetricPoint(step: s, name: "lr", value: f.learningRate))
                    result.metricCount += m.count
                    onMetrics(m)
                }
                result.outcome = .ok(checkpoint)
            } else {
                result.outcome = .failed(error: "internal error: the segment ended without a checkpoint", stderrTail: nil)
            }
        }
        result.seconds = Date().timeIntervalSince(t0)
        return result
    }

    /// The user-facing message of an error from the workloads, the optimizers or the runner.
    public static func message(_ error: any Error) -> String {
        switch error {
        case let e as WorkloadError: e.message
        case let e as OptimizerError: e.message
        case let e as WorkerError: e.message
        default: "\(error)"
        }
    }
}
