import Foundation
import Testing
@testable import TunedOptim

/// Deterministic normal samples (SplitMix64 + Box–Muller), so every test is reproducible.
private struct SeededNormals {
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
private struct ElementwiseCase: CustomStringConvertible, Sendable {
    var name: String
    var library: OptimizerLibrary = .torch
    var hp: [String: JSONValue] = [:]
    var spec: OptimizerSpec { OptimizerSpec(name: name, library: library, hyperparameters: Hyperparameters(hp)) }
    var description: String { "\(library.rawValue).\(name) \(hp.keys.sorted())" }
}

private let elementwiseCases: [ElementwiseCase] = [
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
    .init(name: "adamw_schedulefree", hp: ["lr": .number(0.01), "weight_decay": .number(0.05), "warmup_steps": .number(4), "r": .number(1)]),
    .init(name: "sgd_schedulefree", library: .schedulefree, hp: ["lr": .number(0.1), "weight_decay": .number(0.01), "warmup_steps": .number(3)]),
    .init(name: "adam_mini", hp: ["lr": .number(0.01), "weight_decay": .number(0.1)]),
    .init(name: "adam_mini", library: .adamMini, hp: ["named_parameters": .array([.string("fc.weight"), .string("ln_f.weight")])]),
]

/// Runs `steps` steps from a seeded start on tensors of `shapes`; gradients are seeded
/// normals with one all-zero step and one step scaled by 1e3, like the reference vectors.
private func gradientsFor<S: TunedScalar>(_ shapes: [[Int]], steps: Int, seed: UInt64, _: S.Type) -> (initial: [Tensor<S>], grads: [[Tensor<S>]]) {
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

    fileprivate func checkpointRoundTrip<S: TunedScalar>(_ c: ElementwiseCase, _: S.Type) throws {
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
    fileprivate func checkpointThenResumeEqualsUninterruptedTrainingBitForBit(_ c: ElementwiseCase) throws {
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
    fileprivate func settingTheLearningRateChangesTheNextStep(_ c: ElementwiseCase) throws {
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

/// Our optimizers against straightforward Double re-derivations of their equations, on
/// shapes, hyperparameters and gradients (a zero step, a 1e3-scaled step) that the
/// reference vectors do not use. The re-derivations follow the formulas, not torch's
/// operation order, so they agree to rounding: 1e-10 relative over 8 steps.
@Suite struct ElementwiseReDerivationTests {
    func compare(
        _ name: String, library: OptimizerLibrary = .torch, _ hp: [String: JSONValue], shape: [Int], seed: UInt64 = 3,
        reference: (inout [Double], [Double], Double) -> Void
    ) throws {
        let spec = OptimizerSpec(name: name, library: library, hyperparameters: Hyperparameters(hp))
        let (initial, grads) = gradientsFor([shape], steps: 8, seed: seed, Double.self)
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [shape])
        var p = initial, q = initial[0].values
        var worst = 0.0
        for (k, g) in grads.enumerated() {
            opt.step(&p, gradients: g)
            reference(&q, g[0].values, Double(k + 1))
            for (a, b) in zip(p[0].values, q) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
        }
        #expect(worst <= 1e-10, "\(library.rawValue).\(name) \(shape): max relative error \(worst)")
    }

    static func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    @Test func adamWithAmsgradAndL2DecayOn7x5() throws {
        let (b1, b2, lr, wd, eps) = (0.8, 0.95, 0.01, 0.1, 1e-8)
        var m = [Double](repeating: 0, count: 35), v = m, vmax = m
        try compare("adam", ["lr": .number(lr), "betas": .array([.number(b1), .number(b2)]), "amsgrad": .bool(true),
                             "weight_decay": .number(wd)], shape: [7, 5]) { p, g, t in
            for j in p.indices {
                let gj = g[j] + wd * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                vmax[j] = max(vmax[j], v[j])
                p[j] -= lr / (1 - pow(b1, t)) * m[j] / (vmax[j].squareRoot() / (1 - pow(b2, t)).squareRoot() + eps)
            }
        }
    }

    @Test func adamWDecaysBeforeTheMomentsOn16() throws {
        let (lr, wd) = (0.05, 0.2)
        var m = [Double](repeating: 0, count: 16), v = m
        try compare("adamw", ["lr": .number(lr), "weight_decay": .number(wd)], shape: [16]) { p, g, t in
            for j in p.indices {
                p[j] *= 1 - lr * wd
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j]
                p[j] -= lr * (m[j] / (1 - pow(0.9, t))) / ((v[j] / (1 - pow(0.999, t))).squareRoot() + 1e-8)
            }
        }
    }

    @Test func nadamWithMomentumDecayOn5x7() throws {
        let (lr, psi) = (0.02, 0.01)
        var m = [Double](repeating: 0, count: 35), v = m, product = 1.0
        try compare("nadam", ["lr": .number(lr), "momentum_decay": .number(psi)], shape: [5, 7]) { p, g, t in
            let mu = 0.9 * (1 - 0.5 * pow(0.96, t * psi)), muNext = 0.9 * (1 - 0.5 * pow(0.96, (t + 1) * psi))
            product *= mu
            for j in p.indices {
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j]
                let denom = (v[j] / (1 - pow(0.999, t))).squareRoot() + 1e-8
                p[j] -= lr * (1 - mu) / (1 - product) * g[j] / denom + lr * muNext / (1 - product * muNext) * m[j] / denom
            }
        }
    }

    @Test func radamTakesBothBranchesOn16() throws {
        let (lr, b2) = (0.01, 0.99)
        var m = [Double](repeating: 0, count: 16), v = m
        let rhoInf = 2 / (1 - b2) - 1
        try compare("radam", ["lr": .number(lr), "betas": .array([.number(0.9), .number(b2)])], shape: [16]) { p, g, t in
            let rho = rhoInf - 2 * t * pow(b2, t) / (1 - pow(b2, t))
            for j in p.indices {
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                let mHat = m[j] / (1 - pow(0.9, t))
                if rho > 5 {
                    let r = ((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho)).squareRoot()
                    p[j] -= lr * mHat * r * (1 - pow(b2, t)).squareRoot() / (v[j].squareRoot() + 1e-8)
                } else {
                    p[j] -= lr * mHat
                }
            }
        }
    }

    @Test func centeredRMSpropWithMomentumOn7x5() throws {
        let (lr, a, mu) = (0.01, 0.9, 0.5)
        var v = [Double](repeating: 0, count: 35), ga = v, b = v
        try compare("rmsprop", ["lr": .number(lr), "alpha": .number(a), "momentum": .number(mu), "centered": .bool(true)],
                    shape: [7, 5]) { p, g, _ in
            for j in p.indices {
                v[j] = a * v[j] + (1 - a) * g[j] * g[j]
                ga[j] = a * ga[j] + (1 - a) * g[j]
                b[j] = mu * b[j] + g[j] / ((v[j] - ga[j] * ga[j]).squareRoot() + 1e-8)
                p[j] -= lr * b[j]
            }
        }
    }

    @Test func adagradWithLrDecayOn16() throws {
        let (lr, decay) = (0.1, 0.05)
        var s = [Double](repeating: 0.2, count: 16)
        try compare("adagrad", ["lr": .number(lr), "lr_decay": .number(decay), "initial_accumulator_value": .number(0.2)],
                    shape: [16]) { p, g, t in
            for j in p.indices {
                s[j] += g[j] * g[j]
                p[j] -= lr / (1 + (t - 1) * decay) * g[j] / (s[j].squareRoot() + 1e-10)
            }
        }
    }

    /// torch's Adafactor, factored over the last two dims with leading dims as a batch.
    func adafactorReference(shape: [Int], lr: Double, decay: Double, eps1: Double, d: Double, wd: Double)
        -> (inout [Double], [Double], Double) -> Void
    {
        let n = shape.reduce(1, *)
        let factored = shape.count >= 2
        let rows = factored ? shape[shape.count - 2] : 1, cols = factored ? shape[shape.count - 1] : n
        let batch = n / (rows * cols)
        var rowV = [Double](repeating: 0, count: batch * rows), colV = [Double](repeating: 0, count: batch * cols)
        var full = [Double](repeating: 0, count: n)
        return { p, g, t in
            let w = pow(t, decay)
            let alpha = max(1e-3, Self.norm(p) / Double(n).squareRoot()) * min(lr, 1 / t.squareRoot())
            for j in p.indices { p[j] *= 1 - lr * wd }
            var u = [Double](repeating: 0, count: n)
            if factored {
                for b in 0..<batch {
                    for r in 0..<rows {
                        let mean = (0..<cols).map { g[(b * rows + r) * cols + $0] * g[(b * rows + r) * cols + $0] }.reduce(0, +) / Double(cols)
                        rowV[b * rows + r] += w * (mean - rowV[b * rows + r])
                    }
                    for c in 0..<cols {
                        let mean = (0..<rows).map { g[(b * rows + $0) * cols + c] * g[(b * rows + $0) * cols + c] }.reduce(0, +) / Double(rows)
                        colV[b * cols + c] += w * (mean - colV[b * cols + c])
                    }
                    let rMean = max(rowV[(b * rows)..<((b + 1) * rows)].reduce(0, +) / Double(rows), eps1)
                    for r in 0..<rows {
                        for c in 0..<cols {
                            let j = (b * rows + r) * cols + c
                            u[j] = g[j] / max(rowV[b * rows + r] * colV[b * cols + c] / rMean, eps1 * eps1).squareRoot()
                        }
                    }
                }
            } else {
                for j in 0..<n {
                    full[j] += w * (g[j] * g[j] - full[j])
                    u[j] = g[j] / max(full[j], eps1 * eps1).squareRoot()
                }
            }
            let scale = alpha / max(1, Self.norm(u) / Double(n).squareRoot() / d)
            for j in 0..<n { p[j] -= scale * u[j] }
        }
    }

    @Test(arguments: [[7, 5], [5, 7], [16], [2, 3, 4]])
    func adafactorMatchesItsEquations(shape: [Int]) throws {
        try compare("adafactor", ["lr": .number(0.05), "beta2_decay": .number(-0.7), "d": .number(1.5), "weight_decay": .number(0.1)],
                    shape: shape, reference: adafactorReference(shape: shape, lr: 0.05, decay: -0.7, eps1: .ulpOfOne, d: 1.5, wd: 0.1))
        try compare("adafactor", ["eps": .array([.number(1e-20), .number(1e-3)])], shape: shape,
                    reference: adafactorReference(shape: shape, lr: 1e-2, decay: -0.8, eps1: 1e-20, d: 1, wd: 0))
    }

    @Test func lionVariantsOn7x5() throws {
        let (lr, wd) = (1e-2, 0.3)
        var m = [Double](repeating: 0, count: 35)
        try compare("lion", library: .lionPytorch, ["lr": .number(lr), "weight_decay": .number(wd), "decoupled_weight_decay": .bool(true),
                                           "betas": .array([.number(0.8), .number(0.95)])], shape: [7, 5]) { p, g, _ in
            for j in p.indices {
                p[j] *= 1 - lr * (wd / lr)
                let c = 0.8 * m[j] + 0.2 * g[j]
                p[j] -= lr * (c > 0 ? 1 : (c < 0 ? -1 : 0))
                m[j] = 0.95 * m[j] + 0.05 * g[j]
            }
        }
        var mo = [Double](repeating: 0, count: 35)
        try compare("lion", library: .optax, ["name": .string("optax.lion"), "learning_rate": .number(lr)], shape: [7, 5]) { p, g, _ in
            for j in p.indices {
                let c = 0.9 * mo[j] + 0.1 * g[j]
                p[j] -= lr * ((c > 0 ? 1 : (c < 0 ? -1 : 0)) + 1e-3 * p[j])
                mo[j] = 0.99 * mo[j] + 0.01 * g[j]
            }
        }
    }

    @Test func optaxAdamWithNesterovAndEpsRootOn16() throws {
        let lr = 0.03
        var m = [Double](repeating: 0, count: 16), v = m
        try compare("adam", library: .optax, ["learning_rate": .number(lr), "nesterov": .bool(true), "eps_root": .number(1e-6)],
                    shape: [16]) { p, g, t in
            for j in p.indices {
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j]
                let mHat = 0.9 * m[j] / (1 - pow(0.9, t + 1)) + 0.1 * g[j] / (1 - pow(0.9, t))
                p[j] -= lr * mHat / ((v[j] / (1 - pow(0.999, t)) + 1e-6).squareRoot() + 1e-8)
            }
        }
    }

    @Test func optaxSGDIsATraceWithoutDampening() throws {
        var tr = [Double](repeating: 0, count: 35)
        try compare("sgd", library: .optax, ["learning_rate": .number(0.1), "momentum": .number(0.7)], shape: [5, 7]) { p, g, _ in
            for j in p.indices {
                tr[j] = g[j] + 0.7 * tr[j]
                p[j] -= 0.1 * tr[j]
            }
        }
    }

    @Test func lambScalesEachTensorByItsTrustRatio() throws {
        let (lr, wd) = (0.01, 0.05)
        var m = [Double](repeating: 0, count: 35), v = m
        try compare("lamb", ["lr": .number(lr), "weight_decay": .number(wd)], shape: [7, 5]) { p, g, t in
            var r = p
            for j in p.indices {
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j]
                r[j] = (m[j] / (1 - pow(0.9, t))) / ((v[j] / (1 - pow(0.999, t))).squareRoot() + 1e-6) + wd * p[j]
            }
            let ratio = Self.norm(p) / Self.norm(r)
            for j in p.indices { p[j] -= lr * ratio * r[j] }
        }
    }

