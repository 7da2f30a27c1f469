import Foundation
import Testing
import TunedRPC
import TunedWorker

/// Per-segment memory, CPU-time and wall-clock limits on real command workloads (python3
/// children under prlimit) and on a built-in workload (checked between chunks).
@Suite struct WorkerLimitTests {
    static let behaviour = """
        import os, sys, time, json
        mode = sys.argv[1] if len(sys.argv) > 1 else str(int(json.loads(os.environ["TUNED_CONFIG"])["lr"]))
        if mode in ("alloc", "2"):
            hog = bytearray(1 << 30)          # 1 GiB, past a 128 MiB limit
        elif mode in ("burn", "3"):
            while True: pass                  # CPU until RLIMIT_CPU
        elif mode in ("sleep", "4"):
            time.sleep(600)                   # past the wall-clock limit
        end = int(os.environ["TUNED_END_STEP"])
        print(f"tuned: step={end} val_loss=0.5", flush=True)
        """

    func lease(_ mode: String, dir: URL) -> Lease {
        let workload: RPCValue = .object([
            "kind": .string("command"), "command": .array(["python3", .string(dir.appendingPathComponent("b.py").path), .string(mode)]),
        ])
        return Lease(
            segmentID: 1, taskID: 1, trialID: 1, config: .object(["lr": .double(1)]), startStep: 0, endStep: 10,
            restoreCheckpoint: nil, checkpointDir: dir.appendingPathComponent("ck").path, leaseSeconds: 10, workload: workload, strategy: nil)
    }

    func run(_ mode: String, _ runner: SegmentRunner) throws -> SegmentResult {
        let dir = Ops.scratch("limit")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.behaviour.write(to: dir.appendingPathComponent("b.py"), atomically: true, encoding: .utf8)
        var r = runner
        r.log = { _ in }
        r.killGracePeriod = 1
        return r.run(lease: lease(mode, dir: dir), workDirectory: dir, onMetrics: { _ in })
    }

    func error(_ r: SegmentResult) -> String {
        if case .failed(let e, _) = r.outcome { return e }
        return r.finishParams(workerID: "w", segmentID: 1).error ?? "\(r.outcome)"
    }

    @Test func aCommandWithinItsLimitsSucceeds() throws {
        let r = try run("ok", SegmentRunner(wallClockLimit: 30, cpuTimeLimit: 10, memoryLimitBytes: 256 << 20))
        #expect(r.outcome.isOK, "\(r.outcome) \(r.stderrTail ?? "")")
    }

    @Test func aCommandThatAllocatesPastItsMemoryLimitFailsNamingIt() throws {
        let r = try run("alloc", SegmentRunner(memoryLimitBytes: 128 << 20))
        #expect(error(r).contains("python3 exceeded the memory limit of 128 MiB per segment"), "\(r.outcome)")
        #expect(error(r).contains("[limits] segment_memory_mb"))
        #expect(r.stderrTail?.contains("MemoryError") == true, "\(r.stderrTail ?? "")")
    }

    @Test func aCommandThatBurnsCPUPastItsLimitIsKilledNamingIt() throws {
        let r = try run("burn", SegmentRunner(wallClockLimit: 60, cpuTimeLimit: 1))
        #expect(error(r).contains("python3 exceeded the CPU-time limit of 1 s per segment"), "\(r.outcome)")
        #expect(error(r).contains("[limits] segment_cpu_seconds"))
        #expect(r.seconds < 60)
    }

    @Test func aCommandThatSleepsPastItsWallLimitIsKilledNamingIt() throws {
        let r = try run("sleep", SegmentRunner(wallClockLimit: 1))
        #expect(error(r).contains("wall-clock limit of 1 s per segment ([limits] segment_wall_seconds"), "\(r.outcome)")
    }

    func builtin(_ runner: SegmentRunner) -> SegmentResult {
        let dir = Ops.scratch("builtin")
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload: RPCValue = .object([
            "kind": .string("mlp"), "dataset": .string(Ops.repositoryRoot.appendingPathComponent("datasets/digits.csv").path),
            "target": .string("target"), "hidden": .array([.int(32)]),
        ])
        let l = Lease(
            segmentID: 1, taskID: 1, trialID: 1, config: .object(["optimizer": .string("sgd"), "lr": .double(0.05)]),
            startStep: 0, endStep: 5000, restoreCheckpoint: nil, checkpointDir: dir.appendingPathComponent("ck").path,
            leaseSeconds: 10, workload: workload, strategy: .object(["eval_every": .int(10)]))
        var r = runner
        r.log = { _ in }
        return r.run(lease: l, workDirectory: dir, onMetrics: { _ in })
    }

    @Test func aBuiltinWorkloadOverItsCPUOrMemoryLimitFailsNamingIt() {
        let cpu = builtin(SegmentRunner(cpuTimeLimit: 0.05))
        #expect(error(cpu).contains("the workload exceeded the CPU-time limit of 0.05 s per segment"), "\(cpu.outcome)")
        // The worker's own resident size is over 1 MiB before the first chunk ends.
        let mem = builtin(SegmentRunner(memoryLimitBytes: 1 << 20))
        #expect(error(mem).contains("the workload exceeded the memory limit of 1 MiB per segment, reached"), "\(mem.outcome)")
    }
}
