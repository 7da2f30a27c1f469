import Foundation
import Testing
@testable import TunedOptim

/// Deterministic test problems for the structured optimizers and wrappers.
enum StructuredFixture {
    /// Pseudo-random numbers in [−1, 1) from a 64-bit LCG (Knuth's MMIX constants).
    struct Numbers {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 52) - 1
        }
    }

    static func initial<S: TunedScalar>(_ shapes: [[Int]], seed: UInt64 = 7) -> [Tensor<S>] {
        var rng = Numbers(state: seed)
        return shapes.map { Tensor(shape: $0, values: (0..<$0.reduce(1, *)).map { _ in S(rng.next()) }) }
    }

    /// The gradient of ½Σ c_j θ_j² (c_j in [0.5, 1.5]) plus a step-dependent perturbation:
    /// depends on the parameters, so wrappers that move them (SAM, Lookahead) are exercised.
    static func gradient<S: TunedScalar>(_ params: [Tensor<S>], step: Int) -> [Tensor<S>] {
        var rng = Numbers(state: UInt64(1000 + step))
        return params.map { p in
            Tensor(shape: p.shape, values: p.values.enumerated().map { j, v in
                let c = 1 + 0.5 * sin(Double(j))
                return S(c * v.double + 0.1 * rng.next())
            })
        }
    }

    /// `steps` steps straight, versus `split` steps, a save through the binary StateDict
    /// form, a fresh optimizer restored from it, and the remaining steps. Returns both
    /// parameter lists and both final states.
    static func roundTrip<S: TunedScalar>(
        _ spec: OptimizerSpec, shapes: [[Int]], steps: Int = 9, split: Int = 4, _: S.Type
    ) throws -> (straight: [Tensor<S>], resumed: [Tensor<S>], straightState: StateDict, resumedState: StateDict) {
        var a: any Optimizer<S> = try OptimizerRegistry.make(spec, shapes: shapes)
        var pa: [Tensor<S>] = initial(shapes)
        for t in 1...steps { a.step(&pa, gradients: gradient(pa, step: t)) }

        var b: any Optimizer<S> = try OptimizerRegistry.make(spec, shapes: shapes)
        var pb: [Tensor<S>] = initial(shapes)
        for t in 1...split { b.step(&pb, gradients: gradient(pb, step: t)) }
        let bytes = b.saveState().encoded()
        var c: any Optimizer<S> = try OptimizerRegistry.make(spec, shapes: shapes)
        try c.restoreState(StateDict(decoding: bytes))
        for t in (split + 1)...steps { c.step(&pb, gradients: gradient(pb, step: t)) }
        return (pa, pb, a.saveState(), c.saveState())
    }

    static func spec(_ name: String, _ json: String) -> OptimizerSpec {
        spec(name, .torch, json)
    }

    static func spec(_ name: String, _ library: OptimizerLibrary, _ json: String) -> OptimizerSpec {
        OptimizerSpec(name: name, library: library, hyperparameters: Hyperparameters(object(json), context: name))
    }

    /// A JSON object written as text (test input, so a malformed literal is a test bug).
    static func object(_ json: String) -> [String: JSONValue] {
        guard let o = (try? JSONValue.parse(Data(json.utf8)))?.objectValue else {
            Issue.record("malformed JSON object in a test: \(json)")
            return [:]
        }
        return o
    }

    /// Bitwise equality of parameter lists (NaN-safe).
    static func bitwiseEqual<S: TunedScalar>(_ x: [Tensor<S>], _ y: [Tensor<S>]) -> Bool {
        guard x.count == y.count else { return false }
        for (a, b) in zip(x, y) {
            guard a.shape == b.shape else { return false }
            for (u, v) in zip(a.values, b.values) {
                let same = u.sign == v.sign && u.exponentBitPattern == v.exponentBitPattern
                    && u.significandBitPattern == v.significandBitPattern
                if !same { return false }
            }
        }
        return true
    }
}

@Suite struct WrapperTests {
    typealias F = StructuredFixture

    static let adversary = #"{"name": "optax.chain", "transforms": [{"name": "optax.contrib.normalize"}, {"name": "optax.sgd", "learning_rate": 0.05}]}"#

    /// One spec per optimizer whose checkpoint must restore bit for bit.
    static let resumable: [(String, OptimizerSpec, [[Int]])] = resumableSpecs()

