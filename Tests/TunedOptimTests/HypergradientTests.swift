import Foundation
import Testing
@testable import TunedOptim

/// Straightforward Double ports of gbaydin/hypergradient-descent's loops, written
/// independently of the optimizers under test: all parameters as one flat vector for SGD-HD,
/// one tensor after another for Adam-HD.
enum ReferenceHD {
    static func sgdHD(
        _ p0: [[Double]], _ grads: [[[Double]]], lr lr0: Double, momentum: Double, dampening: Double, weightDecay: Double,
        nesterov: Bool, beta: Double
    ) -> (params: [[Double]], lrs: [Double]) {
        var p = p0.flatMap { $0 }
        var lr = lr0
        var gradPrev = [Double](repeating: 0, count: p.count)
        var buf: [Double]? = nil
        var lrs = [Double]()
        for g in grads {
            var grad = g.flatMap { $0 }
            for j in grad.indices where weightDecay != 0 { grad[j] += weightDecay * p[j] }
            var h = 0.0
            for j in grad.indices { h += grad[j] * gradPrev[j] }
            lr += beta * h
            if momentum != 0 {
                if buf == nil {
                    buf = grad
                } else {
                    for j in grad.indices { buf![j] = buf![j] * momentum + (1 - dampening) * grad[j] }
                }
                if nesterov {
                    for j in grad.indices { grad[j] += momentum * buf![j] }
                } else {
                    grad = buf!
                }
            }
            gradPrev = grad
            for j in p.indices { p[j] += -lr * grad[j] }
            lrs.append(lr)
        }
        return (unflatten(p, like: p0), lrs)
    }

    static func adamHD(
        _ p0: [[Double]], _ grads: [[[Double]]], lr lr0: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
        beta: Double
    ) -> (params: [[Double]], lrs: [Double]) {
        var p = p0
        var lr = lr0
        var m = p0.map { [Double](repeating: 0, count: $0.count) }
        var v = m
        var lrs = [Double]()
        for (t0, g) in grads.enumerated() {
            let t = Double(t0 + 1)
            for i in p.indices {
                var grad = g[i]
                if weightDecay != 0 { for j in grad.indices { grad[j] += weightDecay * p[i][j] } }
                if t > 1 {
                    var dot = 0.0
                    for j in grad.indices { dot += grad[j] * m[i][j] / (v[i][j].squareRoot() + eps) }
                    lr += beta * dot * (1 - pow(beta2, t - 1)).squareRoot() / (1 - pow(beta1, t - 1))
                }
                for j in grad.indices {
                    m[i][j] = m[i][j] * beta1 + (1 - beta1) * grad[j]
                    v[i][j] = v[i][j] * beta2 + (1 - beta2) * grad[j] * grad[j]
                }
                let stepSize = lr * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
                for j in grad.indices { p[i][j] -= stepSize * m[i][j] / (v[i][j].squareRoot() + eps) }
            }
            lrs.append(lr)
        }
        return (p, lrs)
    }

    static func unflatten(_ flat: [Double], like shape: [[Double]]) -> [[Double]] {
        var out = [[Double]](), k = 0
        for s in shape {
            out.append(Array(flat[k..<k + s.count]))
            k += s.count
        }
        return out
    }
}

@Suite struct HypergradientTests {
    typealias F = StructuredFixture
    static let shapes = [[4, 3], [5]]

    /// Fixed gradients (not parameter-dependent), as the reference loops take them.
    static func gradients(_ steps: Int, largeStep: Int? = 5) -> [[[Double]]] {
        var rng = F.Numbers(state: 99)
        return (0..<steps).map { t in shapes.map { s in (0..<s.reduce(1, *)).map { _ in rng.next() * (t == largeStep ? 100 : 1) } } }
    }

