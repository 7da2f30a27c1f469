import TunedOptim

/// Builds the analytic objectives (`rosenbrock`, `beale`, `quadratic`, `nqm`) from the
/// `[workload]` table of a task file.
///
/// Keys (all optional; unknown keys are an error that lists the accepted ones):
///
/// | kind | keys |
/// |---|---|
/// | `rosenbrock` | `a` (1), `b` (100), `dimension` (2), `start` (−1.5, 2.0 repeated) |
/// | `beale` | `start` (1, 1) |
/// | `quadratic` | `dimension` (10), `condition_number` (100), `rotation_seed` (none), `start` (ones) |
/// | `nqm` | `dimension` (10⁴), `curvatures` (hᵢ = 1/i), `noise` (cᵢ = hᵢ), `batch_size` (1), `start` (ones) |
public enum AnalyticObjectives {
    /// The kinds `make` builds.
    public static let kinds: [String] = ["rosenbrock", "beale", "quadratic", "nqm"]

    /// The workload for `kind`, nil when `kind` is not an analytic objective, or a
    /// `WorkloadError` naming the offending key.
    public static func make<Scalar: TunedScalar>(
        kind: String, config: [String: JSONValue], context: String = "[workload]", scalar: Scalar.Type = Scalar.self
    ) throws -> (any Workload<Scalar>)? {
        let c = ObjectiveConfig(values: config, context: context)
        switch kind {
        case "rosenbrock":
            try c.checkKnown(["a", "b", "dimension", "start"])
            let n = try c.int("dimension", default: 2)
            return try Rosenbrock<Scalar>(
                a: c.double("a", default: 1), b: c.double("b", default: 100), dimension: n,
                start: c.doubles("start"))
        case "beale":
            try c.checkKnown(["start"])
            return try Beale<Scalar>(start: c.doubles("start") ?? [1, 1])
        case "quadratic":
            try c.checkKnown(["dimension", "condition_number", "rotation_seed", "start"])
            return try IllConditionedQuadratic<Scalar>(
                dimension: c.int("dimension", default: 10), conditionNumber: c.double("condition_number", default: 100),
                rotationSeed: c.optionalInt("rotation_seed").map { UInt64(truncatingIfNeeded: $0) },
                start: c.doubles("start"))
        case "nqm":
            try c.checkKnown(["dimension", "curvatures", "noise", "batch_size", "start"])
            let curvatures = try c.doubles("curvatures")
            let d = try c.int("dimension", default: curvatures?.count ?? 10_000)
            return try NoisyQuadratic<Scalar>(
                dimension: d, curvatures: curvatures, noise: c.doubles("noise"),
                batchSize: c.int("batch_size", default: 1), start: c.doubles("start"))
        default:
            return nil
        }
    }
}

/// Typed reads from a configuration table; every error names the key and the table.
struct ObjectiveConfig {
    var values: [String: JSONValue]
    var context: String

    func checkKnown(_ known: Set<String>) throws {
        for key in values.keys.sorted() where key != "kind" && !known.contains(key) {
            throw WorkloadError(
                "\(context): unknown key '\(key)' (accepted: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func double(_ key: String, default value: Double) throws -> Double {
        switch values[key] {
        case nil, .null?: return value
        case .number(let d)? where d.isFinite: return d
        default: throw WorkloadError("\(context): '\(key)' must be a finite number")
        }
    }

    func optionalInt(_ key: String) throws -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case .number(let d)? where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: throw WorkloadError("\(context): '\(key)' must be an integer")
        }
    }

    func int(_ key: String, default value: Int) throws -> Int { try optionalInt(key) ?? value }

    func doubles(_ key: String) throws -> [Double]? {
        switch values[key] {
        case nil, .null?: return nil
        case let v?:
            guard let a = v.doublesValue, a.allSatisfy(\.isFinite) else {
                throw WorkloadError("\(context): '\(key)' must be an array of finite numbers")
            }
            return a
        }
    }
}

/// Shared checks of the analytic objectives' constructors.
enum ObjectiveCheck {
    /// The largest `dimension` of an analytic objective: it holds several arrays of that length.
    static let maxDimension = 10_000_000

    /// `dimension` within [`least`, `maxDimension`].
    static func dimension(_ d: Int, least: Int, _ kind: String) throws {
        try require(d >= least && d <= maxDimension, kind, "dimension", "must be in [\(least), \(maxDimension)], got \(d)")
    }

    static func require(_ ok: Bool, _ kind: String, _ key: String, _ message: @autoclosure () -> String) throws {
        if !ok { throw WorkloadError("\(kind): '\(key)' \(message())") }
    }

    /// `start`, or `fallback` when nil; an error naming `start` when its length is not `count`.
    static func start(_ start: [Double]?, count: Int, kind: String, fallback: () -> [Double]) throws -> [Double] {
        guard let start else { return fallback() }
        try require(start.count == count, kind, "start", "needs \(count) numbers, got \(start.count)")
        try require(start.allSatisfy(\.isFinite), kind, "start", "must be finite")
        return start
    }

    /// The parameters as one `Double` vector (analytic objectives have a single tensor).
    @inlinable
    static func flat<Scalar: TunedScalar>(_ params: [Tensor<Scalar>]) -> [Double] {
        params.count == 1 ? params[0].values.map(\.double) : params.flatMap { $0.values.map(\.double) }
    }

    static func features(kind: String, count: Int, batchSize: Int? = nil, noiseScale: Double?) -> TaskFeatures {
        TaskFeatures(
            modelKind: kind, parameterCount: count, matrixParameterFraction: 0, taskType: "optimization",
            batchSize: batchSize, gradientNoiseScale: noiseScale)
    }
}
