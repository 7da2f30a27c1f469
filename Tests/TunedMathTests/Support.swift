import Testing
import TunedMath

/// Expects `body` to throw a `GSLError` whose message contains `fragment` (the argument's
/// name), and, if given, whose status is `status`.
func expectGSLError(
    _ fragment: String, status: Int32? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record(
            "expected a GSLError mentioning \"\(fragment)\", nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as GSLError {
        #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
        if let status {
            #expect(
                error.status == status, "status \(error.status), message: \(error.message)",
                sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a GSLError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// |a − b| ≤ tol·max(1, |b|) elementwise.
func expectClose(
    _ a: [Double], _ b: [Double], tol: Double, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() {
        #expect(abs(x - y) <= tol * max(1, abs(y)), "[\(i)]: \(x) vs \(y)", sourceLocation: sourceLocation)
    }
}

func expectClose(_ a: Double, _ b: Double, tol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(a - b) <= tol * max(1, abs(b)), "\(a) vs \(b)", sourceLocation: sourceLocation)
}
