import Foundation
import Testing
@testable import TunedOptim

/// Schedule-free AdamW/SGD and Adam-mini beyond their reference vectors: the train/eval
/// switch, checkpoints taken around it, state sizes, and refusals.
@Suite struct ScheduleFreeAndAdamMiniTests {
    static let shapes = [[5, 7], [7]]

    static func data(steps: Int, seed: UInt64 = 5) -> (initial: [Tensor<Double>], grads: [[Tensor<Double>]]) {
        var state = seed
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int64(bitPattern: state >> 11) % 2000 - 1000) / 500
        }
        let initial = shapes.map { Tensor(shape: $0, values: (0..<$0.reduce(1, *)).map { _ in next() }) }
        let grads = (0..<steps).map { _ in shapes.map { Tensor(shape: $0, values: (0..<$0.reduce(1, *)).map { _ in next() }) } }
        return (initial, grads)
    }

    static func make(_ name: String, _ hp: [String: JSONValue] = [:], shapes: [[Int]] = shapes) throws -> any Optimizer<Double> {
        try OptimizerRegistry.make(OptimizerSpec(name: name, hyperparameters: Hyperparameters(hp)), shapes: shapes)
    }

    /// A run that evaluates after steps 3 and 6 (eval, look, train) and is checkpointed after
    /// step 4 — and once more while in eval mode — resumes bit for bit.
    @Test(arguments: ["adamw_schedulefree", "sgd_schedulefree"])
    func resumeAroundEvalSwitchesIsBitExact(name: String) throws {
        let hp: [String: JSONValue] = ["lr": .number(0.05), "warmup_steps": .number(2), "weight_decay": .number(0.01)]
        let (initial, grads) = Self.data(steps: 8)
        var straight = try Self.make(name, hp)
        var p = initial
        var saved: (StateDict, [Tensor<Double>])? = nil
        var savedInEval: (StateDict, [Tensor<Double>])? = nil
        var evals: [[Tensor<Double>]] = []
        for k in 0..<8 {
            straight.step(&p, gradients: grads[k])
            if k == 3 { saved = (try StateDict(decoding: straight.saveState().encoded()), p) }
            if k == 2 || k == 5 {
                straight.enterEvalMode(&p)
                evals.append(p)
                if k == 5 { savedInEval = (straight.saveState(), p) }
                straight.enterTrainMode(&p)
            }
        }
        var resumed = try Self.make(name, hp)
        try resumed.restoreState(saved!.0)
        var q = saved!.1
        for k in 4..<8 {
            resumed.step(&q, gradients: grads[k])
            if k == 5 {
                resumed.enterEvalMode(&q)
                #expect(q == evals[1])
                resumed.enterTrainMode(&q)
            }
        }
        #expect(q == p && resumed.saveState() == straight.saveState())
        // Restored in eval mode, the optimizer knows it and goes back to y exactly as before.
        var fromEval = try Self.make(name, hp)
        try fromEval.restoreState(savedInEval!.0)
        var r = savedInEval!.1
        fromEval.enterTrainMode(&r)
        for k in 6..<8 { fromEval.step(&r, gradients: grads[k]) }
        #expect(r == p)
    }

    @Test func evalParametersAreXAndACopyLeavesTheRunAlone() throws {
        let (initial, grads) = Self.data(steps: 3)
        var o = try Self.make("adamw_schedulefree", ["lr": .number(0.1), "betas": .array([.number(0.8), .number(0.99)])])
        var p = initial
        // Before the first step there is no z: both switches leave the parameters alone.
        o.enterEvalMode(&p)
        #expect(p == initial)
        o.enterTrainMode(&p)
        for g in grads { o.step(&p, gradients: g) }
        let copy = o.evaluationParameters(p)
        let state = o.saveState()
        #expect(o.saveState() == state)
        var x = p
        o.enterEvalMode(&x)
        #expect(copy == x && x != p)
        // x = y + (1 − 1/β1)(z − y), elementwise.
        let z = try state.array("z.0", Double.self, count: 35)
        for j in 0..<35 {
            let y = p[0].values[j], want = y + (1 - 1 / 0.8) * (z[j] - y)
            #expect(abs(x[0].values[j] - want) <= 1e-12 * max(1, abs(want)))
        }
        #expect(try o.saveState().int("train_mode") == 0)
    }

    /// State bytes: z (+ v for AdamW) per element; Adam-mini m per element plus one v per
    /// output neuron of a `[fan_out, fan_in]` weight and per element of a bias.
    @Test func stateBytesAreTheBuffersHeld() throws {
        #expect(try Self.make("adamw_schedulefree").stateBytes == 2 * 42 * 8)
        #expect(try Self.make("sgd_schedulefree").stateBytes == 42 * 8)
        #expect(try Self.make("adam_mini").stateBytes == (42 + 5 + 7) * 8)
        let layer = try OptimizerRegistry.make(OptimizerSpec(name: "adam_mini"), shapes: [[1024, 1024]], scalar: Float.self)
        #expect(layer.stateBytes == (1024 * 1024 + 1024) * 4)
        let whole = try Self.make("adam_mini", ["named_parameters": .array([.string("fc.weight"), .string("norm.weight")])])
        #expect(whole.stateBytes == (42 + 1 + 1) * 8)
    }

    /// The figures docs/OPTIMIZERS.md quotes: state bytes per parameter in Float on the digits
    /// MLP 64-64-10 (weights [64,64], [10,64], biases [64], [10]) and on one 1024×1024 layer.
    @Test func stateBytesPerParameterOnTheDigitsMLPAndA1024Layer() throws {
        let mlp = [[64, 64], [64], [10, 64], [10]], layer = [[1024, 1024]]
        func perParameter(_ name: String, _ shapes: [[Int]]) throws -> Double {
            try OptimizerRegistry.make(OptimizerSpec(name: name), shapes: shapes, scalar: Float.self).stateBytesPerParameter(shapes: shapes)
        }
        var table: [String] = []
        for name in ["adamw", "adamw_schedulefree", "sgd_schedulefree", "adam_mini"] {
            let a = try perParameter(name, mlp), b = try perParameter(name, layer)
            table.append("\(name): digits MLP \(a), 1024x1024 \(b)")
        }
        print(table.joined(separator: "\n"))
        #expect(try perParameter("adamw_schedulefree", layer) == 8 && perParameter("sgd_schedulefree", layer) == 4)
        #expect(try perParameter("adam_mini", layer) == Double(1024 * 1024 + 1024) * 4 / Double(1024 * 1024))
        #expect(try perParameter("adam_mini", mlp) == Double(4810 + 64 + 64 + 10 + 10) * 4 / 4810)
    }

    /// The partition follows the name: per neuron for MLP weights, per element for biases,
    /// one value otherwise, per head for query/key weights.
    @Test func adamMiniPartitionsByName() throws {
        func parts(_ names: [String], _ shapes: [[Int]], _ hp: [String: JSONValue] = [:]) throws -> [AdamMini<Double>.Partition] {
            var h = hp
            h["named_parameters"] = .array(names.map { .string($0) })
            return try AdamMini<Double>(Hyperparameters(h), shapes: shapes).partitions
        }
        #expect(try parts(["mlp.0.weight", "mlp.0.bias"], [[5, 7], [5]]) == [.blocks(size: 7, divisor: 7), .elementwise])
        #expect(try parts(["Model.Linear1.WEIGHT"], [[3, 4]]) == [.blocks(size: 4, divisor: 4)])
        #expect(try parts(["fc.weight"], [[3, 4]]) == [.blocks(size: 12, divisor: 12)])
        #expect(try parts(["attn.q_proj.weight"], [[4, 4]], ["dim": .number(4), "n_heads": .number(2)]) == [.blocks(size: 8, divisor: 8)])
        // numel is rounded to float32 for the whole-tensor mean, as the reference does.
        #expect(try parts(["w"], [[16_777_217]]) == [.blocks(size: 16_777_217, divisor: 16_777_216)])
    }

    @Test(arguments: [
        ("adamw_schedulefree", #"{"betas": [0.0, 0.999]}"#, "betas"),
        ("adamw_schedulefree", #"{"lr": -0.1}"#, "lr"),
        ("adamw_schedulefree", #"{"weight_lr_power": -1}"#, "weight_lr_power"),
        ("adamw_schedulefree", #"{"momentum": 0.9}"#, "momentum"),
        ("sgd_schedulefree", #"{"momentum": 1.0}"#, "momentum"),
        ("sgd_schedulefree", #"{"warmup_steps": 1.5}"#, "warmup_steps"),
        ("sgd_schedulefree", #"{"betas": [0.9, 0.99]}"#, "betas"),
        ("adam_mini", #"{"named_parameters": ["mlp.0.weight"]}"#, "named_parameters"),
        ("adam_mini", #"{"named_parameters": ["mlp.0.weight", "mlp.0.linear"]}"#, "named_parameters"),
        ("adam_mini", #"{"named_parameters": ["q_proj.weight", "b.bias"], "dim": 4, "n_heads": 3}"#, "n_heads"),
        ("adam_mini", #"{"named_parameters": ["q_proj.weight", "b.bias"], "dim": 4, "n_heads": 2}"#, "dim"),
        ("adam_mini", #"{"n_kv_heads": 5}"#, "n_kv_heads"),
        ("adam_mini", #"{"amsgrad": true}"#, "amsgrad"),
    ])
    func badHyperparametersAreErrorsNamingTheKey(_ name: String, _ json: String, _ key: String) throws {
        let hp = try Hyperparameters(json: JSONValue.parse(Data(json.utf8)))
        do {
            _ = try OptimizerRegistry.make(OptimizerSpec(name: name, hyperparameters: hp), shapes: Self.shapes, scalar: Double.self)
            Issue.record("\(name) \(json) was accepted")
        } catch let e as OptimizerError {
            #expect(e.message.contains("'\(key)'"), "\(e.message)")
        }
    }

    @Test func trialConfigurationsReachTheReferenceKeywords() throws {
        let sf = try OptimizerSpec.fromTrial([
            "optimizer": .string("adamw_schedulefree"), "lr": .number(0.01), "beta1": .number(0.95), "warmup_steps": .number(10),
            "r": .number(0.5), "weight_lr_power": .number(1), "momentum": .number(0.3),
        ])
        #expect(sf.hyperparameters.values["betas"] == .array([.number(0.95), .number(0.999)]))
        #expect(sf.hyperparameters.values["warmup_steps"] == .number(10) && sf.hyperparameters.values["momentum"] == nil)
        let sgd = try OptimizerSpec.fromTrial(["optimizer": .string("sgd_schedulefree"), "momentum": .number(0.8), "beta1": .number(0.5)])
        #expect(sgd.hyperparameters.values == ["momentum": .number(0.8)])
        #expect(OptimizerSpec.trialKeysUsed(by: "adam_mini") == ["lr", "weight_decay", "eps", "beta1", "beta2"])
        for name in ["adamw_schedulefree", "sgd_schedulefree", "adam_mini"] {
            #expect(OptimizerRegistry.torchNames.contains(name))
        }
    }
}