    @Test func larsScalesEachTensorByItsTrustRatio() throws {
        let (lr, wd, eta, mu) = (0.5, 1e-3, 1e-2, 0.9)
        var v = [Double](repeating: 0, count: 16)
        try compare("lars", ["lr": .number(lr), "weight_decay": .number(wd), "trust_coefficient": .number(eta)], shape: [16]) { p, g, _ in
            let (wn, gn) = (Self.norm(p), Self.norm(g))
            let trust = wn > 0 && gn > 0 ? eta * wn / (gn + wd * wn) : 1  // the zero-gradient step takes trust 1
            for j in p.indices {
                v[j] = mu * v[j] + lr * trust * (g[j] + wd * p[j])
                p[j] -= v[j]
            }
        }
    }

    @Test func tigerScalesMatricesByRMSAndHalvesVectorSteps() throws {
        let (lr, beta, wd) = (0.01, 0.9, 0.1)
        var m = [Double](repeating: 0, count: 35)
        try compare("tiger", ["lr": .number(lr), "beta": .number(beta), "weight_decay": .number(wd)], shape: [7, 5]) { p, g, _ in
            let eta = lr * Self.norm(p) / Double(p.count).squareRoot()
            for j in p.indices {
                m[j] = beta * m[j] + (1 - beta) * g[j]
                p[j] -= ((m[j] > 0 ? 1 : (m[j] < 0 ? -1 : 0)) + wd * p[j]) * eta
            }
        }
        var mv = [Double](repeating: 0, count: 16)
        try compare("tiger", ["lr": .number(lr), "beta": .number(beta), "weight_decay": .number(wd)], shape: [16]) { p, g, _ in
            for j in p.indices {
                mv[j] = beta * mv[j] + (1 - beta) * g[j]
                p[j] -= (mv[j] > 0 ? 1 : (mv[j] < 0 ? -1 : 0)) * lr * 0.5
            }
        }
    }