    static func run(_ spec: OptimizerSpec, steps: Int, largeStep: Int? = 5) throws -> (params: [[Double]], lrs: [Double]) {
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: shapes)
        var p: [Tensor<Double>] = F.initial(shapes)
        var lrs = [Double]()
        for g in gradients(steps, largeStep: largeStep) {
            opt.step(&p, gradients: zip(shapes, g).map { Tensor(shape: $0, values: $1) })
            lrs.append(opt.learningRate)
        }
        return (p.map(\.values), lrs)
    }

    static func maxRelativeError(_ a: [[Double]], _ b: [[Double]]) -> Double {
        zip(a.flatMap { $0 }, b.flatMap { $0 }).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
    }

    @Test(arguments: [
        (0.0, 0.0, 0.0, false), (0.9, 0.0, 0.0, false), (0.9, 0.0, 0.01, true), (0.5, 0.3, 0.05, false),
    ])
    func sgdHDMatchesTheReferenceLoop(_ momentum: Double, _ dampening: Double, _ weightDecay: Double, _ nesterov: Bool) throws {
        let json = #"{"lr": 0.05, "hypergrad_lr": 0.002, "momentum": \#(momentum), "dampening": \#(dampening), "#
            + #""weight_decay": \#(weightDecay), "nesterov": \#(nesterov), "lr_min": 0, "lr_max": 1e9}"#
        // No ×100 step: it would drive the unclamped reference rate negative.
        let got = try Self.run(F.spec("sgd_hd", json), steps: 12, largeStep: nil)
        let p0: [Tensor<Double>] = F.initial(Self.shapes)
        let want = ReferenceHD.sgdHD(p0.map(\.values), Self.gradients(12, largeStep: nil), lr: 0.05, momentum: momentum, dampening: dampening,
                                     weightDecay: weightDecay, nesterov: nesterov, beta: 0.002)
        #expect(want.lrs.allSatisfy { $0 > 0 }, "the reference rate must stay inside the bounds for this comparison")
        #expect(Self.maxRelativeError(got.params, want.params) < 1e-12)
        #expect(zip(got.lrs, want.lrs).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) })
        #expect(Set(got.lrs).count > 5, "the learning rate must actually move")
    }

    @Test(arguments: [(0.0, [0.9, 0.999]), (0.01, [0.8, 0.99])])
    func adamHDMatchesTheReferenceLoop(_ weightDecay: Double, _ betas: [Double]) throws {
        let json = #"{"lr": 0.01, "hypergrad_lr": 0.0001, "betas": [\#(betas[0]), \#(betas[1])], "#
            + #""weight_decay": \#(weightDecay), "lr_min": 0, "lr_max": 1e9}"#
        let got = try Self.run(F.spec("adam_hd", json), steps: 12)
        let p0: [Tensor<Double>] = F.initial(Self.shapes)
        let want = ReferenceHD.adamHD(p0.map(\.values), Self.gradients(12), lr: 0.01, beta1: betas[0], beta2: betas[1],
                                      eps: 1e-8, weightDecay: weightDecay, beta: 1e-4)
        #expect(Self.maxRelativeError(got.params, want.params) < 1e-12)
        #expect(zip(got.lrs, want.lrs).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) })
        #expect(Set(got.lrs).count > 5, "the learning rate must actually move")
    }

    @Test(arguments: [0.0, 0.9])
    func hypergradientWrapperOnSGDEqualsSGDHD(_ momentum: Double) throws {
        let bounds = #""lr_min": 0.0001, "lr_max": 10"#
        let wrapped = F.spec("hypergradient", #"{"optimizer": {"name": "sgd", "lr": 0.05, "momentum": \#(momentum)}, "#
            + #""hypergrad_lr": 0.002, \#(bounds)}"#)
        let direct = F.spec("sgd_hd", #"{"lr": 0.05, "momentum": \#(momentum), "hypergrad_lr": 0.002, \#(bounds)}"#)
        let a = try Self.run(wrapped, steps: 15), b = try Self.run(direct, steps: 15)
        #expect(Self.maxRelativeError(a.params, b.params) < 1e-12)
        #expect(zip(a.lrs, b.lrs).allSatisfy { abs($0 - $1) <= 1e-11 * abs($1) }, "\(a.lrs) vs \(b.lrs)")
    }

    /// β_h = 1e6 on a quadratic with curvatures in [0.5, 1.5]: the hypergradient explodes, the
    /// clamp holds lr inside [lr_min, lr_max] (where this quadratic is stable) and nothing is NaN.
    @Test(arguments: ["sgd_hd", "sgdn_hd", "adam_hd", "hypergradient"])
    func anAbsurdHypergradientRateNeverYieldsNaNAndKeepsLrInRange(_ name: String) throws {
        let json = name == "hypergradient"
            ? #"{"optimizer": {"name": "adam", "lr": 0.05}, "hypergrad_lr": 1e6, "lr_min": 1e-6, "lr_max": 0.5}"#
            : #"{"lr": 0.05, "hypergrad_lr": 1e6, "lr_min": 1e-6, "lr_max": 0.5}"#
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(F.spec(name, json), shapes: [[4, 3]])
        var p: [Tensor<Double>] = F.initial([[4, 3]])
        var seen = Set<Double>()
        for t in 1...200 {
            opt.step(&p, gradients: F.gradient(p, step: t))
            #expect(opt.learningRate >= 1e-6 && opt.learningRate <= 0.5, "step \(t): lr \(opt.learningRate)")
            seen.insert(opt.learningRate)
        }
        let finite = p[0].values.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(seen.contains(0.5) || seen.contains(1e-6), "the clamp should have been reached: \(seen.sorted().prefix(5))")
    }

    @Test func aNonFiniteHypergradientIsCountedAndIgnored() throws {
        var opt = try SGDHD<Double>(Hyperparameters(["lr": .number(0.1), "hypergrad_lr": .number(0.01)]), shapes: [[2]])
        var p = [Tensor(shape: [2], values: [1.0, 1.0])]
        opt.step(&p, gradients: [Tensor(shape: [2], values: [1.0, 1.0])])
        opt.step(&p, gradients: [Tensor(shape: [2], values: [.infinity, 1.0])])
        #expect(opt.nonFiniteHypergradients == 1)
        #expect(opt.learningRate == 0.1)
        #expect(opt.lastHypergradient == 0)
    }

    @Test(arguments: [
        (#"{"lr_min": 1, "lr_max": 0.5}"#, "lr_max"), (#"{"lr_min": -1}"#, "lr_min"), (#"{"hypergrad_lr": -1}"#, "hypergrad_lr"),
        (#"{"nesterov": true}"#, "nesterov"),
    ])
    func badHypergradientSettingsAreErrorsNamingTheKey(_ json: String, _ key: String) {
        do {
            _ = try SGDHD<Double>(Hyperparameters(F.object(json)), shapes: [[2]])
            Issue.record("expected an error naming '\(key)'")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func defaultBoundsAreRelativeToTheInitialRate() throws {
        let opt = try AdamHD<Float>(Hyperparameters(["lr": .number(0.002)]), shapes: [[2]])
        #expect(abs(opt.bounds.min - 2e-9) < 1e-24 && abs(opt.bounds.max - 0.02) < 1e-17)
    }
}
