import Foundation
import TunedEngine
import TunedMath
import TunedOptim

/// A finished task of the history: its description and its trials' final objective values.
public struct PolicyTrainingTask: Sendable, Equatable {
    public struct Trial: Sendable, Equatable {
        public var config: [String: JSONValue]
        /// The final validation loss (lower is better).
        public var loss: Double

        public init(config: [String: JSONValue], loss: Double) {
            self.config = config
            self.loss = loss
        }
    }

    public var id: Int64?
    public var name: String
    public var features: TaskDescription
    public var trials: [Trial]

    public init(id: Int64? = nil, name: String, features: TaskDescription, trials: [Trial]) {
        self.id = id
        self.name = name
        self.features = features
        self.trials = trials
    }
}

/// Fits a `PolicyDocument` from finished tasks (docs/META.md, "How the policy is fitted").
///
/// For every optimizer family, ridge regressions (GSL, `LinearLeastSquares.fit(ridge:)`) on
/// the standardised task features of: the gap log₁₀(best loss with the family / best loss of
/// the task), and the family's best log₁₀ lr, log₁₀ weight decay, β₁, β₂, momentum and log₂
/// batch size; plus log₁₀ of the task's best loss. Each λ is chosen among `lambdas` by
/// leave-one-task-out (LOTO) squared error; every task is one row, so LOO is LOTO.
///
/// "The family's best" hyperparameter is not the single best trial's value: a search of a
/// few dozen trials over several optimizers gives each family a handful, and which of two
/// near-equal trials won is noise. Each label is a softmin-weighted mean over the family's
/// trials of the task, weight exp(−(log₁₀ loss − log₁₀ best)/`labelTemperature`): the centre
/// of the family's good region — a trial twice as bad as the best weighs e⁻¹, ten times as
/// bad e^−3.3 (`softminLabel`). The gap model keeps the family's best loss.
public enum PolicyFitter {
    public static let lambdas: [Double] = [0.3, 1, 3, 10, 30, 100]
    /// Decades of validation loss over which a trial's weight in a label falls by e. Chosen by
    /// the suite's leave-one-task-out regret (scripts/eval-policy.sh, 30 trials per task):
    /// τ → 0 (the best trial's values) 0.057 median / 0.346 mean; 0.02: 0.067 / 0.401;
    /// 0.1: 0.057 / 0.288; **0.3: 0.055 / 0.251**; 1: 0.167 / 0.258 (docs/PERFORMANCE.md).
    public static let labelTemperature = 0.3

    public struct FitError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public static func fit(
        _ tasks: [PolicyTrainingTask], name: String, source: String, note: String? = nil, createdAt: Date = Date()
    ) throws -> PolicyDocument {
        let usable = tasks.map { t in
            PolicyTrainingTask(id: t.id, name: t.name, features: t.features, trials: t.trials.filter { $0.loss.isFinite })
        }.filter { !$0.trials.isEmpty }
        guard usable.count >= 2 else {
            throw FitError(
                message: "a policy needs at least 2 finished tasks with a finite result, the history has \(usable.count)")
        }
        let encoding = FeatureEncoding(fitting: usable.map(\.features))
        let z = usable.map { encoding.encode($0.features).z }
        var records: [PolicyDocument.TaskRecord] = []
        var bestByFamily: [[String: PolicyTrainingTask.Trial]] = []
        var trialsByFamily: [[String: [PolicyTrainingTask.Trial]]] = []
        for t in usable {
            var byFamily: [String: PolicyTrainingTask.Trial] = [:]
            var all: [String: [PolicyTrainingTask.Trial]] = [:]
            for trial in t.trials {
                guard let name = trial.config["optimizer"]?.stringValue else { continue }
                if byFamily[name].map({ trial.loss < $0.loss }) ?? true { byFamily[name] = trial }
                all[name, default: []].append(trial)
            }
            trialsByFamily.append(all)
            let best = t.trials.min { $0.loss < $1.loss }!
            bestByFamily.append(byFamily)
            records.append(
                PolicyDocument.TaskRecord(
                    id: t.id, name: t.name, features: t.features, trials: t.trials.count, bestLoss: best.loss,
                    bestConfig: best.config, bestLossByOptimizer: byFamily.mapValues(\.loss)))
        }
        let logBest = records.map { log10(max($0.bestLoss, 1e-12)) }
        let baseline = try target(z, logBest)
        var families: [PolicyDocument.FamilyModel] = []
        let names = Set(bestByFamily.flatMap(\.keys)).sorted()
        for family in names {
            var rows: [Int] = []
            for i in usable.indices where bestByFamily[i][family] != nil { rows.append(i) }
            guard rows.count >= 2 else { continue }
            func model(_ value: (Int) -> Double?) throws -> TargetModel? {
                var zs: [[Double]] = [], ys: [Double] = []
                for i in rows {
                    if let y = value(i), y.isFinite {
                        zs.append(z[i])
                        ys.append(y)
                    }
                }
                return ys.count >= 2 ? try target(zs, ys) : nil
            }
            /// The softmin-weighted label of `value` over the family's trials of task i.
            func label(_ value: @escaping (PolicyTrainingTask.Trial, Int) -> Double?) -> (Int) -> Double? {
                { i in softminLabel(trialsByFamily[i][family]!) { value($0, i) } }
            }
            func positiveLog10(_ key: String) -> (PolicyTrainingTask.Trial, Int) -> Double? {
                { trial, _ in trial.config[key]?.doubleValue.flatMap { $0 > 0 ? log10($0) : nil } }
            }
            func number(_ key: String) -> (PolicyTrainingTask.Trial, Int) -> Double? {
                { trial, _ in trial.config[key]?.doubleValue }
            }
            let gap = try model { i in
                log10(max(bestByFamily[i][family]!.loss, 1e-12)) - log10(max(records[i].bestLoss, 1e-12))
            }!
            guard let lr = try model(label(positiveLog10("lr"))) else { continue }
            families.append(
                PolicyDocument.FamilyModel(
                    optimizer: family, tasks: rows.count, gap: gap, learningRate: lr,
                    weightDecay: try model(label(positiveLog10("weight_decay"))),
                    beta1: try model(label(number("beta1"))), beta2: try model(label(number("beta2"))),
                    momentum: try model(label(number("momentum"))),
                    batchSize: try model(label { trial, i in
                        (trial.config["batch_size"]?.doubleValue ?? usable[i].features.batchSize.map(Double.init))
                            .map { log2($0) }
                    })))
        }
        guard !families.isEmpty else { throw FitError(message: "no trial of the history names an optimizer and an lr") }
        var stats: [String: Double] = [
            "tasks": Double(usable.count), "trials": Double(usable.reduce(0) { $0 + $1.trials.count }),
            "baseline_loto_rmse": baseline.lotoRMSE,
        ]
        for f in families {
            stats["\(f.optimizer).gap_loto_rmse"] = f.gap.lotoRMSE
            stats["\(f.optimizer).log10_lr_loto_rmse"] = f.learningRate.lotoRMSE
        }
        return PolicyDocument(
            schema: PolicyDocument.currentSchema, kind: PolicyDocument.kind, name: name,
            createdAt: ISO8601DateFormatter().string(from: createdAt),
            provenance: .init(source: source, generator: "tuned 0.1.0 TunedMeta.PolicyFitter", tasks: records, note: note),
            encoding: encoding, baseline: baseline, families: families, statistics: stats)
    }

