import Foundation
import TunedOptim
import Testing

@testable import TunedMeta
import TunedEngine

/// A synthetic history with a known answer: the best log₁₀ lr of each optimizer falls with the
/// model's size, Adam-W is best on classification and SGD on regression.
enum SyntheticHistory {
    static func bestLogLR(_ optimizer: String, _ logP: Double) -> Double {
        switch optimizer {
        case "sgd": -0.5 - 0.4 * (logP - 3)
        case "lion": -3.5 - 0.4 * (logP - 3)
        default: -2.5 - 0.4 * (logP - 3)
        }
    }

    static func description(_ i: Int) -> TaskDescription {
        let p = Int(pow(10, 2.5 + Double(i % 7) * 0.3))
        return TaskDescription(
            modelKind: i % 3 == 0 ? "softmax" : "mlp", parameterCount: p, depth: 1 + i % 3, widestLayer: 16 << (i % 4),
            matrixParameterFraction: 0.9 + 0.01 * Double(i % 5), datasetSize: 400 + 97 * i, inputSize: 8 + i % 5 * 8,
            outputSize: i % 2 == 0 ? 10 : 1, taskType: i % 2 == 0 ? "classification" : "regression",
            batchSize: nil, stepBudget: 500 + 50 * (i % 4))
    }

    static func loss(_ d: TaskDescription, _ optimizer: String, _ logLR: Double) -> Double {
        let logP = log10(Double(d.parameterCount!))
        let favoured = d.taskType == "classification" ? "adamw" : "sgd"
        let base = 0.2 + 0.01 * Double(d.datasetSize! % 7)
        let miss = logLR - bestLogLR(optimizer, logP)
        return base * (optimizer == favoured ? 1 : 1.3) * (1 + miss * miss)
    }

    static func tasks(_ count: Int = 24) -> [PolicyTrainingTask] {
        (0..<count).map { i in
            let d = description(i)
            var trials: [PolicyTrainingTask.Trial] = []
            for optimizer in ["sgd", "adamw", "lion"] {
                for k in 0..<13 {
                    let logLR = -5 + 5 * Double(k) / 12
                    trials.append(.init(
                        config: ["optimizer": .string(optimizer), "lr": .number(pow(10, logLR)), "batch_size": .number(32),
                                 "weight_decay": .number(1e-4), "beta1": .number(0.9), "beta2": .number(0.999)],
                        loss: loss(d, optimizer, logLR)))
                }
            }
            return PolicyTrainingTask(id: Int64(i + 1), name: "synthetic-\(i)", features: d, trials: trials)
        }
    }
}

