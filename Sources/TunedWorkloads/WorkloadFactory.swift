import Foundation
import TunedOptim

/// Builds any built-in workload from the `[workload]` table of a task file (as JSON values).
///
/// Data workloads (`linreg`, `logreg`, `softmax`, `mlp`) take:
///
/// | key | meaning (default) |
/// |---|---|
/// | `dataset` | CSV path with a header; relative paths resolve against `baseDirectory` (required) |
/// | `target` | name of the label column (`target`) |
/// | `hidden` | MLP hidden widths, e.g. `[64]` (`[64]`; must be absent for the linear models) |
/// | `activation` | `relu`, `tanh` or `gelu` (`relu`) |
/// | `batch_size` | default minibatch size (64); a trial's `batch_size` overrides it |
/// | `task` | `classification` or `regression` (inferred from the target) |
/// | `validation_fraction` | held-out fraction (0.2) |
/// | `split_seed` | seed of the train/validation split (0) |
/// | `standardize_targets` | regression: standardise the target (true) |
///
/// The analytic objectives' keys are listed in `AnalyticObjectives`.
public enum WorkloadFactory {
    public static var kinds: [String] { AnalyticObjectives.kinds + ModelKind.allCases.map(\.rawValue) }

    public static func make<Scalar: KernelScalar>(
        _ table: [String: JSONValue], baseDirectory: String = ".", context: String = "[workload]",
        scalar: Scalar.Type = Scalar.self
    ) throws -> any Workload<Scalar> {
        guard let kind = table["kind"]?.stringValue else {
            throw WorkloadError("\(context): 'kind' must be one of \(kinds.joined(separator: ", "))")
        }
        if let w: any Workload<Scalar> = try AnalyticObjectives.make(kind: kind, config: table, context: context) {
            return w
        }
        guard let model = ModelKind(rawValue: kind) else {
            throw WorkloadError("\(context): unknown kind '\(kind)' (known: \(kinds.joined(separator: ", ")))")
        }
        let c = ObjectiveConfig(values: table, context: context)
        try c.checkKnown([
            "dataset", "target", "hidden", "activation", "batch_size", "task", "validation_fraction", "split_seed",
            "standardize_targets",
        ])
        guard let dataset = table["dataset"]?.stringValue, !dataset.isEmpty else {
            throw WorkloadError("\(context): '\(kind)' needs 'dataset', the path of a CSV file with a header row")
        }
        let path = dataset.hasPrefix("/") ? dataset : URL(fileURLWithPath: baseDirectory).appendingPathComponent(dataset).path
        let target = try string(table, "target", context) ?? "target"
        var hidden: [Int] = []
        if let h = try c.doubles("hidden") {
            guard model == .mlp else { throw WorkloadError("\(context): 'hidden' applies to kind 'mlp' only") }
            guard h.allSatisfy({ $0 >= 1 && $0 == $0.rounded() && $0 <= 1e6 }) else {
                throw WorkloadError("\(context): 'hidden' must list integer widths in [1, 1000000], e.g. [64], got [\(h.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String($0) }.joined(separator: ", "))]")
            }
            hidden = h.map { Int($0) }
        } else if model == .mlp {
            hidden = [64]
        }
        let activationName = try string(table, "activation", context) ?? "relu"
        guard let activation = Activation(rawValue: activationName) else {
            throw WorkloadError("\(context): 'activation' must be relu, tanh or gelu, got '\(activationName)'")
        }
        let batchSize = try c.int("batch_size", default: 64)
        guard batchSize >= 1 else { throw WorkloadError("\(context): 'batch_size' must be ≥ 1, got \(batchSize)") }
        var options = DatasetOptions()
        if let t = try string(table, "task", context) {
            guard let task = TaskType(rawValue: t) else {
                throw WorkloadError("\(context): 'task' must be classification or regression, got '\(t)'")
            }
            options.task = task
        }
        options.validationFraction = try c.double("validation_fraction", default: 0.2)
        guard options.validationFraction > 0, options.validationFraction < 1 else {
            throw WorkloadError("\(context): 'validation_fraction' must be in (0, 1), got \(options.validationFraction)")
        }
        options.splitSeed = UInt64(truncatingIfNeeded: try c.int("split_seed", default: 0))
        if let s = table["standardize_targets"] {
            guard let b = s.boolValue else { throw WorkloadError("\(context): 'standardize_targets' must be true or false") }
            options.standardizeTargets = b
        }
        let csv = try CSVDataset.load(path: path, target: target)
        let data = try Dataset(csv, options: options)
        return try DenseModel<Scalar>(
            dataset: data, config: DenseModelConfig(kind: model, hidden: hidden, activation: activation, batchSize: batchSize))
    }

    private static func string(_ table: [String: JSONValue], _ key: String, _ context: String) throws -> String? {
        switch table[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw WorkloadError("\(context): '\(key)' must be a string")
        }
    }
}
