import Foundation
import Testing
@testable import TunedOptim

/// Deterministic normal samples (SplitMix64 + Box–Muller), so every test is reproducible.
struct SeededNormals {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Double {
        func u(_ s: inout UInt64) -> Double {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 9_007_199_254_740_992
        }
        let a = u(&state), b = u(&state)
        return (-2 * log(a)).squareRoot() * cos(2 * .pi * b)
    }
    mutating func array(_ n: Int) -> [Double] { (0..<n).map { _ in next() } }
}

/// One optimizer configuration under test.
struct ElementwiseCase: CustomStringConvertible, Sendable {
    var name: String
    var library: OptimizerLibrary = .torch
    var hp: [String: JSONValue] = [:]
    var spec: OptimizerSpec { OptimizerSpec(name: name, library: library, hyperparameters: Hyperparameters(hp)) }
    var description: String { "\(library.rawValue).\(name) \(hp.keys.sorted())" }
}

let elementwiseCases: [ElementwiseCase] = [
    .init(name: "sgd", hp: ["lr": .number(0.05), "momentum": .number(0.9), "dampening": .number(0.5)]),
    .init(name: "momentum"),
    .init(name: "nesterov", hp: ["weight_decay": .number(0.01)]),
    .init(name: "adagrad", hp: ["lr_decay": .number(0.01), "weight_decay": .number(0.05), "initial_accumulator_value": .number(0.1)]),
    .init(name: "rmsprop", hp: ["centered": .bool(true), "momentum": .number(0.9), "weight_decay": .number(0.01)]),
    .init(name: "rmsprop", hp: ["alpha": .number(0.9)]),
    .init(name: "adam", hp: ["amsgrad": .bool(true), "weight_decay": .number(0.1)]),
    .init(name: "adam", hp: ["decoupled_weight_decay": .bool(true), "weight_decay": .number(0.1), "maximize": .bool(true)]),
    .init(name: "adamw", hp: ["amsgrad": .bool(true), "lr": .number(0.01)]),
    .init(name: "nadam", hp: ["decoupled_weight_decay": .bool(true), "weight_decay": .number(0.1)]),
    .init(name: "radam", hp: ["betas": .array([.number(0.9), .number(0.99)]), "weight_decay": .number(0.1)]),
    .init(name: "adafactor", hp: ["weight_decay": .number(0.1), "d": .number(2)]),
    .init(name: "lion", hp: ["lr": .number(1e-3), "weight_decay": .number(0.1)]),
    .init(name: "lion", library: .lionPytorch, hp: ["lr": .number(1e-3), "weight_decay": .number(0.1), "decoupled_weight_decay": .bool(true)]),
    .init(name: "tiger"),
    .init(name: "lars", hp: ["weight_decay": .number(1e-4)]),
    .init(name: "lamb"),
    .init(name: "lion", library: .optax, hp: ["name": .string("optax.lion"), "learning_rate": .number(1e-3)]),
    .init(name: "sgd", library: .optax, hp: ["name": .string("optax.sgd"), "learning_rate": .number(0.1), "momentum": .number(0.9), "nesterov": .bool(true)]),
    .init(name: "adam", library: .optax, hp: ["name": .string("optax.adam"), "learning_rate": .number(1e-2), "eps_root": .number(1e-8)]),
]

/// Runs `steps` steps from a seeded start on tensors of `shapes`; gradients are seeded
/// normals with one all-zero step and one step scaled by 1e3, like the reference vectors.
func gradientsFor<S: TunedScalar>(_ shapes: [[Int]], steps: Int, seed: UInt64, _: S.Type) -> (initial: [Tensor<S>], grads: [[Tensor<S>]]) {
    var rng = SeededNormals(seed: seed)
    let initial = shapes.map { Tensor(shape: $0, values: rng.array($0.reduce(1, *)).map { S($0) }) }
    let grads = (0..<steps).map { k in
        shapes.map { shape in
            let scale = k == 3 ? 0.0 : (k == 5 ? 1e3 : 1.0)
            return Tensor(shape: shape, values: rng.array(shape.reduce(1, *)).map { S($0 * scale) })
        }
    }
    return (initial, grads)
}

@Suite struct ElementwiseOptimizerTests {
    static let shapes = [[5, 7], [7]]

    func checkpointRoundTrip<S: TunedScalar>(_ c: ElementwiseCase, _: S.Type) throws {
        let (initial, grads) = gradientsFor(Self.shapes, steps: 10, seed: 7, S.self)
        var straight: any Optimizer<S> = try OptimizerRegistry.make(c.spec, shapes: Self.shapes)
        var p = initial
        var resumedParams: [Tensor<S>] = []
        var bytes: [UInt8] = []
        for k in 0..<10 {
            if k == 2 { straight.learningRate *= 0.5 }
            if k == 6 { bytes = straight.saveState().encoded(); resumedParams = p }
            straight.step(&p, gradients: grads[k])
        }
        var resumed: any Optimizer<S> = try OptimizerRegistry.make(c.spec, shapes: Self.shapes)
        try resumed.restoreState(try StateDict(decoding: bytes))
        #expect(resumed.stepCount == 6)
        for k in 6..<10 { resumed.step(&resumedParams, gradients: grads[k]) }
        #expect(resumedParams == p, "\(c) \(S.self): resumed training differs")
        #expect(resumed.saveState() == straight.saveState(), "\(c) \(S.self): resumed state differs")
        #expect(resumed.name == c.name)
        #expect(p.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        #expect(p != initial, "\(c) \(S.self): the parameters never moved")
    }

