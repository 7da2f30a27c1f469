import Testing
import TunedRPC

/// `validation failed` with several problems (issue 12): one line each, `data.problems`, and
/// data's file/line/field those of the first problem that has a line.
@Suite struct ValidationProblemsTests {
    let problems = [
        ValidationProblem(file: "t.toml", line: nil, field: "[search]", message: "missing table"),
        ValidationProblem(file: "t.toml", line: 9, field: "[strategy] trials", message: "must be ≥ 1, got 0"),
        ValidationProblem(file: "t.toml", line: 3, column: 7, field: nil, message: "expected '='"),
    ]

    @Test func everyProblemIsALineAndInDataWithTheLinedOnesFirst() throws {
        let e = RPCError.validationFailed(problems: problems)
        #expect(e.knownCode == .validationFailed)
        #expect(e.message == "t.toml:9: [strategy] trials: must be ≥ 1, got 0\nt.toml:3:7: expected '='\nt.toml: [search]: missing table")
        #expect(e.data?["file"] == "t.toml" && e.data?["line"] == 9 && e.data?["field"] == "[strategy] trials")
        // Through the wire and back.
        let back = try RPCValue.parse(e.value.jsonText)
        let decoded = RPCError(code: -32001, message: back["message"]?.stringValue ?? "", data: back["data"])
        #expect(decoded.validationProblems == [problems[1], problems[2], problems[0]])
    }

    @Test func oneProblemReadsAsItAlwaysDidAndOtherErrorsHaveNone() {
        let one = RPCError.validationFailed(problems: [problems[1]])
        let old = RPCError.validationFailed("must be ≥ 1, got 0", file: "t.toml", line: 9, field: "[strategy] trials")
        #expect(one.message == old.message && one.data?["line"] == old.data?["line"])
        #expect(old.validationProblems == nil && RPCError.taskNotFound(3).validationProblems == nil)
    }
}
