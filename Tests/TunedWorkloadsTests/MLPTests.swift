import Foundation
import Testing
import TunedOptim
@testable import TunedWorkloads

struct MLPCase: Sendable, CustomStringConvertible {
    var hidden: [Int]
    var activation: Activation
    var task: TaskType
    var description: String { "\(hidden) \(activation) \(task)" }
}

@Suite struct MLPTests {
    static let cases: [MLPCase] = Activation.allCases.flatMap { a in
        [MLPCase(hidden: [4], activation: a, task: .classification),
         MLPCase(hidden: [4], activation: a, task: .regression),
         MLPCase(hidden: [4, 3], activation: a, task: .classification)]
    }

    /// MLP 5→4→3 (and 5→4→3→3, 5→4→1) on 14 random rows, minibatch of 6, in Double.
    @Test(arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: MLPCase) throws {
        let csv = DataFixture.random(rows: 14, features: 5, classes: c.task == .classification ? 3 : 0, seed: 11)
        let data = try Dataset(csv, options: DatasetOptions(task: c.task, validationFraction: 0.25, splitSeed: 1))
        let model = try DenseModel<Double>(dataset: data, config: .mlp(hidden: c.hidden, activation: c.activation, batchSize: 6))
        var p = model.initialParameters(seed: 5)
        // Non-zero biases, so that their gradients are exercised away from the init.
        for i in stride(from: 1, to: p.count, by: 2) { for j in p[i].values.indices { p[i].values[j] = 0.1 * Double(j + 1) - 0.15 } }
        let err = maxGradientError(model, p, batch: 1, seed: 3)
        print("gradient check MLP \(c): max relative error \(err)")
        #expect(err < 1e-6, "max relative gradient error \(err)")
    }

    @Test func geluIsTheExactErfForm() {
        let z: [Double] = [-2, -0.5, 0, 0.7, 3]
        var zz = z, a = [Double](repeating: 0, count: 5)
        let bias = [Double](repeating: 0, count: 5)
        zz.withUnsafeMutableBufferPointer { zp in a.withUnsafeMutableBufferPointer { ap in
            Activation.gelu.apply(zp.baseAddress!, ap.baseAddress!, bias: bias, rows: 1, cols: 5)
        } }
        for (x, y) in zip(z, a) {
            let exact = 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            #expect(abs(y - exact) <= 1e-15 * max(1, abs(exact)))
        }
        // The tanh approximation differs visibly at x = 0.7 (by ~2e-4 × …): not used.
        let approx = 0.5 * 0.7 * (1 + tanh((2 / Double.pi).squareRoot() * (0.7 + 0.044715 * 0.343)))
        #expect(abs(a[3] - approx) > 1e-6)
    }

    @Test func parameterLayoutIsOutByInMatricesWithSeparateBiases() throws {
        let model = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [64]))
        #expect(model.parameterShapes == [[64, 64], [64], [10, 64], [10]])
        let p = model.initialParameters(seed: 0)
        #expect(p == model.initialParameters(seed: 0))
        #expect(p != model.initialParameters(seed: 1))
        #expect(p[1].values.allSatisfy { $0 == 0 })
        let bound = Float((6.0 / 64).squareRoot())  // He uniform for the ReLU layer
        #expect(p[0].values.allSatisfy { abs($0) <= bound })
        #expect(p[0].values.contains { abs($0) > 0.9 * bound })
    }

    @Test func featuresDescribeTheDigitsMLP() throws {
        let f = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [64])).features
        #expect(f.modelKind == "mlp" && f.taskType == "classification")
        #expect(f.parameterCount == 64 * 64 + 64 + 10 * 64 + 10)
        #expect(f.depth == 2 && f.widestLayer == 64 && f.inputSize == 64 && f.outputSize == 10)
        #expect(f.datasetSize == 1797 && f.batchSize == 64)
        #expect(abs(f.matrixParameterFraction! - Double(64 * 64 + 640) / 4810) < 1e-15)
    }

    @Test func floatAndDoubleModelsAgreeToFloatPrecision() throws {
        let md = try DenseModel<Double>(dataset: DataFixture.digits, config: .mlp(hidden: [32], activation: .gelu))
        let mf = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [32], activation: .gelu))
        let pd = md.initialParameters(seed: 4), pf = mf.initialParameters(seed: 4)
        var gd = [Tensor<Double>](), gf = [Tensor<Float>]()
        let ld = md.lossAndGradient(pd, batch: 3, seed: 1, batchSize: nil, gradients: &gd)
        let lf = mf.lossAndGradient(pf, batch: 3, seed: 1, batchSize: nil, gradients: &gf)
        #expect(abs(ld - lf) < 1e-5 * ld)
        let scale = gd[0].values.map(abs).max()!
        for (a, b) in zip(gd[0].values, gf[0].values) { #expect(abs(a - Double(b)) < 1e-4 * scale) }
    }

    /// Steps write into the caller's gradient storage in place (no reallocation), and a
    /// gradient list of the wrong shapes is rebuilt rather than trapping.
    @Test func gradientStorageIsReusedAcrossSteps() throws {
        let model = try DenseModel<Float>(dataset: DataFixture.digits, config: .mlp(hidden: [16]))
        let p = model.initialParameters(seed: 0)
        var g = [Tensor<Float>]()
        _ = model.lossAndGradient(p, batch: 0, seed: 0, batchSize: nil, gradients: &g)
        #expect(g.map(\.shape) == model.parameterShapes)
        let before = g.map { $0.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        for b in 1...5 { _ = model.lossAndGradient(p, batch: b, seed: 0, batchSize: nil, gradients: &g) }
        #expect(g.map { $0.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } } == before)
    }

    @Test func evaluateReportsLossesAndAccuracy() throws {
        let model = try DenseModel<Double>(dataset: DataFixture.digits, config: .mlp(hidden: [16]))
        let m = model.evaluate(model.initialParameters(seed: 0))
        // Untrained 10-class model: losses near log 10, accuracy near chance.
        #expect(m.trainLoss > 1.5 && m.trainLoss < 4 && m.validationLoss > 1.5 && m.validationLoss < 4)
        #expect(m.validationAccuracy! >= 0 && m.validationAccuracy! < 0.35)
    }
}
