import Foundation

/// A learning-rate schedule: a multiplier of the base rate for each step.
///
/// `multiplier(step:)` takes t, the 1-based number of the step about to run
/// (`optimizer.stepCount + 1`); s = t − 1. Kinds and their keys:
///
///     constant                                      1
///     linear_warmup   warmup_steps W                min(1, t/W)
///     cosine          total_steps T, floor f (0)    f + (1−f)·½(1 + cos(π·min(s, T)/T))
///     step            step_size N, gamma γ (0.1)    γ^⌊s/N⌋                 (torch StepLR)
///     warmup_cosine   warmup_steps W, total_steps T (> W), floor f (0):
///                     t/W for t < W, else f + (1−f)·½(1 + cos(π·p)),
///                     p = min(t − W, T − W)/(T − W)
///
/// warmup_cosine reaches 1 at t = W (the end of the warm-up) and then decays as `cosine`
/// over the remaining T − W steps, so its cosine midpoint is ½(1 + f) and it ends at f.
/// The first step of `cosine` uses the full rate. Parsed from a JSON object
/// `{"kind": "warmup_cosine", "warmup_steps": 100, "total_steps": 1000, "floor": 0.1}`;
/// every error names the key.
public struct Schedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case constant
        case linearWarmup = "linear_warmup"
        case cosine
        case step
        case warmupCosine = "warmup_cosine"
    }

    public var kind: Kind
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Double
    public var stepSize: Int
    public var gamma: Double

    public static let constant = Schedule(kind: .constant, warmupSteps: 0, totalSteps: 0, floor: 0, stepSize: 1, gamma: 1)

    init(kind: Kind, warmupSteps: Int, totalSteps: Int, floor: Double, stepSize: Int, gamma: Double) {
        self.kind = kind
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public init(json: JSONValue, context: String = "schedule") throws {
        let hp = try Hyperparameters(json: json, context: context)
        guard let kindName = try hp.string("kind", default: nil) else {
            throw OptimizerError("\(context): 'kind' is required (one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let kind = Kind(rawValue: kindName) else {
            throw OptimizerError("\(context): unknown 'kind' '\(kindName)' (one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let keys: Set<String>
        switch kind {
        case .constant: keys = ["kind"]
        case .linearWarmup: keys = ["kind", "warmup_steps"]
        case .cosine: keys = ["kind", "total_steps", "floor"]
        case .step: keys = ["kind", "step_size", "gamma"]
        case .warmupCosine: keys = ["kind", "warmup_steps", "total_steps", "floor"]
        }
        try hp.checkNoUnknownKeys(keys)
        func required(_ key: String) throws -> Int {
            guard hp.values[key] != nil, hp.values[key] != .null else {
                throw OptimizerError("\(context): '\(key)' is required for a '\(kindName)' schedule")
            }
            let v = try hp.int(key, default: 0)
            try hp.require(v >= 1, key, "must be an integer ≥ 1, got \(v)")
            return v
        }
        self.kind = kind
        warmupSteps = keys.contains("warmup_steps") ? try required("warmup_steps") : 0
        totalSteps = keys.contains("total_steps") ? try required("total_steps") : 0
        stepSize = keys.contains("step_size") ? try required("step_size") : 1
        floor = try hp.double("floor", default: 0)
        gamma = try hp.double("gamma", default: 0.1)
        try hp.require(floor >= 0 && floor <= 1, "floor", "must be in [0, 1], got \(floor)")
        try hp.require(gamma > 0 && gamma.isFinite, "gamma", "must be a finite number > 0, got \(gamma)")
        if kind == .warmupCosine {
            try hp.require(totalSteps > warmupSteps, "total_steps", "must exceed warmup_steps (\(warmupSteps)), got \(totalSteps)")
        }
    }

    /// The factor on the base learning rate for the 1-based step `step` (pure).
    public func multiplier(step: Int) -> Double {
        let t = Swift.max(step, 1)
        switch kind {
        case .constant:
            return 1
        case .linearWarmup:
            return Swift.min(1, Double(t) / Double(warmupSteps))
        case .cosine:
            return cosine(progress: Double(Swift.min(t - 1, totalSteps)) / Double(totalSteps))
        case .step:
            return Foundation.pow(gamma, Double((t - 1) / stepSize))
        case .warmupCosine:
            if t < warmupSteps { return Double(t) / Double(warmupSteps) }
            let span = totalSteps - warmupSteps
            return cosine(progress: Double(Swift.min(t - warmupSteps, span)) / Double(span))
        }
    }

    private func cosine(progress p: Double) -> Double {
        floor + (1 - floor) * 0.5 * (1 + Foundation.cos(Double.pi * p))
    }
}

/// An optimizer whose learning rate follows a `Schedule`: before each step it sets
/// `inner.learningRate = baseLearningRate · schedule.multiplier(step: t)`.
///
/// `learningRate` reads the rate of the next step; setting it rescales the base rate so
/// that the next step uses the value set (or sets the base directly where the multiplier
/// is 0). Torch name "scheduled": `optimizer` (nested torch spec; its lr is the base rate),
/// `schedule` (a `Schedule` object). The state nests the inner optimizer's under "inner.".
public struct Scheduled<Scalar: TunedScalar>: Optimizer {
    public let name = "scheduled"
    public private(set) var inner: any Optimizer<Scalar>
    public let schedule: Schedule
    public var baseLearningRate: Double
    public private(set) var stepCount = 0

    public init(inner: any Optimizer<Scalar>, schedule: Schedule) {
        self.inner = inner
        self.schedule = schedule
        baseLearningRate = inner.learningRate
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(["optimizer", "schedule"])
        let inner: any Optimizer<Scalar> = try OptimizerRegistry.make(OptimizerSpec.nested(hp, "optimizer", library: .torch), shapes: shapes)
        guard let json = hp.values["schedule"], json.objectValue != nil else {
            throw OptimizerError("\(hp.context): 'schedule' is required: an object such as {\"kind\": \"cosine\", \"total_steps\": 1000}")
        }
        self.init(inner: inner, schedule: try Schedule(json: json, context: "\(hp.context).schedule"))
    }

    public var learningRate: Double {
        get { baseLearningRate * schedule.multiplier(step: stepCount + 1) }
        set {
            let m = schedule.multiplier(step: stepCount + 1)
            baseLearningRate = m > 0 ? newValue / m : newValue
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        inner.learningRate = learningRate
        stepCount += 1
        inner.step(&params, gradients: gradients)
    }

    public var gradientCallsPerUpdate: Int { inner.gradientCallsPerUpdate }
    public var stateBytes: Int { inner.stateBytes }

    public var hasEvaluationParameters: Bool { inner.hasEvaluationParameters }
    public mutating func enterEvalMode(_ params: inout [Tensor<Scalar>]) { inner.enterEvalMode(&params) }
    public mutating func enterTrainMode(_ params: inout [Tensor<Scalar>]) { inner.enterTrainMode(&params) }

    public func saveState() -> StateDict {
        var s = StateDict()
        s.merge(inner.saveState(), prefix: "inner.")
        s["step"] = .int(stepCount)
        s["base_lr"] = .double(baseLearningRate)
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        try inner.restoreState(state.extract(prefix: "inner."))
        stepCount = try state.int("step")
        baseLearningRate = try state.double("base_lr")
    }
}
