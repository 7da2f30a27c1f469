import Foundation
import Testing
import TunedOptim
@testable import TunedWorkloads

/// A one-parameter workload whose loss is the batch index (NaN from `nanFrom` on) and whose
/// gradient is the batch index, so that tests can see which batch each step used.
struct BatchEcho: Workload {
    typealias Scalar = Double
    var nanFrom = Int.max
    var kind: String { "echo" }
    var parameterShapes: [[Int]] { [[1]] }
    func initialParameters(seed: UInt64) -> [Tensor<Double>] { [Tensor(shape: [1], values: [0])] }
    func lossAndGradient(_ params: [Tensor<Double>], batch: Int, seed: UInt64, batchSize: Int?, gradients: inout [Tensor<Double>]) -> Double {
        gradients = [Tensor(shape: [1], values: [Double(batch)])]
        return batch >= nanFrom ? .nan : Double(batch)
    }
    func evaluate(_ params: [Tensor<Double>]) -> Metrics { Metrics(trainLoss: 0, validationLoss: params[0].values[0]) }
    var features: TaskFeatures { TaskFeatures(modelKind: kind, parameterCount: 1, taskType: "optimization") }
}

/// Records the gradients it is given; `callsPerUpdate` 2 behaves like SAM for batching.
struct RecordingOptimizer: Optimizer {
    typealias Scalar = Double
    var name: String
    var callsPerUpdate = 1
    var gradientCallsPerUpdate: Int { callsPerUpdate }
    var learningRate = 0.5
    var stepCount = 0
    var seen: [Double] = []
    mutating func step(_ params: inout [Tensor<Double>], gradients: [Tensor<Double>]) {
        stepCount += 1
        seen.append(gradients[0].values[0])
        params[0].values[0] += 1
    }
    var stateBytes: Int { 0 }
    func saveState() -> StateDict { StateDict() }
    mutating func restoreState(_ state: StateDict) throws {}
}

@Suite struct TrainerTests {
    @Test func samSeesEachMinibatchTwiceOthersOnce() throws {
        var sam = try Trainer(workload: BatchEcho(), optimizer: RecordingOptimizer(name: "sam", callsPerUpdate: 2), seed: 0)
        sam.run(until: 6)
        #expect((sam.optimizer as! RecordingOptimizer).seen == [0, 0, 1, 1, 2, 2])
        var plain = try Trainer(workload: BatchEcho(), optimizer: RecordingOptimizer(name: "sgd"), seed: 0)
        plain.run(until: 4)
        #expect((plain.optimizer as! RecordingOptimizer).seen == [0, 1, 2, 3])
    }

