import Foundation
import TunedOptim
import TunedEngine
import TunedWorkloads

/// What `recommend` answers (docs/META.md, "The recommend output").
public struct RecommendationReport: Sendable, Equatable, Codable {
    public struct Option: Sendable, Equatable, Codable {
        public var optimizer: String
        /// A trial configuration, usable as is (`TrialConfig` keys).
        public var config: [String: JSONValue]
        /// Predicted best validation loss and its band (LOTO ± 2·RMSE on the log scale).
        public var predictedLoss: Double
        public var lossLow: Double
        public var lossHigh: Double
        /// Optimizer-state bytes per parameter (float32), measured on the task's shapes.
        public var stateBytesPerParameter: Double?
        /// Which parameters get which optimizer (Muon: matrices; AdamW: the rest).
        public var parameterGroups: String?
        /// Hypergradient descent β_h for this configuration; 0 = off (`Recommender.hypergradientBeta`).
        public var hypergradientBeta: Double

        enum CodingKeys: String, CodingKey {
            case optimizer, config
            case predictedLoss = "predicted_loss"
            case lossLow = "loss_low"
            case lossHigh = "loss_high"
            case stateBytesPerParameter = "state_bytes_per_parameter"
            case parameterGroups = "parameter_groups"
            case hypergradientBeta = "hypergradient_beta"
        }
    }

    public struct Neighbour: Sendable, Equatable, Codable {
        public var name: String
        public var id: Int64?
        public var distance: Double
        public var bestLoss: Double
        public var bestConfig: [String: JSONValue]

        enum CodingKeys: String, CodingKey {
            case name, id, distance
            case bestLoss = "best_loss"
            case bestConfig = "best_config"
        }
    }

    public var policy: String
    public var options: [Option]
    /// 0…1: lower when features are missing, the task is far from the history, or it is small.
    public var confidence: Double
    public var missingFeatures: [String]
    /// Optimizers the constraints ruled out, with the reason.
    public var excluded: [String: String]
    public var nearest: [Neighbour]

    enum CodingKeys: String, CodingKey {
        case policy, options, confidence, excluded, nearest
        case missingFeatures = "missing_features"
    }
}

/// Recommends configurations for a described task from a `PolicyDocument`.
public struct Recommender: Sendable {
    public let policy: PolicyDocument

    public init(policy: PolicyDocument) { self.policy = policy }

    public func recommend(_ task: TaskDescription, top k: Int = 1) -> RecommendationReport {
        let (z, present) = policy.encoding.encode(task)
        let nearest = neighbours(z, present)
        let shapes = Self.shapes(task)
        var excluded: [String: String] = [:]
        var options: [RecommendationReport.Option] = []
        let base = policy.baseline.predict(z)
        for family in policy.families {
            let config = config(family, task, z, nearest)
            let bytes = Self.stateBytes(config, shapes: shapes)
            if let budget = task.optimizerMemoryBytesPerParameter, let b = bytes, b > budget + 1e-9 {
                excluded[family.optimizer] =
                    "needs \(Self.short(b)) bytes of optimizer state per parameter; the budget is \(Self.short(budget))"
                continue
            }
            if family.optimizer == "muon", let f = task.matrixParameterFraction, f == 0 {
                excluded[family.optimizer] = "Muon updates matrices only, and this task has no matrix parameters"
                continue
            }
            let logLoss = base + family.gap.predict(z)
            let spread = 2 * (policy.baseline.lotoRMSE + family.gap.lotoRMSE) + 0.05
            options.append(
                RecommendationReport.Option(
                    optimizer: family.optimizer, config: config,
                    predictedLoss: pow(10, logLoss), lossLow: pow(10, logLoss - spread),
                    lossHigh: pow(10, logLoss + spread), stateBytesPerParameter: bytes,
                    parameterGroups: family.optimizer == "muon"
                        ? "Muon for the 2-D weight matrices (hidden and output layers); AdamW for biases and other vectors"
                        : nil,
                    hypergradientBeta: Self.hypergradientBeta(family.optimizer, scheduled: config["schedule"] != nil)))
        }
        options.sort { $0.predictedLoss < $1.predictedLoss }
        return RecommendationReport(
            policy: policy.name, options: Array(options.prefix(max(k, 1))),
            confidence: confidence(present, nearest), missingFeatures: task.missingKeys, excluded: excluded,
            nearest: Array(nearest.prefix(3)))
    }

    /// β_h for a recommended configuration. With a warm-up + cosine schedule, off: the schedule
    /// already drives the learning rate, and on the shipped suite adding HD to the recommended
    /// configurations (β_h 10⁻³ SGD-like, 10⁻⁷ otherwise) made 22 of 28 tasks worse (median LOTO
    /// regret 0.121 against 0.055 without; docs/PERFORMANCE.md). At a constant learning rate (no
    /// step budget given), Baydin et al.'s values, which let HD correct a mispredicted rate.
    static func hypergradientBeta(_ optimizer: String, scheduled: Bool) -> Double {
        if scheduled { return 0 }
        return LearningRateScaling.Family(optimizer: optimizer) == .sgdLike ? 1e-3 : 1e-7
    }