@Suite struct PolicyTests {
    @Test func aFittedPolicyRecoversTheBestOptimizerAndLearningRateOfAnUnseenTask() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let unseen = SyntheticHistory.description(40)  // classification, not in the history
        let r = Recommender(policy: policy).recommend(unseen, top: 3)
        let first = try #require(r.options.first)
        #expect(first.optimizer == "adamw")
        let lr = try #require(first.config["lr"]?.doubleValue)
        let truth = SyntheticHistory.bestLogLR("adamw", log10(Double(unseen.parameterCount!)))
        #expect(abs(log10(lr) - truth) < 0.3)
        #expect(r.options.count == 3)
        #expect(first.lossLow <= first.predictedLoss && first.predictedLoss <= first.lossHigh)
        let trueBest = SyntheticHistory.loss(unseen, "adamw", truth)
        #expect(first.lossLow <= trueBest && trueBest <= first.lossHigh)
        #expect(r.nearest.count == 3)
        #expect(r.nearest[0].distance <= r.nearest[1].distance)
    }

    /// A family's label is a softmin-weighted mean: two trials 1 % apart share it almost
    /// equally, a trial 100× worse barely counts, and a trial without the key is skipped.
    @Test func labelsAreSoftminWeightedOverTheFamilysTrials() throws {
        func trial(_ lr: Double?, _ loss: Double) -> PolicyTrainingTask.Trial {
            .init(config: lr.map { ["optimizer": .string("sgd"), "lr": .number($0)] } ?? ["optimizer": .string("sgd")], loss: loss)
        }
        let logLR: (PolicyTrainingTask.Trial) -> Double? = { $0.config["lr"]?.doubleValue.map(log10) }
        let near = try #require(PolicyFitter.softminLabel([trial(1e-2, 0.100), trial(1e-1, 0.101)], logLR))
        #expect(near > -1.6 && near < -1.4, "\(near)")
        let far = try #require(PolicyFitter.softminLabel([trial(1e-2, 0.100), trial(1, 10.0), trial(nil, 0.01)], logLR))
        #expect(abs(far - -2) < 0.01, "\(far)")
        #expect(PolicyFitter.softminLabel([trial(nil, 0.1)], logLR) == nil)
    }

    @Test func regressionTasksGetTheOptimizerThatWinsOnRegression() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let r = Recommender(policy: policy).recommend(SyntheticHistory.description(41))
        #expect(r.options.first?.optimizer == "sgd")
    }

    @Test func theMemoryBudgetExcludesOptimizersWhoseStateDoesNotFit() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        var d = SyntheticHistory.description(40)
        d.optimizerMemoryBytesPerParameter = 4
        let r = Recommender(policy: policy).recommend(d, top: 3)
        #expect(r.excluded["adamw"]?.contains("needs 8 bytes") == true)
        #expect(!r.options.contains { $0.optimizer == "adamw" })
        #expect(r.options.allSatisfy { ($0.stateBytesPerParameter ?? 0) <= 4 })
    }

    @Test func fewerFeaturesStillAnswerWithLowerConfidence() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let full = Recommender(policy: policy).recommend(SyntheticHistory.description(40))
        let two = Recommender(policy: policy).recommend(TaskDescription(parameterCount: 5000, taskType: "classification"))
        #expect(!two.options.isEmpty)
        #expect(two.confidence < full.confidence)
        #expect(two.missingFeatures.contains("dataset_size"))
    }

    @Test func aFixedBatchSizeIsKeptAndTheStepBudgetGivesAWarmupCosineSchedule() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        var d = SyntheticHistory.description(40)
        d.batchSize = 128
        d.gradientNoiseScale = 1e6
        let c = try #require(Recommender(policy: policy).recommend(d).options.first?.config)
        #expect(c["batch_size"]?.doubleValue == 128)
        #expect(c["schedule"]?["kind"]?.stringValue == "warmup_cosine")
        #expect(c["schedule"]?["total_steps"]?.doubleValue == Double(d.stepBudget!))
    }

    /// The optimizers are built to measure their state; for a described 10¹² parameters that
    /// once meant allocating terabytes (the daemon hung, growing, on one `recommend`).
    @Test func aHugeDescribedModelIsMeasuredOnScaledDownShapes() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let huge = TaskDescription(
            parameterCount: 1_000_000_000_000, widestLayer: 65_536, matrixParameterFraction: 0.98, taskType: "classification")
        let shapes = Recommender.shapes(huge)
        let elements = shapes.reduce(0) { $0 + $1.reduce(1, *) }
        #expect(elements <= Recommender.shapeElementLimit && elements > Recommender.shapeElementLimit / 2)
        #expect(abs(Double(shapes[0].reduce(1, *)) / Double(elements) - 0.98) < 0.01)
        let options = Recommender(policy: policy).recommend(huge, top: 5).options
        #expect(options.count >= 3)
        // Bytes per parameter as on a model of the same make-up that is small enough to build.
        let same = Recommender.shapes(TaskDescription(parameterCount: 60_000, widestLayer: 240, matrixParameterFraction: 0.98))
        for o in options {
            let expected = try #require(Recommender.stateBytes(o.config, shapes: same))
            #expect(abs((o.stateBytesPerParameter ?? -1) - expected) < 0.01, "\(o.optimizer)")
        }
        #expect(options.first { $0.optimizer == "adamw" }?.stateBytesPerParameter == 8)
        // A rate moved by the batch-size rule stays inside the family's fitted range (a noise
        // scale of 1e-12 against a batch of 10¹⁵ once gave Lion a learning rate of 0).
        var extreme = huge
        (extreme.batchSize, extreme.datasetSize, extreme.gradientNoiseScale) = (1_000_000_000_000_000, 1_000_000_000_000_000, 1e-12)
        for o in Recommender(policy: policy).recommend(extreme, top: 5).options {
            let family = try #require(policy.families.first { $0.optimizer == o.optimizer })
            let lr = try #require(o.config["lr"]?.doubleValue)
            #expect(lr > 0 && log10(lr) >= family.learningRate.low - 0.01 && log10(lr) <= family.learningRate.high + 0.01, "\(o.optimizer) lr \(lr)")
        }
        // Below the limit the shapes are the described ones.
        let small = Recommender.shapes(TaskDescription(parameterCount: 5000, widestLayer: 64, matrixParameterFraction: 0.9))
        #expect(small == [[64, 70], [520]])
    }

    @Test func hypergradientIsOffUnderTheScheduleAndOnAtAConstantLearningRate() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let scheduled = Recommender(policy: policy).recommend(SyntheticHistory.description(40), top: 5).options
        #expect(!scheduled.isEmpty)
        for o in scheduled { #expect(o.hypergradientBeta == 0 && o.config["schedule"] != nil) }
        var d = SyntheticHistory.description(40)
        d.stepBudget = nil
        let constant = Recommender(policy: policy).recommend(d, top: 5).options
        for o in constant {
            #expect(o.config["schedule"] == nil)
            #expect(o.hypergradientBeta == (["sgd", "momentum"].contains(o.optimizer) ? 1e-3 : 1e-7), "\(o.optimizer)")
        }
    }

    @Test func muonIsExcludedWithoutMatrixParameters() throws {
        var tasks = SyntheticHistory.tasks()
        for i in tasks.indices {
            tasks[i].trials.append(.init(config: ["optimizer": .string("muon"), "lr": .number(0.02)], loss: 10))
        }
        let policy = try PolicyFitter.fit(tasks, name: "synthetic", source: "test")
        var d = SyntheticHistory.description(40)
        d.matrixParameterFraction = 0
        let r = Recommender(policy: policy).recommend(d, top: 5)
        #expect(r.excluded["muon"] != nil)
        d.matrixParameterFraction = 0.9
        let withMuon = Recommender(policy: policy).recommend(d, top: 5)
        #expect(withMuon.options.first { $0.optimizer == "muon" }?.parameterGroups?.contains("AdamW") == true)
    }

    @Test func theDocumentRoundTripsThroughJSONWithItsProvenance() throws {
        let policy = try PolicyFitter.fit(SyntheticHistory.tasks(), name: "synthetic", source: "test")
        let data = try PolicyCodec.encode(policy)
        let back = try PolicyCodec.decode(data, source: "p.json")
        #expect(back == policy)
        #expect(back.provenance.tasks.count == 24)
        #expect(back.statistics["tasks"] == 24)
        #expect(policy.families.first { $0.optimizer == "adamw" }!.learningRate.lambda.isFinite)
    }

    @Test func aDocumentOfAnotherSchemaIsRefusedWithAClearMessage() {
        #expect {
            try PolicyCodec.decode(Data(#"{"schema": 99, "kind": "recommendation"}"#.utf8), source: "old.json")
        } throws: { error in
            "\(error)".contains("old.json") && "\(error)".contains("schema 99")
        }
    }

    @Test func tooSmallAHistoryIsAnError() {
        #expect(throws: PolicyFitter.FitError.self) {
            try PolicyFitter.fit(Array(SyntheticHistory.tasks().prefix(1)), name: "x", source: "test")
        }
    }
}