    @Test func samInsideAScheduleAndHypergradientStillPairsMinibatches() throws {
        let spec = OptimizerSpec(name: "sam", hyperparameters: Hyperparameters(["optimizer": .object(["name": .string("sgd")])]))
        let sam: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [[1]])
        let wrapped = Hypergradient(
            inner: Scheduled(inner: sam, schedule: .constant), hypergradLR: 1e-3,
            bounds: LearningRateBounds(min: 0, max: 1), shapes: [[1]])
        let t = try Trainer(workload: BatchEcho(), optimizer: wrapped, seed: 0)
        #expect(t.gradientCallsPerBatch == 2)
        #expect((0..<6).map(t.batchIndex(forStep:)) == [0, 0, 1, 1, 2, 2])
    }

    @Test func recordsCarryTheRunningMeanOfMinibatchLossesAcrossSegments() throws {
        var t = try Trainer(workload: BatchEcho(), optimizer: RecordingOptimizer(name: "sgd"), seed: 0, evalEvery: 4)
        var streamed: [TrainingRecord] = []
        let a = t.run(until: 6) { streamed.append($0) }
        let b = t.run(until: 8) { streamed.append($0) }
        #expect(a.records.map(\.step) == [4] && b.records.map(\.step) == [8])
        #expect(a.records[0].trainLoss == 1.5)  // mean of batches 0…3
        #expect(b.records[0].trainLoss == 5.5)  // mean of batches 4…7, split over two runs
        #expect(b.records[0].validationLoss == 8 && b.records[0].learningRate == 0.5)
        #expect(streamed == a.records + b.records)
    }

    @Test func nonFiniteLossStopsTheRunAsDiverged() throws {
        var t = try Trainer(workload: BatchEcho(nanFrom: 3), optimizer: RecordingOptimizer(name: "sgd"), seed: 0, evalEvery: 2)
        let r = t.run(until: 10)
        #expect(r.diverged && r.divergedAtStep == 3 && r.step == 3)
        #expect(t.parameters[0].values[0] == 3)  // the NaN step's update was not applied
        #expect(t.run(until: 10).diverged)
    }

    @Test func explodingLearningRateIsReportedAsDiverged() throws {
        let model = try DenseModel<Float>(dataset: DataFixture.diabetes, config: DenseModelConfig(kind: .mlp, hidden: [8]))
        var t = try Trainer(workload: model, optimizer: OptimizerSpec(name: "sgd", hyperparameters: Hyperparameters(["lr": .number(1e4)])), seed: 0)
        let r = t.run(until: 2000)
        #expect(r.diverged && r.divergedAtStep != nil && r.step < 2000)
    }

    @Test func muonTakesTheMatricesAndTheFallbackTheBiases() throws {
        let model = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [16]))
        var t = try Trainer(workload: model, optimizer: OptimizerSpec(name: "muon"), seed: 0)
        #expect(t.optimizer is MatrixSplitOptimizer<Float> && t.optimizer.name == "muon")
        let start = t.parameters
        t.run(until: 5)
        for i in start.indices { #expect(t.parameters[i] != start[i], "tensor \(i) was not updated") }
        let keys = t.optimizer.saveState().keys
        #expect(keys.contains { $0.hasPrefix("matrices.") } && keys.contains { $0.hasPrefix("others.") })
    }

    @Test func trainsAWorkloadBuiltByTheFactory() throws {
        let table: [String: JSONValue] = [
            "kind": .string("softmax"), "dataset": .string(DataFixture.path("digits.csv")), "batch_size": .number(32),
        ]
        let w: any Workload<Float> = try WorkloadFactory.make(table)
        var t = try Trainer(workload: AnyWorkload(w), optimizer: OptimizerSpec(name: "sgd", hyperparameters: Hyperparameters(["lr": .number(0.1)])), seed: 0, evalEvery: 100)
        let r = t.run(until: 300)
        #expect(r.records.count == 3 && (r.records.last?.validationAccuracy ?? 0) > 0.85)
        // The erased workload keeps the model's identity, so its checkpoints match.
        #expect(AnyWorkload(w).identity(seed: 3) == (w as! DenseModel<Float>).identity(seed: 3))
    }

    /// Adam, lr 1e-3, batch 64, 2,000 steps, Float: validation accuracy ≈ 0.97 on the
    /// 359 held-out digits (0.9 is the bar).
    @Test func digitsMLPWithAdamReachesNinetyPercent() throws {
        let model = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [64]))
        var t = try Trainer(workload: model, optimizer: OptimizerSpec(name: "adam"), seed: 0, evalEvery: 500)
        let r = t.run(until: 2000)
        let acc = r.records.last?.validationAccuracy ?? 0
        print("digits MLP 64-64-10, Adam, 2000 steps: validation accuracy \(acc), loss \(r.records.last?.validationLoss ?? .nan)")
        #expect(!r.diverged && acc > 0.9)
    }
}

@Suite struct TrainerNoiseScaleTests {
    func nqmTrainer() throws -> Trainer<NoisyQuadratic<Double>> {
        let nqm = try NoisyQuadratic<Double>(dimension: 50, batchSize: 8)
        var t = try Trainer(
            workload: nqm, optimizer: OptimizerSpec(name: "sgd", hyperparameters: Hyperparameters(["lr": .number(0.1)])),
            seed: 3, evalEvery: 10)
        try t.measureNoiseScale(every: 5, smallBatch: 4, bigBatch: 32)
        return t
    }

