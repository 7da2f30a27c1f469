import Foundation
import Testing
@testable import TunedOptim

/// The multiplicative, normalised rule (Baydin et al. 2018 §2.3): α ← α·(1 + β·cos(g_t, p_{t−1}))
/// with p_{t−1} = θ_{t−2} − θ_{t−1} = −u_{t−1}, i.e. α(1 − β·cos(∇f, ∇_α u)).
@Suite struct MultiplicativeHypergradientTests {
    typealias F = StructuredFixture

    static func spec(_ inner: String, beta: Double, kind: String = "multiplicative", bounds: String = #""lr_min": 0, "lr_max": 1e9"#) -> OptimizerSpec {
        F.spec("hypergradient", #"{"optimizer": \#(inner), "hypergrad_lr": \#(beta), "kind": "\#(kind)", \#(bounds)}"#)
    }

    /// Runs `spec` on fixed gradients (each multiplied by `scale`) from θ = `start`; returns the rates.
    static func rates<S: TunedScalar>(
        _ spec: OptimizerSpec, _ grads: [[Double]], scale: Double = 1, start: [Double]? = nil, _: S.Type = Double.self
    ) throws -> [Double] {
        let n = grads[0].count
        var opt: any Optimizer<S> = try OptimizerRegistry.make(spec, shapes: [[n]])
        var p = [Tensor(shape: [n], values: (start ?? [Double](repeating: 0, count: n)).map { S($0) })]
        var out = [Double]()
        for g in grads {
            opt.step(&p, gradients: [Tensor(shape: [n], values: g.map { S($0 * scale) })])
            out.append(opt.learningRate)
        }
        return out
    }

    /// SGD from θ = 0, g = (1,0), (1,1), (−1,0), β = 0.02, α₀ = 0.1, by hand:
    /// step 1: no previous step → α₁ = 0.1; θ₁ = (−0.1, 0), p = (0.1, 0).
    /// step 2: cos((1,1), (0.1,0)) = 1/√2 → α₂ = 0.1·(1 + 0.02/√2); θ₂ = θ₁ − α₂(1,1), p = α₂(1,1).
    /// step 3: cos((−1,0), (1,1)) = −1/√2 → α₃ = α₂·(1 − 0.02/√2).
    @Test func sgdOnAHandComputedCase() throws {
        let got = try Self.rates(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 0.02), [[1, 0], [1, 1], [-1, 0]])
        let a1 = 0.1, a2 = a1 * (1 + 0.02 / 2.0.squareRoot()), a3 = a2 * (1 - 0.02 / 2.0.squareRoot())
        for (g, w) in zip(got, [a1, a2, a3]) { #expect(abs(g - w) <= 1e-15 * w, "\(got) vs \([a1, a2, a3])") }
        #expect(got[1] > got[0] && got[2] < got[1])
    }

    /// Adam's previous step direction is m̂/(√v̂ + ε), not the gradient: from θ = 0 with
    /// g₁ = (1, 0), (3, 4): step 1's direction is (1, 0)/(1 + ε) → cos((3,4), (1,0)) = 3/5.
    /// Step 3 with g = (0, 1): the direction of step 2, m̂₂/(√v̂₂ + ε) per coordinate, by hand.
    @Test func adamUsesThePreviousAdamStepDirection() throws {
        let b1 = 0.9, b2 = 0.999, eps = 1e-8, beta = 0.05
        let got = try Self.rates(Self.spec(#"{"name": "adam", "lr": 0.01}"#, beta: beta), [[1, 0], [3, 4], [0, 1]])
        let a2 = 0.01 * (1 + beta * 0.6)
        // Step 2's moments: m = (1−β1)·(b1·1 + 3, 4)... written out per coordinate.
        let m = [(1 - b1) * (b1 * 1 + 3), (1 - b1) * 4]
        let v = [(1 - b2) * (b2 * 1 + 9), (1 - b2) * 16]
        let mh = m.map { $0 / (1 - b1 * b1) }, vh = v.map { $0 / (1 - b2 * b2) }
        let d = zip(mh, vh).map { $0 / ($1.squareRoot() + eps) }
        let cos3 = d[1] / (d[0] * d[0] + d[1] * d[1]).squareRoot()
        let a3 = a2 * (1 + beta * cos3)
        #expect(got[0] == 0.01)
        #expect(abs(got[1] - a2) <= 1e-15 * a2, "\(got[1]) vs \(a2)")
        #expect(abs(got[2] - a3) <= 1e-13 * a3, "\(got[2]) vs \(a3)")
        // Not the gradient's cosine, cos((0,1), (3,4)) = 0.8: the rule really reads Adam's direction.
        #expect(abs(got[2] - a2 * (1 + beta * 0.8)) > 1e-6 * a3)
    }

    /// Multiplying the loss (so every gradient) by 1000 leaves the multiplicative rates as they
    /// were, for SGD and Adam, Float and Double; the additive rule's rates change.
    @Test(arguments: [#"{"name": "sgd", "lr": 0.01}"#, #"{"name": "sgd", "lr": 0.01, "momentum": 0.9}"#, #"{"name": "adam", "lr": 0.01, "eps": 1e-30}"#])
    func theMultiplicativeRuleIsScaleFreeAndTheAdditiveIsNot(_ inner: String) throws {
        let grads = HypergradientTests.gradients(12, largeStep: nil).map { $0.flatMap { $0 } }
        let start = (0..<17).map { _ in 0.0 }
        let mult = Self.spec(inner, beta: 0.02)
        let m1 = try Self.rates(mult, grads, start: start), m1000 = try Self.rates(mult, grads, scale: 1000, start: start)
        #expect(Set(m1).count > 5, "the rate must move: \(m1)")
        #expect(zip(m1, m1000).allSatisfy { abs($0 - $1) <= 1e-12 * $0 }, "\(m1) vs \(m1000)")
        let f1 = try Self.rates(mult, grads, start: start, Float.self), f1000 = try Self.rates(mult, grads, scale: 1000, start: start, Float.self)
        #expect(zip(f1, f1000).allSatisfy { abs($0 - $1) <= 1e-5 * $0 }, "\(f1) vs \(f1000)")

        let add = Self.spec(inner, beta: 1e-4, kind: "additive")
        let a1 = try Self.rates(add, grads, start: start), a1000 = try Self.rates(add, grads, scale: 1000, start: start)
        #expect(zip(a1, a1000).contains { abs($0 - $1) > 1e-3 * abs($0) }, "the additive rule should depend on the scale: \(a1) vs \(a1000)")
    }

    /// On a real loss, SGD on c·f with α₀/c follows SGD on f with α₀; the multiplicative rates
    /// then stay in the ratio 1/c throughout (to rounding), the additive ones do not.
    @Test func onAParameterDependentLossTheRatesScaleWithTheLoss() throws {
        func run(_ kind: String, _ beta: Double, c: Double) throws -> [Double] {
            var opt: any Optimizer<Double> = try OptimizerRegistry.make(
                Self.spec(#"{"name": "sgd", "lr": \#(0.05 / c)}"#, beta: beta, kind: kind), shapes: [[4, 3]])
            var p: [Tensor<Double>] = F.initial([[4, 3]])
            var out = [Double]()
            for t in 1...40 {
                let g = F.gradient(p, step: t).map { Tensor(shape: $0.shape, values: $0.values.map { $0 * c }) }
                opt.step(&p, gradients: g)
                out.append(opt.learningRate * c)
            }
            return out
        }
        let m1 = try run("multiplicative", 0.02, c: 1), m1000 = try run("multiplicative", 0.02, c: 1000)
        #expect(zip(m1, m1000).allSatisfy { abs($0 - $1) <= 1e-9 * $0 }, "\(m1) vs \(m1000)")
        let a1 = try run("additive", 1e-3, c: 1), a1000 = try run("additive", 1e-3, c: 1000)
        #expect(zip(a1, a1000).contains { abs($0 - $1) > 1e-2 * $0 }, "\(a1) vs \(a1000)")
    }

    @Test func theRateIsClampedToItsRange() throws {
        // Aligned gradients: cos = 1 every step, α grows ×1.5 per step until lr_max.
        let up = try Self.rates(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 0.5, bounds: #""lr_min": 0.01, "lr_max": 0.3"#),
                                Array(repeating: [1, 2], count: 6))
        #expect(up[0] == 0.1 && abs(up[1] - 0.15) < 1e-15 && abs(up[2] - 0.225) < 1e-15 && up[3...].allSatisfy { $0 == 0.3 }, "\(up)")
        // Opposed gradients: cos = −1, α shrinks ×0.5 per step until lr_min.
        let down = try Self.rates(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 0.5, bounds: #""lr_min": 0.02, "lr_max": 0.3"#),
                                  (0..<6).map { $0 % 2 == 0 ? [1, 2] : [-1, -2] })
        #expect(down.min() == 0.02 && down.last == 0.02, "\(down)")
        // β > 1 would make the factor negative: the clamp holds it at lr_min, never below 0.
        let neg = try Self.rates(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 3, bounds: #""lr_min": 1e-4, "lr_max": 1"#), [[1, 0], [-1, 0], [1, 0]])
        #expect(neg[1] == 1e-4 && neg.allSatisfy { $0 >= 1e-4 }, "\(neg)")
    }

    /// A zero gradient, or a step that did not move (first step, zero previous gradient), has no
    /// direction: the rate stays, nothing is counted as non-finite, and no NaN appears.
    @Test func aZeroNormLeavesTheRateUnchanged() throws {
        var opt = try Hypergradient<Double>(Hyperparameters(F.object(
            #"{"optimizer": {"name": "sgd", "lr": 0.1}, "hypergrad_lr": 0.02, "kind": "multiplicative"}"#)), shapes: [[2]])
        var p = [Tensor(shape: [2], values: [1.0, 1.0])]
        for g in [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]] {
            opt.step(&p, gradients: [Tensor(shape: [2], values: g)])
            #expect(opt.learningRate == 0.1, "g = \(g): \(opt.learningRate)")
        }
        #expect(opt.nonFiniteHypergradients == 0)
        // A non-finite gradient: counted, rate unchanged.
        opt.step(&p, gradients: [Tensor(shape: [2], values: [.infinity, 1])])
        #expect(opt.learningRate == 0.1 && opt.nonFiniteHypergradients == 1)
    }

    @Test(arguments: [#"{"name": "sgd", "lr": 0.05, "momentum": 0.9}"#, #"{"name": "adam", "lr": 0.01}"#, #"{"name": "adamw", "lr": 0.01, "weight_decay": 0.1}"#])
    func resumingIsBitExactInFloatAndDouble(_ inner: String) throws {
        let spec = Self.spec(inner, beta: 0.02, bounds: #""lr_min": 1e-5, "lr_max": 1"#)
        let d = try F.roundTrip(spec, shapes: [[4, 3], [5]], steps: 12, split: 5, Double.self)
        #expect(F.bitwiseEqual(d.straight, d.resumed))
        #expect(d.straightState == d.resumedState)
        #expect(d.straightState["rule"] == .string("multiplicative"))
        let f = try F.roundTrip(spec, shapes: [[4, 3], [5]], steps: 12, split: 5, Float.self)
        #expect(F.bitwiseEqual(f.straight, f.resumed))
        #expect(f.straightState == f.resumedState)
        let lr = try f.straightState.double("lr")
        #expect(lr != 0.05 && lr != 0.01, "the rate must have moved")
    }

    @Test func aStateOfTheOtherRuleIsRefused() throws {
        let add: any Optimizer<Double> = try OptimizerRegistry.make(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 1e-3, kind: "additive"), shapes: [[2]])
        #expect(add.saveState()["rule"] == nil, "an additive state is what it always was")
        var mult: any Optimizer<Double> = try OptimizerRegistry.make(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 0.02), shapes: [[2]])
        #expect(throws: OptimizerError.self) { try mult.restoreState(add.saveState()) }
    }

    @Test func anUnknownKindIsAnErrorNamingTheKey() {
        do {
            let _: any Optimizer<Double> = try OptimizerRegistry.make(Self.spec(#"{"name": "sgd", "lr": 0.1}"#, beta: 0.02, kind: "exponential"), shapes: [[2]])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("kind"), "\(error)")
        }
    }
}