    func config(
        _ f: PolicyDocument.FamilyModel, _ task: TaskDescription, _ z: [Double], _ nearest: [RecommendationReport.Neighbour]
    ) -> [String: JSONValue] {
        var c: [String: JSONValue] = ["optimizer": .string(f.optimizer)]
        var lr = pow(10, f.learningRate.predict(z))
        let modelBatch = f.batchSize.map { pow(2, $0.predict(z)) }
        var batch: Double? = modelBatch.map { pow(2, log2($0).rounded()) }
        if let fixed = task.batchSize {
            // Keep the user's batch size; move the learning rate with the batch-size rule.
            if let b = modelBatch {
                lr = LearningRateScaling.rescale(
                    lr, optimizer: f.optimizer, from: b, to: Double(fixed), noiseScale: task.gradientNoiseScale)
            }
            batch = Double(fixed)
        } else if let bn = task.gradientNoiseScale, let b = batch, b > bn {
            // Past B_noise a larger batch buys no fewer steps: stay at the critical batch size.
            let b1 = pow(2, max(log2(bn).rounded(.down), 0))
            lr = LearningRateScaling.rescale(lr, optimizer: f.optimizer, from: b, to: b1, noiseScale: bn)
            batch = b1
        }
        if let n = task.datasetSize, let b = batch { batch = min(b, Double(n)) }
        // A rescaled rate stays inside the range the family's model was fitted on, like its predictions.
        lr = min(max(lr, pow(10, f.learningRate.low)), pow(10, f.learningRate.high))
        c["lr"] = .number(Self.round(lr))
        if let b = batch { c["batch_size"] = .number(max(1, b.rounded())) }
        if let m = f.weightDecay { c["weight_decay"] = .number(Self.round(pow(10, m.predict(z)))) }
        let used = OptimizerSpec.trialKeysUsed(by: f.optimizer)
        if used.contains("beta1"), let m = f.beta1 { c["beta1"] = .number(Self.round(min(m.predict(z), 0.999))) }
        if used.contains("beta2"), let m = f.beta2 { c["beta2"] = .number(Self.round(min(m.predict(z), 0.9999))) }
        if used.contains("momentum"), let m = f.momentum { c["momentum"] = .number(Self.round(min(m.predict(z), 0.999))) }
        if let steps = task.stepBudget, steps >= 20 {
            c["schedule"] = .object([
                "kind": .string("warmup_cosine"), "warmup_steps": .number(Double(max(1, steps / 20))),
                "total_steps": .number(Double(steps)), "floor": .number(0.1),
            ])
        }
        return c
    }

    /// Training tasks by distance in standardised feature space over the features present.
    func neighbours(_ z: [Double], _ present: [Bool]) -> [RecommendationReport.Neighbour] {
        let count = present.filter { $0 }.count
        let scale = count == 0 ? 1 : Double(present.count) / Double(count)
        return policy.provenance.tasks.map { t in
            let zt = policy.encoding.encode(t.features).z
            var d2 = 0.0
            for j in z.indices where present[j] { d2 += (z[j] - zt[j]) * (z[j] - zt[j]) }
            return RecommendationReport.Neighbour(
                name: t.name, id: t.id, distance: (d2 * scale).squareRoot(), bestLoss: t.bestLoss, bestConfig: t.bestConfig)
        }.sorted { $0.distance < $1.distance }
    }

    /// coverage × proximity × history size: coverage = share of the predictive features
    /// present; proximity = exp(−d²/(2·p)) to the nearest task; size = n/(n + 4).
    func confidence(_ present: [Bool], _ nearest: [RecommendationReport.Neighbour]) -> Double {
        let coverage = Double(present.filter { $0 }.count) / Double(max(present.count, 1))
        let d = nearest.first?.distance ?? 10
        let proximity = exp(-d * d / (2 * Double(max(present.count, 1))))
        let n = Double(policy.provenance.tasks.count)
        return (coverage * proximity * n / (n + 4) * 1000).rounded() / 1000
    }

    /// At most this many elements in `shapes`: the optimizers are built for them (and allocate
    /// their state) to measure bytes per parameter.
    static let shapeElementLimit = 1 << 16

    /// Parameter shapes with the description's matrix fraction, for measuring optimizer state:
    /// one matrix as wide as the widest layer and one vector. Above `shapeElementLimit`
    /// parameters they are scaled down (the matrix's sides by √scale): the element-wise
    /// optimizers keep the same bytes per parameter at any size, and building an optimizer for
    /// a described 10⁹-parameter model would allocate its whole state. (A factored optimizer
    /// such as Adafactor is then charged a little more than the full-size model would cost.)
    static func shapes(_ t: TaskDescription) -> [[Int]] {
        let described = max(t.parameterCount ?? 4096, 2)
        let scale = min(1, Double(shapeElementLimit) / Double(described))
        let p = max(Int((Double(described) * scale).rounded()), 2)
        let fraction = t.matrixParameterFraction ?? 0.95
        let matrix = Int((Double(p) * fraction).rounded())
        let widest = Int((Double(t.widestLayer ?? 64) * scale.squareRoot()).rounded())
        let width = max(1, min(widest, max(matrix, 1)))
        var shapes: [[Int]] = []
        if matrix >= width { shapes.append([width, matrix / width]) }
        let rest = p - (shapes.first.map { $0[0] * $0[1] } ?? 0)
        if rest > 0 { shapes.append([rest]) }
        return shapes
    }

    /// Bytes of optimizer state per parameter in float32, from the optimizer TunedOptim builds.
    static func stateBytes(_ json: [String: JSONValue], shapes: [[Int]]) -> Double? {
        guard let config = try? TrialConfig(json: json),
            let o = try? config.makeOptimizer(shapes: shapes, scalar: Float.self)
        else { return nil }
        return o.stateBytesPerParameter(shapes: shapes)
    }

    /// Three significant digits, as the shortest decimal (2.93e-05, not 2.9299999999999997e-05).
    static func round(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        return Double(String(format: "%.3g", x)) ?? x
    }

    static func short(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.2f", x) }
}
