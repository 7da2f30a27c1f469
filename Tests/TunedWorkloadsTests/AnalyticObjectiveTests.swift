import Foundation
import Testing
import TunedOptim

@testable import TunedWorkloads

/// Loss through `lossAndGradient` (the minibatch loss for the NQM) at a `Double` point.
private func loss(_ w: any Workload<Double>, _ x: [Double], batch: Int = 0, seed: UInt64 = 0, batchSize: Int? = nil)
    -> Double
{
    var g = [Tensor<Double>]()
    return w.lossAndGradient(
        [Tensor(shape: [x.count], values: x)], batch: batch, seed: seed, batchSize: batchSize, gradients: &g)
}

private func gradient(_ w: any Workload<Double>, _ x: [Double], batch: Int = 0, seed: UInt64 = 0, batchSize: Int? = nil)
    -> [Double]
{
    var g = [Tensor<Double>]()
    _ = w.lossAndGradient(
        [Tensor(shape: [x.count], values: x)], batch: batch, seed: seed, batchSize: batchSize, gradients: &g)
    return g[0].values
}

/// Central differences (f(x + hεᵢ) − f(x − hεᵢ))/2h with h = 1e-5·max(1, |xᵢ|): truncation
/// O(h²f‴) and rounding O(ε|f|/h) stay below 1e-8 relative for these objectives.
private func centralDifferences(_ w: any Workload<Double>, _ x: [Double], batch: Int, seed: UInt64, batchSize: Int?)
    -> [Double]
{
    (0..<x.count).map { i in
        let h = 1e-5 * max(1, abs(x[i]))
        var up = x, down = x
        up[i] += h
        down[i] -= h
        return
            (loss(w, up, batch: batch, seed: seed, batchSize: batchSize)
            - loss(w, down, batch: batch, seed: seed, batchSize: batchSize))
            / (up[i] - down[i])
    }
}

private func workload(_ name: String) throws -> (any Workload<Double>, [[Double]]) {
    switch name {
    case "rosenbrock":
        return (try Rosenbrock<Double>(), [[-1.5, 2.0], [0.3, -0.7], [1.2, 1.44], [-0.01, 3]])
    case "rosenbrock-5d":
        return (
            try Rosenbrock<Double>(a: 1.5, b: 10, dimension: 5),
            [[-1.5, 2, -1.5, 2, -1.5], [0.1, 0.2, -0.3, 0.9, 1.7]]
        )
    case "beale":
        return (try Beale<Double>(), [[1, 1], [-2, 0.7], [2.5, -0.4], [0.2, 1.3]])
    case "quadratic":
        return (try IllConditionedQuadratic<Double>(dimension: 6, conditionNumber: 1e3), [[1, -2, 3, 0.5, -0.25, 2]])
    case "quadratic-rotated":
        return (
            try IllConditionedQuadratic<Double>(dimension: 6, conditionNumber: 1e3, rotationSeed: 7),
            [[1, -2, 3, 0.5, -0.25, 2]]
        )
    case "nqm":
        return (try NoisyQuadratic<Double>(dimension: 9, batchSize: 3), [(1...9).map { 1 / Double($0) - 0.4 }])
    default:
        throw WorkloadError("no test workload \(name)")
    }
}

@Test(arguments: ["rosenbrock", "rosenbrock-5d", "beale", "quadratic", "quadratic-rotated", "nqm"])
func gradientMatchesCentralDifferencesToOneMillionth(name: String) throws {
    let (w, points) = try workload(name)
    for x in points {
        for (batch, seed, batchSize) in [(0, UInt64(0), Int?.none), (17, 5, 4)] {
            let g = gradient(w, x, batch: batch, seed: seed, batchSize: batchSize)
            let fd = centralDifferences(w, x, batch: batch, seed: seed, batchSize: batchSize)
            let scale = g.map(abs).max() ?? 0
            let error = zip(g, fd).map { abs($0 - $1) }.max() ?? 0
            #expect(scale > 0)
            #expect(error <= 1e-6 * scale, "\(name) at \(x): max |g − fd| = \(error), ‖g‖∞ = \(scale)")
        }
    }
}

@Test(arguments: [(1.0, 100.0), (2.0, 50.0), (-0.5, 10.0), (0.3, 1.0)])
func rosenbrockHasZeroGradientAndLossAtAAndASquared(a: Double, b: Double) throws {
    let w = try Rosenbrock<Double>(a: a, b: b)
    let minimum = [a, a * a]
    #expect(w.minimizer == minimum)
    #expect(loss(w, minimum) == 0)
    #expect(gradient(w, minimum) == [0, 0])
    // A strict minimum: every nearby point is higher.
    for (dx, dy) in [(1e-3, 0.0), (0.0, 1e-3), (-1e-3, 1e-3)] {
        #expect(loss(w, [a + dx, a * a + dy]) > 0)
    }
}