    @Test(arguments: elementwiseCases)
    func checkpointThenResumeEqualsUninterruptedTrainingBitForBit(_ c: ElementwiseCase) throws {
        try checkpointRoundTrip(c, Double.self)
        try checkpointRoundTrip(c, Float.self)
    }

    @Test(arguments: [
        ("adam", OptimizerLibrary.torch, "betas", JSONValue.array([.number(0.9), .number(1.0)])),
        ("adamw", .torch, "betas", .array([.number(-0.1), .number(0.999)])),
        ("nadam", .torch, "lr", .number(-1)),
        ("radam", .torch, "betas", .array([.number(1.5), .number(0.9)])),
        ("lamb", .torch, "betas", .array([.number(0.9), .number(1.0)])),
        ("adagrad", .torch, "lr", .number(-0.1)),
        ("rmsprop", .torch, "lr", .number(-0.1)),
        ("adafactor", .torch, "lr", .number(-0.1)),
        ("adafactor", .torch, "beta2_decay", .number(0.5)),
        ("lion", .torch, "betas", .array([.number(0.9), .number(1.5)])),
        ("lion", .lionPytorch, "lr", .number(-1e-4)),
        ("tiger", .torch, "beta", .number(1.0)),
        ("lars", .torch, "lr", .number(-1)),
        ("lion", .optax, "b1", .number(-0.5)),
        ("adam", .optax, "b2", .number(1.0)),
        ("sgd", .optax, "learning_rate", .number(-1)),
        ("adamw", .torch, "decoupled_weight_decay", .bool(true)),
        ("adam", .torch, "lr_decay", .number(0.1)),
        ("lion", .optax, "lr", .number(0.1)),
    ] as [(String, OptimizerLibrary, String, JSONValue)])
    func badHyperparameterIsAnErrorNamingTheKey(name: String, library: OptimizerLibrary, key: String, value: JSONValue) {
        var hp: [String: JSONValue] = [key: value]
        if library == .optax && key != "learning_rate" { hp["learning_rate"] = .number(0.1) }
        let spec = OptimizerSpec(name: name, library: library, hyperparameters: Hyperparameters(hp))
        #expect {
            _ = try OptimizerRegistry.make(spec, shapes: [[3]], scalar: Double.self)
        } throws: { error in
            guard let e = error as? OptimizerError else { return false }
            return e.message.contains("'\(key)'")
        }
    }

    @Test func optaxOptimizersRequireTheLearningRate() {
        for name in ["lion", "sgd", "adam"] {
            let spec = OptimizerSpec(name: name, library: .optax, hyperparameters: Hyperparameters(["name": .string("optax.\(name)")]))
            #expect(throws: OptimizerError.self) { _ = try OptimizerRegistry.make(spec, shapes: [[3]], scalar: Double.self) }
        }
    }

    @Test func stateBytesCountTheBuffersActuallyHeld() throws {
        func bytes(_ name: String, _ hp: [String: JSONValue] = [:]) throws -> Int {
            try OptimizerRegistry.make(
                OptimizerSpec(name: name, hyperparameters: Hyperparameters(hp)), shapes: Self.shapes, scalar: Double.self
            ).stateBytes
        }
        #expect(try bytes("adafactor") == (5 + 7 + 7) * 8)  // R and C for [5,7], V for [7]
        #expect(try bytes("adam") == 2 * 42 * 8)
        #expect(try bytes("adam", ["amsgrad": .bool(true)]) == 3 * 42 * 8)
        #expect(try bytes("rmsprop") == 42 * 8)
        #expect(try bytes("rmsprop", ["centered": .bool(true), "momentum": .number(0.5)]) == 3 * 42 * 8)
        #expect(try bytes("lion") == 42 * 8)
        #expect(try bytes("momentum") == 42 * 8)
        let f = try OptimizerRegistry.make(OptimizerSpec(name: "adafactor"), shapes: [[3, 5, 7]], scalar: Float.self)
        #expect(f.stateBytes == 3 * (5 + 7) * 4)
    }

    /// A learning rate set between steps is the one the next step uses: an optimizer made
    /// with lr a and set to b steps exactly like one made with b.
    @Test(arguments: elementwiseCases.filter { $0.hp["decoupled_weight_decay"] == nil })
    func settingTheLearningRateChangesTheNextStep(_ c: ElementwiseCase) throws {
        let key = c.library == .optax ? "learning_rate" : "lr"
        var a = c, b = c
        a.hp[key] = .number(0.3)
        b.hp[key] = .number(0.02)
        let (initial, grads) = gradientsFor(Self.shapes, steps: 2, seed: 11, Double.self)
        var oa: any Optimizer<Double> = try OptimizerRegistry.make(a.spec, shapes: Self.shapes)
        var ob: any Optimizer<Double> = try OptimizerRegistry.make(b.spec, shapes: Self.shapes)
        oa.learningRate = 0.02
        var pa = initial, pb = initial
        for g in grads {
            oa.step(&pa, gradients: g)
            ob.step(&pb, gradients: g)
        }
        #expect(pa == pb, "\(c)")
        #expect(oa.learningRate == 0.02)
    }
}