    static func resumableSpecs() -> [(String, OptimizerSpec, [[Int]])] {
        var list: [(String, OptimizerSpec, [[Int]])] = []
        list += [
        ("muon torch bf16", F.spec("muon", #"{"lr": 0.02}"#), [[4, 3], [3, 5]]),
        ("muon torch float64", F.spec("muon", #"{"lr": 0.02, "ns_dtype": "float64"}"#), [[4, 3]]),
        ("muon optax", F.spec("muon", .optax, #"{"name": "optax.contrib.muon", "learning_rate": 0.02, "weight_decay": 0.1}"#), [[5, 7]]),
        ("muon optax with a vector (its adamw) and float32 moments",
         F.spec("muon", .optax, #"{"learning_rate": 0.02, "adam_weight_decay": 0.01, "mu_dtype": "float32", "adaptive": true}"#),
         [[5, 7], [6]]),
        ("optax adafactor factored + momentum",
         F.spec("adafactor", .optax, #"{"learning_rate": 0.01, "min_dim_size_to_factor": 2, "momentum": 0.9}"#), [[4, 3], [6]]),
        ("optax adafactor float64 momentum",
         F.spec("adafactor", .optax, #"{"momentum": 0.5, "dtype_momentum": "float64", "weight_decay_rate": 0.01}"#), [[4, 3]]),
        ("lookahead optax", F.spec("lookahead", .optax, #"""
            {"fast_optimizer": {"name": "optax.sgd", "learning_rate": 0.1, "momentum": 0.9}, "sync_period": 3,
             "slow_step_size": 0.5, "reset_state": true}
            """#), [[4, 3], [5]]),
        ("lookahead torch adam", F.spec("lookahead", #"{"optimizer": {"name": "adam", "lr": 0.01}, "k": 3}"#), [[4, 3]]),
        ("sam optax", F.spec("sam", .optax, #"{"optimizer": {"name": "optax.sgd", "learning_rate": 0.1}, "adv_optimizer": "#
            + adversary + "}"), [[4, 3], [5]]),
        ("sam torch adaptive", F.spec("sam", #"{"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "adaptive": true}"#), [[4, 3]]),
        ("sgd_hd", F.spec("sgd_hd", #"{"lr": 0.05, "momentum": 0.9, "hypergrad_lr": 0.001}"#), [[4, 3], [5]]),
        ("sgdn_hd", F.spec("sgdn_hd", #"{"lr": 0.05, "hypergrad_lr": 0.001, "weight_decay": 0.01}"#), [[4, 3]]),
        ("adam_hd", F.spec("adam_hd", #"{"lr": 0.01, "hypergrad_lr": 0.0001}"#), [[4, 3], [5]]),
        ("hypergradient adam", F.spec("hypergradient", #"{"optimizer": {"name": "adam", "lr": 0.01}, "hypergrad_lr": 0.0001}"#),
         [[4, 3], [5]]),
        ("scheduled sgd warmup_cosine", F.spec("scheduled", #"""
            {"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
             "schedule": {"kind": "warmup_cosine", "warmup_steps": 3, "total_steps": 8, "floor": 0.1}}
            """#), [[4, 3]]),
        ]
        return list
    }

    @Test(arguments: resumable.indices)
    func checkpointRestoreContinueIsBitExactInDouble(_ i: Int) throws {
        let (label, spec, shapes) = Self.resumable[i]
        let r = try F.roundTrip(spec, shapes: shapes, Double.self)
        #expect(F.bitwiseEqual(r.straight, r.resumed), "\(label): resumed parameters differ")
        #expect(r.straightState == r.resumedState, "\(label): resumed state differs")
        #expect(r.straight.allSatisfy { $0.values.allSatisfy(\.isFinite) }, "\(label)")
    }

    @Test(arguments: resumable.indices)
    func checkpointRestoreContinueIsBitExactInFloat(_ i: Int) throws {
        let (label, spec, shapes) = Self.resumable[i]
        let r = try F.roundTrip(spec, shapes: shapes, Float.self)
        #expect(F.bitwiseEqual(r.straight, r.resumed), "\(label): resumed parameters differ")
        #expect(r.straightState == r.resumedState, "\(label): resumed state differs")
    }

    @Test func wrapperStateNestsTheInnerOptimizersStateUnderAPrefix() throws {
        let spec = F.spec("lookahead", #"{"optimizer": {"name": "adam", "lr": 0.01}, "k": 2}"#)
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [[3]])
        var p: [Tensor<Double>] = F.initial([[3]])
        opt.step(&p, gradients: F.gradient(p, step: 1))
        let keys = opt.saveState().keys
        #expect(keys.contains("inner.step"))
        #expect(keys.contains { $0.hasPrefix("inner.") && $0 != "inner.step" && $0 != "inner.lr" })
        #expect(keys.contains("slow.0"))
    }

    @Test func wrapperLearningRateForwardsToTheInnerOptimizer() throws {
        var la = try Lookahead<Double>(
            Hyperparameters(F.object(#"{"optimizer": {"name": "sgd", "lr": 0.1}}"#)), library: .torch, shapes: [[2]])
        #expect(la.learningRate == 0.1)
        la.learningRate = 0.03
        #expect(la.inner.learningRate == 0.03)
        var sam = try SAM<Double>(torch: Hyperparameters(F.object(#"{"optimizer": {"name": "sgd", "lr": 0.2}}"#)), shapes: [[2]])
        #expect(sam.learningRate == 0.2)
        sam.learningRate = 0.5
        #expect(sam.outer.learningRate == 0.5)
    }

    @Test func lookaheadSyncsSlowAndFastWeightsEveryKSteps() throws {
        // Plain SGD, k = 2, α = 0.5: θ1 = 0.8, θ2' = 0.6, φ = 1 + ½(0.6 − 1) = 0.8 = θ2.
        var la = try Lookahead<Double>(
            Hyperparameters(F.object(#"{"optimizer": {"name": "sgd", "lr": 0.1}, "k": 2, "alpha": 0.5}"#)),
            library: .torch, shapes: [[1]])
        var p = [Tensor(shape: [1], values: [1.0])]
        la.step(&p, gradients: [Tensor(shape: [1], values: [2.0])])
        #expect(abs(p[0].values[0] - 0.8) < 1e-15)
        #expect(la.slowWeights[0].values == [1.0])
        la.step(&p, gradients: [Tensor(shape: [1], values: [2.0])])
        #expect(abs(la.slowWeights[0].values[0] - 0.8) < 1e-15)
        #expect(abs(p[0].values[0] - 0.8) < 1e-15)
    }

    @Test func samPerturbsOnOddCallsAndAppliesTheOuterStepFromTheCachedWeights() throws {
        var sam = try SAM<Double>(
            torch: Hyperparameters(F.object(#"{"optimizer": {"name": "sgd", "lr": 0.1}, "rho": 0.5}"#)), shapes: [[2]])
        var p = [Tensor(shape: [2], values: [1.0, 2.0])]
        sam.step(&p, gradients: [Tensor(shape: [2], values: [3.0, 4.0])])
        // ε = ρ·g/(‖g‖ + 1e-12) = 0.5·(0.6, 0.8)
        #expect(sam.isPerturbed)
        #expect(abs(p[0].values[0] - 1.3) < 1e-12 && abs(p[0].values[1] - 2.4) < 1e-12)
        #expect(sam.unperturbedWeights(p)[0].values == [1.0, 2.0])
        sam.step(&p, gradients: [Tensor(shape: [2], values: [10.0, -10.0])])
        #expect(!sam.isPerturbed)
        #expect(abs(p[0].values[0] - 0.0) < 1e-15 && abs(p[0].values[1] - 3.0) < 1e-15)
    }

    @Test func optaxSamWithAZeroGradientDoesNotProduceNaN() throws {
        let spec = F.spec("sam", .optax, #"{"optimizer": {"name": "optax.sgd", "learning_rate": 0.1}, "adv_optimizer": "#
            + Self.adversary + "}")
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [[3]])
        var p = [Tensor(shape: [3], values: [1.0, 2.0, 3.0])]
        opt.step(&p, gradients: [Tensor(zeros: [3])])
        opt.step(&p, gradients: [Tensor(zeros: [3])])
        #expect(p[0].values == [1.0, 2.0, 3.0])
    }

    @Test(arguments: [
        ("sam", OptimizerLibrary.optax, #"{"optimizer": {"name": "optax.sgd", "learning_rate": 0.1}, "opaque_mode": true}"#,
         "opaque_mode"),
        ("sam", .optax, #"{"optimizer": {"name": "optax.sgd", "learning_rate": 0.1}, "adv_optimizer": {"name": "optax.adam"}}"#,
         "adv_optimizer"),
        ("lookahead", .optax, #"{"sync_period": 2, "slow_step_size": 0.5}"#, "fast_optimizer"),
        ("lookahead", .torch, #"{"optimizer": {"lr": 0.1}}"#, "name"),
        ("lookahead", .torch, #"{"optimizer": {"name": "sgd"}, "k": 0}"#, "'k'"),
        ("scheduled", .torch, #"{"optimizer": {"name": "sgd"}, "schedule": {"kind": "cosine"}}"#, "total_steps"),
    ])
    func badWrapperSpecificationsAreErrorsNamingTheKey(_ name: String, _ library: OptimizerLibrary, _ json: String, _ key: String) {
        do {
            let _: any Optimizer<Double> = try OptimizerRegistry.make(F.spec(name, library, json), shapes: [[3]])
            Issue.record("expected an error naming \(key)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
