import Foundation

/// Something that keeps slow weights beside the parameters it updates (Lookahead).
public protocol HasSlowWeights<Scalar> {
    associatedtype Scalar: TunedScalar
    var slowWeights: [Tensor<Scalar>] { get }
}

/// Runs reference-vector cases through the project's optimizers.
public enum Conformance {
    public struct Outcome: Sendable {
        public var name: String
        /// Largest `|got − expected| / max(1, |expected|)` over every step and element.
        public var maxRelativeError: Double
        /// Largest `|got − expected|`.
        public var maxAbsoluteError: Double
        public var passed: Bool
        /// Why the case failed before comparing (unreadable file, unknown optimizer, …).
        public var error: String?
        /// The first step (1-based) whose error exceeded the tolerance.
        public var firstFailingStep: Int?
    }

    public static let relativeTolerance = 1e-12

    /// Runs one case in Double.
    public static func run(_ c: ConformanceCase) -> Outcome {
        var outcome = Outcome(name: c.name, maxRelativeError: 0, maxAbsoluteError: 0, passed: false)
        do {
            var opt: any Optimizer<Double> = try OptimizerRegistry.make(c.spec, shapes: [c.shape])
            var params = [Tensor(shape: c.shape, values: c.initial)]
            var ok = true
            for i in 0..<c.steps {
                let g = c.gradients?[i] ?? rosenbrockGradient(params[0].values)
                opt.step(&params, gradients: [Tensor(shape: c.shape, values: g)])
                var rows = [(params[0].values, c.expected[i])]
                if let slow = c.expectedSlow, let la = opt as? any HasSlowWeights<Double> {
                    rows.append((la.slowWeights[0].values, slow[i]))
                }
                if let k = c.evalAfterSteps.firstIndex(of: i + 1) {
                    // The reference's opt.eval(), record, opt.train() round trip.
                    opt.enterEvalMode(&params)
                    rows.append((params[0].values, c.expectedEval[k]))
                    opt.enterTrainMode(&params)
                }
                for (got, exp) in rows {
                    for j in got.indices {
                        let abs = Swift.abs(got[j] - exp[j])
                        let rel = abs / max(1, Swift.abs(exp[j]))
                        let bad = got[j].isNaN != exp[j].isNaN
                            || (c.absoluteTolerance.map { abs > $0 } ?? (rel > relativeTolerance))
                        if abs.isFinite {
                            outcome.maxAbsoluteError = max(outcome.maxAbsoluteError, abs)
                            outcome.maxRelativeError = max(outcome.maxRelativeError, rel)
                        } else if !(got[j].isNaN && exp[j].isNaN) && got[j] != exp[j] {
                            outcome.maxAbsoluteError = .infinity
                            outcome.maxRelativeError = .infinity
                        }
                        if bad && ok {
                            ok = false
                            outcome.firstFailingStep = i + 1
                        }
                    }
                }
            }
            if !c.evalAfterSteps.isEmpty && !opt.hasEvaluationParameters {
                outcome.error = "the case records evaluation parameters but '\(c.optimizer)' keeps none"
                ok = false
            }
            if c.expectedSlow != nil && !(opt is any HasSlowWeights<Double>) {
                outcome.error = "the case records slow weights but '\(c.optimizer)' keeps none"
                ok = false
            }
            outcome.passed = ok
        } catch {
            outcome.error = "\(error)"
        }
        return outcome
    }

    /// Runs every `*.json` case file in a directory, in name order. An unreadable or
    /// malformed file becomes a failed outcome, never a thrown error.
    public static func runDirectory(_ dir: URL) throws -> [Outcome] {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw OptimizerError("cannot list \(dir.path): \(error.localizedDescription)")
        }
        return files.map { url in
            do { return run(try ConformanceCase(contentsOf: url)) } catch {
                return Outcome(
                    name: url.deletingPathExtension().lastPathComponent, maxRelativeError: .nan,
                    maxAbsoluteError: .nan, passed: false, error: "\(error)")
            }
        }
    }

    /// Gradient of f(x, y) = (1 − x)² + 100(y − x²)², as torch's autograd computes it.
    public static func rosenbrockGradient(_ p: [Double]) -> [Double] {
        let x = p[0], y = p[1]
        return [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
    }
}
