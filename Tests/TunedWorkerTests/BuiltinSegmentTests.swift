import Foundation
import Testing
import TunedOptim
import TunedRPC
import TunedWorkloads
@testable import TunedWorker

@Suite struct BuiltinSegmentTests {
    static var digits: RPCValue {
        .object(["kind": .string("mlp"), "dataset": .string(Fixture.digits), "hidden": .array([.int(16)])])
    }
    static let adam: RPCValue = .object(["optimizer": .string("adam"), "lr": .double(0.003), "batch_size": .int(32)])
    static let strategy: RPCValue = .object(["eval_every": .int(10)])

    /// 0→40 in one segment, and 0→20 + 20→40 through a checkpoint: the same metric rows
    /// bit for bit, and the same checkpoint bytes (equal checksums).
    @Test func twoHalvesEqualOneRun() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let (whole, wm) = run(lease(workload: Self.digits, config: Self.adam, end: 40, checkpointDir: s.path("whole"), strategy: Self.strategy), in: s.url)
        let (first, fm) = run(lease(workload: Self.digits, config: Self.adam, end: 20, checkpointDir: s.path("a"), strategy: Self.strategy), in: s.url)
        let (second, sm) = run(lease(workload: Self.digits, config: Self.adam, start: 20, end: 40, restore: s.path("a"), checkpointDir: s.path("b"), strategy: Self.strategy, segment: 4), in: s.url)
        let w = try #require(whole.outcome.checkpoint), a = try #require(first.outcome.checkpoint), b = try #require(second.outcome.checkpoint)
        #expect(a.step == 20 && b.step == 40 && w.step == 40)
        #expect(b.checksum == w.checksum && b.size == w.size)
        #expect(w.checksum.hasPrefix("sha256:") && w.checksum.count == 71)
        #expect(a.checksum != w.checksum)
        let joined = fm.metrics + sm.metrics
        #expect(joined.count == wm.metrics.count && joined.count == 16)
        for (x, y) in zip(joined, wm.metrics) {
            #expect(x.step == y.step && x.name == y.name && x.value.bitPattern == y.value.bitPattern, "\(x) vs \(y)")
        }
    }

    @Test func metricsAreStreamedPerRecordWithTheirNamesAndSteps() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let (result, c) = run(lease(workload: Self.digits, config: Self.adam, end: 25, checkpointDir: s.path("ck"), strategy: Self.strategy), in: s.url)
        #expect(result.outcome.isOK)
        // One batch per record (10, 20), then the final state at 25 (not a record step), with
        // the mean minibatch loss of steps 21–25 as its train_loss.
        #expect(c.batches.map { $0.map(\.step) } == [[10, 10, 10, 10], [20, 20, 20, 20], [25, 25, 25, 25]])
        #expect(c.batches[0].map(\.name) == ["train_loss", "val_loss", "val_accuracy", "lr"])
        #expect(c.batches[2].map(\.name) == ["train_loss", "val_loss", "val_accuracy", "lr"])
        #expect(c.metrics.allSatisfy { $0.value.isFinite })
        #expect(c.batches[0][3].value == 0.003)
        #expect(result.metricCount == 12)
        #expect(FileManager.default.fileExists(atPath: s.path("ck/checkpoint.tck")))
    }

    @Test func strategyMeasuresNoiseScaleAndMergesHypergradient() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let strategy: RPCValue = .object([
            "eval_every": .int(10), "noise_scale_every": .int(2), "noise_batches": .array([.int(4), .int(16)]),
            "hypergradient": .object(["beta": .double(1e-4), "lr_min": .double(1e-5), "lr_max": .double(0.1)]),
        ])
        let (result, c) = run(lease(workload: Self.digits, config: Self.adam, end: 30, checkpointDir: s.path("ck"), strategy: strategy), in: s.url)
        #expect(result.outcome.isOK)
        #expect(c.metrics.contains { $0.name == "gradient_noise_scale" && $0.step == 30 })
        // Hypergradient descent moves the learning rate away from the configured 0.003.
        let lrs = c.metrics.filter { $0.name == "lr" }.map(\.value)
        #expect(lrs.count == 3 && lrs.contains { $0 != 0.003 })

        let settings = try LeaseSettings(lease: lease(
            workload: Self.digits,
            config: .object(["optimizer": .string("sgd"), "lr": .double(0.1), "hypergradient_lr_max": .double(1)]),
            end: 1, checkpointDir: "x", strategy: strategy, task: 42))
        #expect(settings.config["hypergradient_beta"] == .number(1e-4))
        #expect(settings.config["hypergradient_lr_min"] == .number(1e-5))
        #expect(settings.config["hypergradient_lr_max"] == .number(1))  // the config's own value wins
        #expect(settings.seed == 42 && settings.evalEvery == 10 && settings.noiseScaleEvery == 2)
        #expect(settings.config["hypergradient_kind"] == nil)

        let multiplicative = try LeaseSettings(lease: lease(
            workload: Self.digits, config: Self.adam, end: 1, checkpointDir: "x",
            strategy: .object(["hypergradient": .object(["kind": .string("multiplicative"), "beta": .double(0.02)])]), task: 42))
        #expect(multiplicative.config["hypergradient_kind"] == .string("multiplicative"))
    }

    @Test func aBadConfigFailsNamingTheKey() {
        let s = Scratch()
        defer { s.cleanup() }
        let config: RPCValue = .object(["optimizer": .string("adam"), "lr": .double(0.01), "learning_rat": .double(1)])
        let (result, c) = run(lease(workload: Self.digits, config: config, end: 10, checkpointDir: s.path("ck")), in: s.url)
        let f = result.outcome.failure
        #expect(f?.error.contains("'learning_rat'") == true, "\(result.outcome)")
        #expect(c.metrics.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: s.path("ck")))
    }

    @Test func aMissingDatasetOrAnUnknownKindFails() {
        let s = Scratch()
        defer { s.cleanup() }
        let missing: RPCValue = .object(["kind": .string("mlp"), "dataset": .string("/nonexistent/digits.csv")])
        let (r1, _) = run(lease(workload: missing, end: 10, checkpointDir: s.path("ck")), in: s.url)
        #expect(r1.outcome.failure?.error.contains("/nonexistent/digits.csv") == true, "\(r1.outcome)")
        let unknown: RPCValue = .object(["kind": .string("transformer")])
        let (r2, _) = run(lease(workload: unknown, end: 10, checkpointDir: s.path("ck")), in: s.url)
        #expect(r2.outcome.failure?.error.contains("unknown kind 'transformer'") == true, "\(r2.outcome)")
    }

    @Test func aCheckpointOfAnotherWorkloadOrStepIsRefused() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let (r, _) = run(lease(workload: Self.digits, config: Self.adam, end: 10, checkpointDir: s.path("a"), strategy: Self.strategy), in: s.url)
        #expect(r.outcome.isOK)
        let wider: RPCValue = .object(["kind": .string("mlp"), "dataset": .string(Fixture.digits), "hidden": .array([.int(8)])])
        let (r1, _) = run(lease(workload: wider, config: Self.adam, start: 10, end: 20, restore: s.path("a"), checkpointDir: s.path("b")), in: s.url)
        #expect(r1.outcome.failure?.error.contains("checkpoint belongs to workload") == true, "\(r1.outcome)")
        let (r2, _) = run(lease(workload: Self.digits, config: Self.adam, start: 15, end: 20, restore: s.path("a"), checkpointDir: s.path("b")), in: s.url)
        #expect(r2.outcome.failure?.error.contains("at step 10, the segment starts at step 15") == true, "\(r2.outcome)")
        let (r3, _) = run(lease(workload: Self.digits, config: Self.adam, start: 10, end: 20, checkpointDir: s.path("b")), in: s.url)
        #expect(r3.outcome.failure?.error.contains("no checkpoint to restore from") == true, "\(r3.outcome)")
    }

    @Test func aNonFiniteLossIsDivergence() {
        let s = Scratch()
        defer { s.cleanup() }
        let rosenbrock: RPCValue = .object(["kind": .string("rosenbrock")])
        let config: RPCValue = .object(["optimizer": .string("sgd"), "lr": .double(10)])
        let (r, _) = run(lease(workload: rosenbrock, config: config, end: 200, checkpointDir: s.path("ck")), in: s.url)
        guard case .diverged(let step) = r.outcome else {
            Issue.record("expected divergence, got \(r.outcome)")
            return
        }
        #expect(step > 0 && step < 200)
        #expect(r.finishParams(workerID: "w", segmentID: 3).status == .diverged)
    }

    @Test func cancellingStopsAtARecordBoundaryWithoutACheckpoint() {
        let s = Scratch()
        defer { s.cleanup() }
        var asked = 0
        let (r, c) = run(lease(workload: Self.digits, config: Self.adam, end: 1000, checkpointDir: s.path("ck"), strategy: Self.strategy), in: s.url) {
            asked += 1
            return asked > 2
        }
        #expect(r.outcome == .cancelled)
        #expect(c.batches.map { $0[0].step } == [10, 20])
        #expect(!FileManager.default.fileExists(atPath: s.path("ck")))
        let finish = r.finishParams(workerID: "w", segmentID: 3)
        #expect(finish.status == .failed && finish.checkpoint == nil)
    }

    /// The daemon's default B_simple measurement keeps its extra gradients (B_big examples per
    /// measurement) within 2 % of the training's: batch 64 keeps the interval, batch 1 stretches it.
    @Test func noiseScaleIntervalKeepsTheMeasurementsOverheadBounded() {
        let n = BuiltinSegment.NoiseScaleSettings(every: 500, smallBatch: 8, bigBatch: 128, maxOverhead: 0.02)
        #expect(n.interval(trainBatch: 64) == 500)
        #expect(n.interval(trainBatch: 8) == 800)
        #expect(n.interval(trainBatch: 1) == 6400)
        #expect(n.interval(trainBatch: nil) == 500)
        #expect(BuiltinSegment.NoiseScaleSettings(every: 500).interval(trainBatch: 1) == 500)
    }
}
