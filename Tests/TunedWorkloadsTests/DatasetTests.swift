import Foundation
import Testing
import TunedOptim
@testable import TunedWorkloads

@Suite struct DatasetTests {
    @Test func splitIsSeededDisjointAndOfTheRequestedSize() throws {
        let csv = DataFixture.digitsCSV
        let a = try Dataset(csv, options: DatasetOptions(validationFraction: 0.25, splitSeed: 3))
        let b = try Dataset(csv, options: DatasetOptions(validationFraction: 0.25, splitSeed: 3))
        let c = try Dataset(csv, options: DatasetOptions(validationFraction: 0.25, splitSeed: 4))
        #expect(a.validationCount == Int((0.25 * 1797).rounded()))
        #expect(a.trainRows == b.trainRows && a.validationRows == b.validationRows)
        #expect(a.validationRows != c.validationRows)
        #expect(Set(a.trainRows).isDisjoint(with: a.validationRows))
        #expect(Set(a.trainRows + a.validationRows) == Set(0..<1797))
        #expect(DataFixture.digits.validationCount == Int((0.2 * 1797).rounded()))
    }

    @Test func standardisationUsesTrainingStatisticsOnly() throws {
        let csv = DataFixture.diabetesCSV
        let d = try Dataset(csv)
        let n = Double(d.trainCount), f = csv.featureCount
        for c in 0..<f {
            let raw = d.trainRows.map { csv.features[$0 * f + c] }
            let mean = raw.reduce(0, +) / n
            let sd = (raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
            #expect(abs(d.featureMean[c] - mean) <= 1e-12 * max(1, abs(mean)))
            #expect(abs(d.featureScale[c] - sd) <= 1e-12 * sd)
            // Standardised training column: mean 0, sd 1.
            let z = (0..<d.trainCount).map { d.trainInputs[$0 * f + c] }
            #expect(abs(z.reduce(0, +) / n) < 1e-12)
            // Validation rows use the training mean/sd (so their mean is not exactly 0).
            let r = d.validationRows[0]
            #expect(d.validationInputs[c] == (csv.features[r * f + c] - mean) / d.featureScale[c])
        }
        let allMean = (0..<csv.rowCount).map { csv.features[$0 * f] }.reduce(0, +) / Double(csv.rowCount)
        #expect(d.featureMean[0] != allMean)
        // Regression targets: standardised with the training split's statistics.
        let y = d.trainTargets
        #expect(abs(y.reduce(0, +) / n) < 1e-12)
        #expect(abs((y.reduce(0) { $0 + $1 * $1 } / n).squareRoot() - 1) < 1e-12)
    }

    @Test func constantColumnsGetUnitScale() throws {
        let csv = try CSVDataset(text: "a,b,target\n7,1,0\n7,2,1\n7,3,0\n7,4,1\n7,5,1\n", source: "const.csv")
        let d = try Dataset(csv, options: DatasetOptions(validationFraction: 0.2))
        #expect(d.featureScale[0] == 1)
        #expect(d.trainInputs.enumerated().filter { $0.offset % 2 == 0 }.allSatisfy { $0.element == 0 })
    }

    @Test func minibatchOrderIsAPureFunctionOfSeedAndBatch() {
        let s = BatchSampler(count: 1437, batchSize: 64, seed: 9)
        let cache = PermutationCache()
        // Visiting batches out of order through one cache gives what fresh caches give.
        for b in [50, 3, 0, 22, 23, 200, 3, 44, 21] {
            #expect(Array(s.rows(batch: b, cache: cache)).map(Int.init) == s.rows(batch: b))
        }
        #expect(BatchSampler(count: 1437, batchSize: 64, seed: 9).rows(batch: 7) == s.rows(batch: 7))
        #expect(BatchSampler(count: 1437, batchSize: 64, seed: 10).rows(batch: 7) != s.rows(batch: 7))
        // One epoch (⌊1437/64⌋ = 22 batches) visits distinct rows; the next epoch reshuffles.
        let epoch0 = (0..<22).flatMap { s.rows(batch: $0) }
        #expect(Set(epoch0).count == 22 * 64)
        #expect(s.rows(batch: 22) != s.rows(batch: 0))
    }

    @Test func minibatchLossDependsOnlyOnSeedAndBatch() throws {
        let model = try DenseModel<Double>(dataset: DataFixture.digits, config: .mlp(hidden: [16]))
        let p = model.initialParameters(seed: 1)
        var g = [Tensor<Double>]()
        let first = model.lossAndGradient(p, batch: 5, seed: 2, batchSize: nil, gradients: &g)
        for b in [0, 40, 7] { _ = model.lossAndGradient(p, batch: b, seed: 2, batchSize: nil, gradients: &g) }
        let again = try DenseModel<Double>(dataset: DataFixture.digits, config: .mlp(hidden: [16]))
        #expect(model.lossAndGradient(p, batch: 5, seed: 2, batchSize: nil, gradients: &g) == first)
        #expect(again.lossAndGradient(p, batch: 5, seed: 2, batchSize: nil, gradients: &g) == first)
        #expect(model.lossAndGradient(p, batch: 5, seed: 3, batchSize: nil, gradients: &g) != first)
    }
}
