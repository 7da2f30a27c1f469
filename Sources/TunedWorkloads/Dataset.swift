/// What a data-driven workload predicts.
public enum TaskType: String, Sendable, Codable, CaseIterable {
    /// Integer class labels 0, 1, …, K−1 (K ≥ 2): cross-entropy, accuracy.
    case classification
    /// A real-valued target: mean squared error.
    case regression
}

/// How a `CSVDataset` becomes training and validation data.
public struct DatasetOptions: Sendable, Equatable {
    /// The task; nil infers it: **classification when every target is a non-negative
    /// integer and there are at most `maxInferredClasses` distinct values, otherwise
    /// regression** (diabetes' integer targets have 214 distinct values: regression).
    public var task: TaskType?
    /// Fraction of rows held out for validation, in (0, 1).
    public var validationFraction: Double
    /// Seed of the split, separate from the run seed so that runs with different seeds
    /// (PBT members) are validated on the same rows.
    public var splitSeed: UInt64
    /// Regression only: standardise the target with the training split's mean and standard
    /// deviation, so that losses are in units of the target's spread (an MSE of 1 is
    /// what predicting the mean scores). `targetMean`/`targetScale` convert back.
    public var standardizeTargets: Bool

    public static let maxInferredClasses = 50

    public init(task: TaskType? = nil, validationFraction: Double = 0.2, splitSeed: UInt64 = 0, standardizeTargets: Bool = true) {
        self.task = task
        self.validationFraction = validationFraction
        self.splitSeed = splitSeed
        self.standardizeTargets = standardizeTargets
    }
}

/// A seeded train/validation split of a `CSVDataset`, with inputs standardised by
/// statistics of the **training split only** (no validation information leaks into the
/// inputs): x' = (x − mean_train) / sd_train, sd the population standard deviation
/// (÷ n), and sd := 1 for a constant column (sd ≤ 1e-12·max(1, |mean|)).
public struct Dataset: Sendable, Equatable {
    public let source: String
    public let task: TaskType
    public let inputSize: Int
    /// K for classification (largest label + 1), 0 for regression.
    public let classCount: Int
    public let trainCount: Int
    public let validationCount: Int
    /// Standardised inputs, row-major `[count, inputSize]`.
    public let trainInputs: [Double]
    public let validationInputs: [Double]
    /// Class indices (classification) or targets, standardised if `standardizeTargets`.
    public let trainTargets: [Double]
    public let validationTargets: [Double]
    public let featureMean: [Double]
    public let featureScale: [Double]
    /// Regression: y' = (y − targetMean)/targetScale (0 and 1 when not standardised).
    public let targetMean: Double
    public let targetScale: Double
    /// Row indices (0-based, into the CSV's rows) of each split, ascending.
    public let trainRows: [Int]
    public let validationRows: [Int]
    /// FNV-1a of the data and the options: part of a workload's configuration hash.
    public let fingerprint: UInt64

    public var outputSize: Int { task == .classification ? classCount : 1 }

    public init(_ csv: CSVDataset, options: DatasetOptions = DatasetOptions()) throws {
        let n = csv.rowCount, d = csv.featureCount
        source = csv.source
        inputSize = d
        let task = try Self.task(csv, options.task)
        self.task = task
        classCount = task == .classification ? Int(csv.targets.max() ?? 0) + 1 : 0

        guard options.validationFraction > 0, options.validationFraction < 1 else {
            throw WorkloadError("validation_fraction must be in (0, 1), got \(options.validationFraction); 0.2 holds out a fifth of \(csv.source)")
        }
        let nVal = Int((options.validationFraction * Double(n)).rounded())
        guard nVal >= 1, n - nVal >= 1 else {
            throw WorkloadError("\(csv.source) has \(n) rows: a validation fraction of \(options.validationFraction) leaves \(nVal) for validation and \(n - nVal) for training; both need at least one row (add rows or change validation_fraction)")
        }
        // Fisher–Yates on a counter-based stream: the split is a pure function of splitSeed.
        var order = Array(0..<n)
        var rng = CounterRNG(key: CounterRNG.key(options.splitSeed, 0x5_9117))
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        validationRows = order[0..<nVal].sorted()
        trainRows = order[nVal...].sorted()
        trainCount = trainRows.count
        validationCount = nVal

        // Training-split statistics only.
        var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
        for r in trainRows { for c in 0..<d { mean[c] += csv.features[r * d + c] } }
        for c in 0..<d { mean[c] /= Double(trainCount) }
        for r in trainRows { for c in 0..<d { let e = csv.features[r * d + c] - mean[c]; sd[c] += e * e } }
        for c in 0..<d {
            sd[c] = (sd[c] / Double(trainCount)).squareRoot()
            if !(sd[c] > 1e-12 * max(1, abs(mean[c]))) { sd[c] = 1 }
        }
        featureMean = mean
        featureScale = sd
        func inputs(_ rows: [Int]) -> [Double] {
            var out = [Double](); out.reserveCapacity(rows.count * d)
            for r in rows { for c in 0..<d { out.append((csv.features[r * d + c] - mean[c]) / sd[c]) } }
            return out
        }
        trainInputs = inputs(trainRows)
        validationInputs = inputs(validationRows)

        if task == .regression && options.standardizeTargets {
            let m = trainRows.reduce(0.0) { $0 + csv.targets[$1] } / Double(trainCount)
            var s = (trainRows.reduce(0.0) { let e = csv.targets[$1] - m; return $0 + e * e } / Double(trainCount)).squareRoot()
            if !(s > 1e-12 * max(1, abs(m))) { s = 1 }
            targetMean = m
            targetScale = s
        } else {
            targetMean = 0
            targetScale = 1
        }
        let (tm, ts) = (targetMean, targetScale)
        trainTargets = trainRows.map { (csv.targets[$0] - tm) / ts }
        validationTargets = validationRows.map { (csv.targets[$0] - tm) / ts }

        var h = FNV1a64()
        h.add(csv.source.split(separator: "/").last.map(String.init) ?? csv.source)
        h.add(n); h.add(d); h.add(task.rawValue)
        for v in csv.features { h.add(v) }
        for v in csv.targets { h.add(v) }
        h.add(options.validationFraction); h.add(options.splitSeed); h.add(options.standardizeTargets ? 1 : 0)
        fingerprint = h.value
    }

    /// Decides the task and checks the labels of a classification target.
    static func task(_ csv: CSVDataset, _ explicit: TaskType?) throws -> TaskType {
        let isLabel = { (v: Double) in v >= 0 && v == v.rounded() }
        var task = explicit
        if task == nil {
            let distinct = Set(csv.targets)
            task = csv.targets.allSatisfy(isLabel) && distinct.count <= DatasetOptions.maxInferredClasses ? .classification : .regression
        }
        guard task == .classification else { return .regression }
        let column = "\(csv.source), column '\(csv.targetName)'"
        for (i, v) in csv.targets.enumerated() where !isLabel(v) || v >= 100_000 {
            throw WorkloadError(
                "\(csv.source) line \(csv.lineNumbers[i]), column '\(csv.targetName)': \(v) is not a class label; classification targets must be integers 0, 1, …, K−1 (K < 100000), or set the task to regression")
        }
        let classes = Set(csv.targets)
        guard classes.count >= 2 else {
            throw WorkloadError("\(column): every row has class \(Int(csv.targets.first ?? 0)); classification needs at least two classes (add rows of another class or set the task to regression)")
        }
        return .classification
    }
}