@Test func chainedRosenbrockHasZeroGradientAtOnes() throws {
    let w = try Rosenbrock<Double>(dimension: 7)
    #expect(w.minimizer == Array(repeating: 1, count: 7))
    #expect(loss(w, Array(repeating: 1, count: 7)) == 0)
    #expect(gradient(w, Array(repeating: 1, count: 7)) == Array(repeating: 0, count: 7))
    // n = 2 of the chained form is the classic function: f(−1.5, 2) = 2.5² + 100·0.25² = 12.5.
    #expect(loss(try Rosenbrock<Double>(), [-1.5, 2]) == 12.5)
}

@Test func bealeHasZeroGradientAndLossAtThreeOneHalf() throws {
    let w = try Beale<Double>()
    #expect(loss(w, Beale<Double>.minimizer) == 0)
    #expect(gradient(w, Beale<Double>.minimizer) == [0, 0])
    #expect(loss(w, [3.01, 0.5]) > 0 && loss(w, [3, 0.49]) > 0)
    // f(1, 1) = 1.5² + 2.25² + 2.625² = 14.203125, exact in binary.
    #expect(loss(w, [1, 1]) == 14.203125)
}

/// The reference vectors record torch autograd's gradient and loss before every step of a
/// 200-step Rosenbrock run; the analytic gradient must agree to 1e-12 relative.
@Test(arguments: ["rosenbrock_torch_adam.json", "rosenbrock_lionpytorch_lion.json"])
func rosenbrockMatchesTorchAutogradAlongReferenceTrajectories(file: String) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TunedOptimTests/Fixtures/oracle/\(file)")
    let json = try JSONValue.parse(Data(contentsOf: url))
    let initial = try #require(json["initial"]?.doublesValue)
    let expected = (json["expected"]?.arrayValue ?? []).compactMap { $0.doublesValue }
    let grads = (json["observed_gradients"]?.arrayValue ?? []).compactMap { $0.doublesValue }
    let losses = try #require(json["observed_losses"]?.doublesValue)
    #expect(grads.count == 200 && losses.count == 200)
    let w = try Rosenbrock<Double>()
    for i in 0..<grads.count {
        let x = i == 0 ? initial : expected[i - 1]
        let g = gradient(w, x)
        for j in 0..<2 { #expect(abs(g[j] - grads[i][j]) <= 1e-12 * max(1, abs(grads[i][j])), "step \(i)") }
        #expect(abs(loss(w, x) - losses[i]) <= 1e-12 * max(1, losses[i]), "step \(i)")
    }
}

/// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (converged to 1e-15 off-diagonal).
private func symmetricEigenvalues(_ m: [[Double]]) -> [Double] {
    var a = m
    let n = a.count
    for _ in 0..<100 {
        var off = 0.0
        for p in 0..<n { for q in 0..<n where p != q { off += a[p][q] * a[p][q] } }
        if off < 1e-30 { break }
        for p in 0..<n {
            for q in (p + 1)..<n where a[p][q] != 0 {
                let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - s * akq
                    a[k][q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - s * aqk
                    a[q][k] = s * apk + c * aqk
                }
            }
        }
    }
    return (0..<n).map { a[$0][$0] }.sorted()
}

