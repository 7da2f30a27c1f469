import Foundation

/// One reference-vector case (format: `Tests/TunedOptimTests/Fixtures/oracle/FORMAT.md`):
/// a reference optimizer run for `steps` steps on one float64 tensor, with the parameter
/// recorded after every step.
public struct ConformanceCase: Sendable {
    public var name: String
    public var optimizer: String
    public var library: OptimizerLibrary
    public var reference: String
    public var hyperparameters: Hyperparameters
    public var shape: [Int]
    public var initial: [Double]
    /// Per step; nil for the Rosenbrock loops, which compute their own gradient.
    public var gradients: [[Double]]?
    public var expected: [[Double]]
    public var expectedSlow: [[Double]]?
    /// Schedule-free cases: the 1-based steps after which the reference called `opt.eval()`,
    /// recorded the parameters (`expectedEval`, one row per entry) and called `opt.train()`.
    public var evalAfterSteps: [Int] = []
    public var expectedEval: [[Double]] = []
    /// Adam-mini cases: the tensor's name in `named_parameters` (it selects the partition).
    public var parameterName: String?
    /// Absolute tolerance that replaces the 1e-12 relative check (bfloat16 Muon cases).
    public var absoluteTolerance: Double?

    public var steps: Int { expected.count }
    /// True for the full-loop Rosenbrock cases.
    public var isRosenbrock: Bool { gradients == nil }

    /// Reads and validates a case file; every problem is an error naming the file and field.
    public init(contentsOf url: URL) throws {
        let file = url.lastPathComponent
        func fail(_ what: String) -> OptimizerError { OptimizerError("\(file): \(what)") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw fail("cannot read the file (\(error.localizedDescription))") }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch { throw fail("not valid JSON") }
        guard json.objectValue != nil else { throw fail("the top level must be an object") }

        guard let optimizer = json["optimizer"]?.stringValue else { throw fail("'optimizer' must be a string") }
        let libraryName = json["library"]?.stringValue ?? "torch"
        guard let library = OptimizerLibrary(rawValue: libraryName) else {
            throw fail("unknown 'library' '\(libraryName)' (expected torch, lion_pytorch, optax, schedulefree or adam_mini)")
        }
        guard let shape = json["param_shape"]?.doublesValue?.map({ Int($0) }), !shape.isEmpty || json["param_shape"] != nil else {
            throw fail("'param_shape' must be an array of integers")
        }
        guard shape.allSatisfy({ $0 > 0 }) else { throw fail("'param_shape' \(shape) has a zero or negative dimension") }
        let count = shape.reduce(1, *)
        guard let initial = json["initial"]?.doublesValue, initial.count == count else {
            throw fail("'initial' must be an array of \(count) numbers (param_shape \(shape))")
        }
        guard let expectedJSON = json["expected"]?.arrayValue, !expectedJSON.isEmpty else {
            throw fail("'expected' must be a non-empty array of steps")
        }
        func rows(_ key: String, _ list: [JSONValue]) throws -> [[Double]] {
            try list.enumerated().map { i, row in
                guard let r = row.doublesValue, r.count == count else {
                    throw fail("'\(key)[\(i)]' must be an array of \(count) numbers")
                }
                guard r.allSatisfy({ $0.isFinite }) || key == "expected" else {
                    throw fail("'\(key)[\(i)]' contains NaN or Inf")
                }
                return r
            }
        }
        let expected = try rows("expected", expectedJSON)
        if let steps = json["steps"]?.doubleValue, Int(steps) != expected.count {
            throw fail("'steps' is \(Int(steps)) but 'expected' has \(expected.count) rows")
        }
        var gradients: [[Double]]? = nil
        if let g = json["gradients"], !g.isNull {
            guard let list = g.arrayValue, list.count == expected.count else {
                throw fail("'gradients' must have one row per step (\(expected.count))")
            }
            gradients = try rows("gradients", list)
        } else {
            guard count == 2, (json["objective"]?.stringValue ?? "rosenbrock").lowercased().contains("rosenbrock")
                    || json["case"]?.stringValue?.hasPrefix("rosenbrock") == true else {
                throw fail("'gradients' is null, which only a 2-parameter Rosenbrock case may be")
            }
        }
        var expectedSlow: [[Double]]? = nil
        if let s = json["expected_slow"]?.arrayValue { expectedSlow = try rows("expected_slow", s) }

        if let e = json["eval_after_steps"], !e.isNull {
            guard let steps = e.doublesValue?.map({ Int($0) }),
                  steps.allSatisfy({ (1...expected.count).contains($0) }), steps == steps.sorted(), Set(steps).count == steps.count else {
                throw fail("'eval_after_steps' must be increasing step numbers in 1...\(expected.count)")
            }
            guard let rowsJSON = json["expected_eval"]?.arrayValue, rowsJSON.count == steps.count else {
                throw fail("'expected_eval' must have one row per entry of 'eval_after_steps' (\(steps.count))")
            }
            evalAfterSteps = steps
            expectedEval = try rows("expected_eval", rowsJSON)
        }
        if let n = json["param_name"], !n.isNull {
            guard let name = n.stringValue else { throw fail("'param_name' must be a string") }
            parameterName = name
        }
        var absoluteTolerance: Double? = nil
        let reference = json["reference"]?.stringValue ?? ""
        if let tol = json["tolerance"]?.objectValue {
            absoluteTolerance = tol["abs_if_bfloat16_emulated"]?.doubleValue ?? tol["abs"]?.doubleValue
        }

        self.name = json["case"]?.stringValue ?? url.deletingPathExtension().lastPathComponent
        self.optimizer = optimizer
        self.library = library
        self.reference = reference
        self.hyperparameters = try Hyperparameters(json: json["hyperparameters"], context: file + " hyperparameters")
        self.shape = shape
        self.initial = initial
        self.gradients = gradients
        self.expected = expected
        self.expectedSlow = expectedSlow
        self.absoluteTolerance = absoluteTolerance
    }

    /// The specification to build the optimizer from. Muon cases whose reference ran the
    /// Newton–Schulz iteration patched to float64 get `ns_dtype = "float64"`; stock torch
    /// Muon runs it in (emulated) bfloat16.
    public var spec: OptimizerSpec {
        var hp = hyperparameters
        if let n = parameterName, hp.values["named_parameters"] == nil {
            hp.values["named_parameters"] = .array([.string(n)])
        }
        if optimizer == "muon", library == .torch {
            hp.values["ns_dtype"] = .string(reference.contains("float64") ? "float64" : "bfloat16")
        }
        return OptimizerSpec(name: optimizer, library: library, hyperparameters: hp)
    }
}