    @Test func tigerShrinksInsteadOfSteppingWhenAGradientHasNaN() throws {
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(OptimizerSpec(name: "tiger"), shapes: [[2, 2]])
        var p = [Tensor(shape: [2, 2], values: [1, -2, 3, 4])]
        opt.step(&p, gradients: [Tensor(shape: [2, 2], values: [.nan, 1, 1, 1])])
        #expect(p[0].values == [1, -2, 3, 4].map { $0 * 0.99 })
    }

    func adafactorStep<S: TunedScalar>(_: S.Type, eps1: Double?) throws -> [S] {
        let hp: [String: JSONValue] = eps1.map { ["eps": .array([.number($0), .number(1e-3)])] } ?? [:]
        var o: any Optimizer<S> = try OptimizerRegistry.make(OptimizerSpec(name: "adafactor", hyperparameters: Hyperparameters(hp)), shapes: [[4]])
        var p = [Tensor<S>(shape: [4], values: [1, 2, 3, 4])]
        o.step(&p, gradients: [Tensor(shape: [4], values: [1e-9, 1, 1, 1])])
        return p[0].values
    }

    /// eps1 = None is `torch.finfo(dtype).eps`: the clamp max(V, eps1²) then decides the
    /// first coordinate (V = 1e-18), so Float and Double defaults differ.
    @Test func adafactorDefaultEps1IsTheMachineEpsilonOfTheDtype() throws {
        #expect(try adafactorStep(Double.self, eps1: nil) == adafactorStep(Double.self, eps1: Double.ulpOfOne))
        #expect(try adafactorStep(Float.self, eps1: nil) == adafactorStep(Float.self, eps1: Double(Float.ulpOfOne)))
        #expect(try adafactorStep(Float.self, eps1: nil) != adafactorStep(Float.self, eps1: Double.ulpOfOne))
    }
}