@Test(arguments: [
    (5, 1e3, UInt64?.none), (8, 1e6, UInt64?(3)), (2, 10, UInt64?(42)), (1, 1, UInt64?.none), (12, 1, UInt64?(1)),
])
func quadraticConditionNumberIsKappa(dimension: Int, kappa: Double, rotationSeed: UInt64?) throws {
    let w = try IllConditionedQuadratic<Double>(
        dimension: dimension, conditionNumber: kappa, rotationSeed: rotationSeed)
    // The Hessian, column j = ∇f(eⱼ) (exact: the gradient is linear).
    let hessian = (0..<dimension).map { j in gradient(w, (0..<dimension).map { $0 == j ? 1 : 0 }) }
    for i in 0..<dimension { for j in 0..<dimension { #expect(abs(hessian[i][j] - hessian[j][i]) <= 1e-13 * kappa) } }
    let eigen = symmetricEigenvalues(hessian)
    let measured = eigen.last! / eigen.first!
    #expect(abs(measured / kappa - 1) <= 1e-9, "cond = \(measured), κ = \(kappa)")
    #expect(abs(eigen.first! - 1) <= 1e-9 && abs(eigen.last! / kappa - 1) <= 1e-9)
    // Log-spaced: consecutive ratios are all κ^(1/(d−1)).
    if dimension > 2 {
        let ratio = Foundation.pow(kappa, 1 / Double(dimension - 1))
        for i in 1..<dimension { #expect(abs(eigen[i] / eigen[i - 1] / ratio - 1) <= 1e-9) }
    }
    #expect(loss(w, Array(repeating: 0, count: dimension)) == 0)
}

@Test(arguments: [
    ("quadratic", #"{"condition_number": 0.5}"#, "condition_number"),
    ("quadratic", #"{"condition_number": "large"}"#, "condition_number"),
    ("quadratic", #"{"dimension": 0}"#, "dimension"),
    ("quadratic", #"{"dimension": -3}"#, "dimension"),
    ("quadratic", #"{"dimension": 1, "condition_number": 10}"#, "condition_number"),
    ("quadratic", #"{"dimension": 4096, "rotation_seed": 1}"#, "rotation_seed"),
    ("nqm", #"{"dimension": 0}"#, "dimension"),
    ("nqm", #"{"dimension": 3, "batch_size": 0}"#, "batch_size"),
    ("nqm", #"{"dimension": 2, "noise": [1, -1]}"#, "noise"),
    ("nqm", #"{"dimension": 3, "curvatures": [1, 0.5]}"#, "curvatures"),
    ("rosenbrock", #"{"dimension": 1}"#, "dimension"),
    ("rosenbrock", #"{"start": [1, 2, 3]}"#, "start"),
    ("rosenbrock", #"{"b": -1}"#, "'b'"),
    ("beale", #"{"x0": [1, 1]}"#, "x0"),
])
func badConfigurationsAreErrorsNamingTheKey(kind: String, config: String, key: String) throws {
    let table = try #require(JSONValue.parse(Data(config.utf8)).objectValue)
    do {
        _ = try AnalyticObjectives.make(kind: kind, config: table, scalar: Double.self)
        Issue.record("\(kind) \(config) was accepted")
    } catch let error as WorkloadError {
        #expect(error.message.contains(key), "\(error.message)")
    }
}

@Test func factoryBuildsEachAnalyticKindAndDeclinesOthers() throws {
    for kind in AnalyticObjectives.kinds {
        let w = try #require(
            try AnalyticObjectives.make(
                kind: kind,
                config: ["kind": .string(kind), "dimension": .number(4)].filter {
                    kind != "beale" || $0.key == "kind"
                }, scalar: Float.self))
        #expect(w.kind == kind)
        #expect(w.features.taskType == "optimization")
        #expect(w.features.parameterCount == w.parameterShapes.reduce(0) { $0 + $1.reduce(1, *) })
        #expect(w.initialParameters(seed: 0).map(\.shape) == w.parameterShapes)
    }
    #expect(try AnalyticObjectives.make(kind: "mlp", config: [:], scalar: Double.self) == nil)
}

@Test func featuresReportTaskTypeParameterCountAndClosedFormNoiseScale() throws {
    let nqm = try NoisyQuadratic<Double>(dimension: 100, batchSize: 8)
    #expect(nqm.features.parameterCount == 100)
    #expect(nqm.features.batchSize == 8)
    // θ₀ = 1: B_simple = Σ(1/i) / Σ(1/i²).
    let h = (1...100).map { 1 / Double($0) }
    let closed = h.reduce(0, +) / h.map { $0 * $0 }.reduce(0, +)
    #expect(abs(try #require(nqm.features.gradientNoiseScale) / closed - 1) <= 1e-12)
    #expect(try Rosenbrock<Double>(dimension: 3).features.parameterCount == 3)
    #expect(try Beale<Double>().features.gradientNoiseScale == 0)
}

@Test func floatWorkloadsAgreeWithDoubleToFloatPrecision() throws {
    let wd = try Rosenbrock<Double>(), wf = try Rosenbrock<Float>()
    var gd = [Tensor<Double>](), gf = [Tensor<Float>]()
    let ld = wd.lossAndGradient(wd.initialParameters(seed: 0), batch: 0, seed: 0, batchSize: nil, gradients: &gd)
    let lf = wf.lossAndGradient(wf.initialParameters(seed: 0), batch: 0, seed: 0, batchSize: nil, gradients: &gf)
    #expect(ld == lf)  // (−1.5, 2) is exact in Float
    #expect(gf[0].values == [-155, -50] && gd[0].values == [-155, -50])
    #expect(wf.evaluate(wf.initialParameters(seed: 0)).trainLoss == 12.5)
}

/// A dimension of 2·10⁹ once made the daemon allocate tens of GB while describing the task.
@Test(arguments: ["rosenbrock", "quadratic", "nqm"])
func analyticDimensionsAreBoundedWithAClearMessage(kind: String) {
    #expect {
        _ = try WorkloadFactory.make(["kind": .string(kind), "dimension": .number(2e9)], baseDirectory: ".", scalar: Double.self)
    } throws: { error in
        "\(error)".contains("\(kind): 'dimension' must be in [") && "\(error)".contains("10000000], got 2000000000")
    }
}
