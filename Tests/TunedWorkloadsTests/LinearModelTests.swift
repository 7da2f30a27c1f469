import Foundation
import Testing
import TunedOptim
@testable import TunedWorkloads

@Suite struct LinearModelTests {
    @Test(arguments: [ModelKind.linreg, .logreg, .softmax])
    func gradientMatchesFiniteDifferences(_ kind: ModelKind) throws {
        let classes = kind == .linreg ? 0 : (kind == .logreg ? 2 : 4)
        let csv = DataFixture.random(rows: 16, features: 5, classes: classes, seed: 21)
        let data = try Dataset(csv, options: DatasetOptions(validationFraction: 0.25))
        let model = try DenseModel<Double>(dataset: data, config: DenseModelConfig(kind: kind, batchSize: 8))
        var p = model.initialParameters(seed: 2)
        for j in p[1].values.indices { p[1].values[j] = 0.2 * Double(j) - 0.1 }
        let err = maxGradientError(model, p, batch: 1, seed: 8)
        print("gradient check \(kind): max relative error \(err)")
        #expect(err < 1e-6, "max relative gradient error \(err)")
    }

    @Test func shapesAndKindsMatchTheTask() throws {
        let logreg = try DenseModel<Double>(
            dataset: Dataset(DataFixture.random(rows: 10, features: 3, classes: 2, seed: 1)), config: DenseModelConfig(kind: .logreg))
        #expect(logreg.parameterShapes == [[1, 3], [1]])
        let softmax = try DenseModel<Double>(dataset: DataFixture.digits, config: DenseModelConfig(kind: .softmax))
        #expect(softmax.parameterShapes == [[10, 64], [10]])
        let linreg = try DenseModel<Double>(dataset: DataFixture.diabetes, config: DenseModelConfig(kind: .linreg))
        #expect(linreg.parameterShapes == [[1, 10], [1]])
        #expect(linreg.evaluate(linreg.initialParameters(seed: 0)).validationAccuracy == nil)
    }

    @Test func mismatchedKindAndTaskIsAnError() {
        #expect(throws: WorkloadError.self) { try DenseModel<Double>(dataset: DataFixture.digits, config: DenseModelConfig(kind: .linreg)) }
        #expect(throws: WorkloadError.self) { try DenseModel<Double>(dataset: DataFixture.digits, config: DenseModelConfig(kind: .logreg)) }
        #expect(throws: WorkloadError.self) { try DenseModel<Double>(dataset: DataFixture.diabetes, config: DenseModelConfig(kind: .softmax)) }
        #expect(throws: WorkloadError.self) {
            try DenseModel<Double>(dataset: DataFixture.digits, config: DenseModelConfig(kind: .softmax, hidden: [3]))
        }
    }

    /// Logits of ±1e4 overflow a naive exp; the stable forms give finite losses and
    /// gradients in both precisions.
    @Test func crossEntropiesAreStableForHugeLogits() throws {
        let bin = try Dataset(DataFixture.random(rows: 10, features: 3, classes: 2, seed: 1))
        let logreg = try DenseModel<Float>(dataset: bin, config: DenseModelConfig(kind: .logreg, batchSize: 8))
        let softmax = try DenseModel<Float>(dataset: DataFixture.digits, config: DenseModelConfig(kind: .softmax))
        for model in [logreg, softmax] {
            var p = model.initialParameters(seed: 0)
            for j in p[0].values.indices { p[0].values[j] *= 1e4 }
            var g = [Tensor<Float>]()
            let loss = model.lossAndGradient(p, batch: 0, seed: 0, batchSize: nil, gradients: &g)
            #expect(loss.isFinite && loss > 0)
            #expect(g.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        }
    }

    @Test func linearRegressionOnDiabetesLearns() throws {
        let model = try DenseModel<Double>(dataset: DataFixture.diabetes, config: DenseModelConfig(kind: .linreg, batchSize: 32))
        var trainer = try Trainer(workload: model, optimizer: OptimizerSpec(name: "sgd", hyperparameters: Hyperparameters(["lr": .number(0.05)])), seed: 0, evalEvery: 500)
        let start = model.evaluate(trainer.parameters).validationLoss
        let r = trainer.run(until: 1000)
        // Standardised targets: predicting the mean scores ≈ 1; a linear fit explains about
        // half of the variance (0.66 on this split).
        #expect(r.records.last!.validationLoss < 0.75 && r.records.last!.validationLoss < 0.5 * start)
    }
}