    /// Σ wᵢ·vᵢ / Σ wᵢ over the trials that have a value, wᵢ = exp(−(log₁₀ lossᵢ − log₁₀ loss_best)
    /// / `labelTemperature`); nil when no trial has one.
    static func softminLabel(
        _ trials: [PolicyTrainingTask.Trial], _ value: (PolicyTrainingTask.Trial) -> Double?
    ) -> Double? {
        let valued = trials.compactMap { t in value(t).flatMap { $0.isFinite ? (t.loss, $0) : nil } }
        guard let best = valued.map({ log10(max($0.0, 1e-12)) }).min() else { return nil }
        var sw = 0.0, swv = 0.0
        for (loss, v) in valued {
            let w = exp(-(log10(max(loss, 1e-12)) - best) / labelTemperature)
            sw += w
            swv += w * v
        }
        return swv / sw
    }

    /// A ridge model of y on the rows z, λ by LOTO; a constant model when there are too few
    /// rows for the regression (fewer than features + 3; a model-kind indicator that is 0 in
    /// every row is no regressor and does not count).
    static func target(_ z: [[Double]], _ y: [Double]) throws -> TargetModel {
        let n = y.count, p = z.first?.count ?? 0
        let unused = FeatureEncoding.laterKindIndicators.filter { j in j < p && z.allSatisfy { $0[j] == 0 } }.count
        let mean = y.reduce(0, +) / Double(n)
        let low = y.min()!, high = y.max()!
        // Leave-one-out of the constant model: yᵢ − mean of the others.
        let constantLoto = (y.reduce(0) { acc, yi in
            let d = (yi - (mean * Double(n) - yi) / Double(max(n - 1, 1))) * (n > 1 ? 1 : 0)
            return acc + d * d
        } / Double(n)).squareRoot()
        let constant = TargetModel(
            intercept: mean, coefficients: Array(repeating: 0, count: p), lambda: .infinity, lotoRMSE: constantLoto,
            count: n, low: low, high: high)
        guard n >= p - unused + 3 else { return constant }
        var best = constant
        for lambda in lambdas {
            var sse = 0.0
            for i in 0..<n {
                let rest = (0..<n).filter { $0 != i }
                let m = try ridge(rest.map { z[$0] }, rest.map { y[$0] }, lambda)
                let d = m.intercept + zip(m.coefficients, z[i]).reduce(0) { $0 + $1.0 * $1.1 } - y[i]
                sse += d * d
            }
            let rmse = (sse / Double(n)).squareRoot()
            if rmse < best.lotoRMSE {
                let m = try ridge(z, y, lambda)
                best = TargetModel(
                    intercept: m.intercept, coefficients: m.coefficients, lambda: lambda, lotoRMSE: rmse, count: n,
                    low: low, high: high)
            }
        }
        return best
    }

    /// Ridge on centred y (the intercept is the mean, not penalised).
    static func ridge(_ z: [[Double]], _ y: [Double], _ lambda: Double) throws -> (intercept: Double, coefficients: [Double]) {
        let mean = y.reduce(0, +) / Double(y.count)
        let fit = try LinearLeastSquares.fit(X: try Matrix(z), y: y.map { $0 - mean }, ridge: lambda)
        return (mean, fit.coefficients)
    }
}