    @Test func recordsCarryTheOnlineNoiseScaleNearTheClosedForm() throws {
        var t = try nqmTrainer()
        let start = t.parameters[0].values
        let closedForm = t.workload.simpleNoiseScale(start)!
        // Measure at (almost) the start: the first measurement comes after 5 small steps.
        let records = t.run(until: 10).records
        let measured = try #require(records.last?.gradientNoiseScale)
        // One or two measurements are noisy: only the order of magnitude is asserted here;
        // NoiseScaleTests checks the estimator to 5 % with many measurements.
        #expect(measured > closedForm / 10 && measured < closedForm * 10, "measured \(measured), closed form \(closedForm)")
    }

    @Test func resumingKeepsTheEstimatorBitForBit() throws {
        var straight = try nqmTrainer()
        let full = straight.run(until: 60).records
        var first = try nqmTrainer()
        let head = first.run(until: 25).records
        var resumed = try nqmTrainer()
        try resumed.restore(Checkpoint(stateDict: first.checkpoint().stateDict()))
        let tail = resumed.run(until: 60).records
        #expect(head + tail == full)
        #expect(resumed.noiseScale == straight.noiseScale)
        #expect(full.last?.gradientNoiseScale != nil)
    }

    @Test func badMeasurementSettingsAreErrors() throws {
        var t = try nqmTrainer()
        #expect(throws: WorkloadError.self) { try t.measureNoiseScale(every: 0, smallBatch: 4, bigBatch: 32) }
        #expect(throws: WorkloadError.self) { try t.measureNoiseScale(every: 5, smallBatch: 5, bigBatch: 32) }
        #expect(throws: (any Error).self) { try t.measureNoiseScale(every: 5, smallBatch: 32, bigBatch: 4) }
    }
}

/// Schedule-free optimizers are evaluated at x (their eval-mode parameters) and train at y;
/// the switch must neither break resumes nor leak into training.
@Suite struct TrainerScheduleFreeTests {
    func trainer(_ name: String, evalEvery: Int) throws -> Trainer<DenseModel<Double>> {
        let model = try DenseModel<Double>(dataset: DataFixture.digits, config: .mlp(hidden: [8]))
        let hp: [String: JSONValue] = ["lr": .number(name == "sgd_schedulefree" ? 0.5 : 0.01), "warmup_steps": .number(4)]
        return try Trainer(workload: model, optimizer: OptimizerSpec(name: name, hyperparameters: Hyperparameters(hp)), seed: 1, evalEvery: evalEvery)
    }

    @Test(arguments: ["adamw_schedulefree", "sgd_schedulefree"])
    func recordsAreAtXAndResumesAreBitExact(name: String) throws {
        // The record at step 10 is the workload's evaluation at x, not at y.
        var quiet = try trainer(name, evalEvery: 1000)
        quiet.run(until: 10)
        let atX = quiet.evaluate()
        #expect(atX != quiet.workload.evaluate(quiet.parameters))
        var straight = try trainer(name, evalEvery: 5)
        let full = straight.run(until: 23).records
        #expect(full[1].step == 10 && full[1].validationLoss == atX.validationLoss)
        // Stopped at 12 (not a record step), evaluated there (the final evaluation of a
        // segment), checkpointed, resumed: the same records and weights as never stopping.
        var first = try trainer(name, evalEvery: 5)
        let head = first.run(until: 12).records
        let before = first.parameters
        _ = first.evaluate()
        #expect(first.parameters == before)
        var resumed = try trainer(name, evalEvery: 5)
        try resumed.restore(Checkpoint(stateDict: first.checkpoint().stateDict()))
        let tail = resumed.run(until: 23).records
        #expect(head + tail == full)
        #expect(resumed.parameters == straight.parameters)
        #expect(resumed.optimizer.saveState() == straight.optimizer.saveState())
    }
}
