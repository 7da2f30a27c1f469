import Foundation
import TunedEngine

/// How a `TaskDescription` becomes the numeric vector the policy's regressions read:
/// logarithms of sizes, the matrix fraction, task-type indicators; then standardised with the
/// training tasks' means and standard deviations. A missing value is imputed with the mean
/// (z = 0), so it does not move the prediction; it lowers the confidence instead.
public struct FeatureEncoding: Sendable, Equatable, Codable {
    public static let names = [
        "log10_parameter_count", "depth", "log10_widest_layer", "matrix_parameter_fraction", "log10_dataset_size",
        "log10_input_size", "log10_output_size", "is_classification", "is_regression", "is_mlp",
        "log10_batch_size", "log10_step_budget", "log10_gradient_noise_scale", "is_cnn", "is_rnn", "is_transformer",
    ]
    /// The model-kind indicators added after the first policies: appended, so that a policy
    /// fitted before them (13 features, e.g. the shipped default) encodes exactly as it did. A
    /// history in which one of them is 0 for every task does not count it as a regressor
    /// (`PolicyFitter`), so such a history fits as before they existed.
    public static let laterKindIndicators = 13..<16

    public var names: [String]
    public var means: [Double]
    /// Standard deviations (1 where a feature was constant in training).
    public var scales: [Double]

    /// The raw features, nil where missing (same order as `names`).
    public static func raw(_ d: TaskDescription) -> [Double?] {
        func lg(_ v: Int?) -> Double? { v.map { log10(Double(max($0, 1))) } }
        let task = d.taskType
        return [
            lg(d.parameterCount), d.depth.map(Double.init), lg(d.widestLayer), d.matrixParameterFraction,
            lg(d.datasetSize), lg(d.inputSize), lg(d.outputSize),
            task.map { $0 == "classification" ? 1 : 0 }, task.map { $0 == "regression" ? 1 : 0 },
            d.modelKind.map { $0 == "mlp" ? 1 : 0 }, lg(d.batchSize), lg(d.stepBudget),
            d.gradientNoiseScale.map { log10($0) },
            d.modelKind.map { $0 == "cnn" ? 1 : 0 }, d.modelKind.map { $0 == "rnn" ? 1 : 0 },
            d.modelKind.map { $0 == "transformer" ? 1 : 0 },
        ]
    }

    /// Means and scales from the training tasks (each over the tasks that have the feature).
    public init(fitting tasks: [TaskDescription]) {
        let rows = tasks.map(Self.raw)
        names = Self.names
        means = []
        scales = []
        for j in Self.names.indices {
            let v = rows.compactMap { $0[j] }
            let m = v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count)
            let s = v.count < 2 ? 0 : (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
            means.append(m)
            scales.append(s > 1e-9 ? s : 1)
        }
    }

    /// Standardised features, 0 where missing, and which ones were present.
    public func encode(_ d: TaskDescription) -> (z: [Double], present: [Bool]) {
        let r = Self.raw(d)
        var z: [Double] = [], present: [Bool] = []
        for j in names.indices {
            if let v = r[j] {
                z.append((v - means[j]) / scales[j])
                present.append(true)
            } else {
                z.append(0)
                present.append(false)
            }
        }
        return (z, present)
    }
}
