import Foundation
import Testing

@testable import TunedRPC

/// A malformed line and the reply the server must send for it.
struct MalformedLine: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let code: RPCErrorCode
    /// The id the reply must carry; nil = JSON null (the id is unknowable).
    let id: RPCID?
    var testDescription: String { label }

    init(_ label: String, _ text: String, _ code: RPCErrorCode, id: RPCID? = nil) {
        self.init(label, Array(text.utf8), code, id: id)
    }

    init(_ label: String, _ bytes: [UInt8], _ code: RPCErrorCode, id: RPCID? = nil) {
        self.label = label
        self.bytes = bytes
        self.code = code
        self.id = id
    }
}

let malformedLines: [MalformedLine] = [
    // Not JSON.
    MalformedLine("empty line", "", .parseError),
    MalformedLine("only spaces", "   \t", .parseError),
    MalformedLine("plain text", "hello", .parseError),
    MalformedLine("truncated object", #"{"jsonrpc":"2.0","id":1,"method":"task.list""#, .parseError),
    MalformedLine("truncated string", #"{"jsonrpc":"2.0","id":1,"method":"task.li"#, .parseError),
    MalformedLine("trailing comma", #"{"jsonrpc":"2.0","id":1,"method":"task.list",}"#, .parseError),
    MalformedLine("single quotes", #"{'jsonrpc':'2.0','id':1,'method':'task.list'}"#, .parseError),
    MalformedLine("two objects on a line", #"{"jsonrpc":"2.0","id":1,"method":"a"}{"id":2}"#, .parseError),
    MalformedLine(
        "invalid UTF-8 in a string", [0x7B, 0x22, 0x6D, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D], .parseError),
    MalformedLine("invalid UTF-8 outside strings", [0xFF, 0xFE, 0x7B, 0x7D], .parseError),
    MalformedLine("overlong UTF-8 encoding", [0x22, 0xC0, 0xAF, 0x22], .parseError),
    MalformedLine("lone surrogate escape", #"{"jsonrpc":"2.0","id":1,"method":"\ud800"}"#, .parseError),
    MalformedLine(
        "raw control character in a string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\u{01}\"}", .parseError),
    MalformedLine("bad escape", #"{"jsonrpc":"2.0","id":1,"method":"\q"}"#, .parseError),
    MalformedLine("leading zero", #"{"jsonrpc":"2.0","id":01,"method":"a"}"#, .parseError),
    MalformedLine("number out of Double's range", #"{"jsonrpc":"2.0","id":1e400,"method":"a"}"#, .parseError),
    MalformedLine("NaN literal", #"{"jsonrpc":"2.0","id":NaN,"method":"a"}"#, .parseError),
    MalformedLine("duplicate key", #"{"jsonrpc":"2.0","id":1,"id":2,"method":"a"}"#, .parseError),
    MalformedLine(
        "nesting 65 deep", String(repeating: "[", count: 65) + String(repeating: "]", count: 65), .parseError),
    MalformedLine("nesting 100000 deep (no stack overflow)", String(repeating: "[", count: 100_000), .parseError),
    MalformedLine(
        "deep params",
        #"{"jsonrpc":"2.0","id":1,"method":"a","params":"# + String(repeating: "{\"a\":", count: 70) + "1"
            + String(repeating: "}", count: 70) + "}", .parseError),
    MalformedLine("NUL byte", [0x00], .parseError),
    // JSON, but not a request.
    MalformedLine("a number", "42", .invalidRequest),
    MalformedLine("a string", #""task.list""#, .invalidRequest),
    MalformedLine("null", "null", .invalidRequest),
    MalformedLine("true", "true", .invalidRequest),
    MalformedLine("an empty array", "[]", .invalidRequest),
    MalformedLine("a batch", #"[{"jsonrpc":"2.0","id":1,"method":"task.list"}]"#, .invalidRequest),
    MalformedLine("an empty object", "{}", .invalidRequest),
    MalformedLine("missing jsonrpc", #"{"id":1,"method":"task.list"}"#, .invalidRequest, id: .int(1)),
    MalformedLine(
        "jsonrpc 1.0", #"{"jsonrpc":"1.0","id":"a","method":"task.list"}"#, .invalidRequest, id: .string("a")),
    MalformedLine("jsonrpc as a number", #"{"jsonrpc":2.0,"id":3,"method":"task.list"}"#, .invalidRequest, id: .int(3)),
    MalformedLine("missing method", #"{"jsonrpc":"2.0","id":4}"#, .invalidRequest, id: .int(4)),
    MalformedLine("method as a number", #"{"jsonrpc":"2.0","id":5,"method":5}"#, .invalidRequest, id: .int(5)),
    MalformedLine("empty method", #"{"jsonrpc":"2.0","id":6,"method":""}"#, .invalidRequest, id: .int(6)),
    MalformedLine(
        "params as a string", #"{"jsonrpc":"2.0","id":7,"method":"a","params":"x"}"#, .invalidRequest, id: .int(7)),
    MalformedLine(
        "params as a number", #"{"jsonrpc":"2.0","id":8,"method":"a","params":1}"#, .invalidRequest, id: .int(8)),
    MalformedLine("unknown member", #"{"jsonrpc":"2.0","id":9,"method":"a","param":{}}"#, .invalidRequest, id: .int(9)),
    MalformedLine("id as an object", #"{"jsonrpc":"2.0","id":{},"method":"a"}"#, .invalidRequest),
    MalformedLine("id as an array", #"{"jsonrpc":"2.0","id":[1],"method":"a"}"#, .invalidRequest),
    MalformedLine("id as a boolean", #"{"jsonrpc":"2.0","id":true,"method":"a"}"#, .invalidRequest),
    MalformedLine("id null", #"{"jsonrpc":"2.0","id":null,"method":"a"}"#, .invalidRequest),
    MalformedLine("fractional id", #"{"jsonrpc":"2.0","id":1.5,"method":"a"}"#, .invalidRequest),
    MalformedLine(
        "id beyond Int64", #"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"a"}"#, .invalidRequest),
    MalformedLine("notification without method", #"{"jsonrpc":"2.0"}"#, .invalidRequest),
]

@Suite struct RequestDecoderTests {
    @Test func theTableHasAtLeastThirtyLines() {
        #expect(malformedLines.count >= 30)
    }

    @Test(arguments: malformedLines)
    func malformedLineGetsTheRightErrorReply(_ c: MalformedLine) throws {
        let outcome = RPCRequestDecoder().decode(c.bytes)
        let reply = try #require(outcome.reply, "decoded as a request: \(outcome)")
        #expect(reply.id == c.id)
        #expect(reply.error?.knownCode == c.code)
        #expect(reply.error?.message.isEmpty == false)
        try expectValidReplyLine(reply.encodedLine(), id: c.id)
    }

    @Test func oversizedLineIsRequestTooLarge() throws {
        let decoder = RPCRequestDecoder(maxLineBytes: 100)
        let line =
            Array(#"{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"text":""#.utf8)
            + [UInt8](repeating: 0x61, count: 200) + Array(#""}}"#.utf8)
        let reply = try #require(decoder.decode(line).reply)
        #expect(reply.error?.knownCode == .requestTooLarge)
        #expect(reply.error?.data?["limit"] == 100)
        #expect(reply.id == nil)
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":1,"method":"task.list"}"#, RPCRequest(id: .int(1), method: "task.list")),
        (
            #"{"method":"task.get","params":{"task_id":7},"id":"abc","jsonrpc":"2.0"}"#,
            RPCRequest(id: .string("abc"), method: "task.get", params: ["task_id": 7])
        ),
        (
            #"  {"jsonrpc":"2.0","method":"worker.heartbeat","params":{}}  "# + "\r\n",
            RPCRequest(id: nil, method: "worker.heartbeat", params: [:])
        ),
        (
            #"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"a","params":[1,2]}"#,
            RPCRequest(id: .int(.min), method: "a", params: [1, 2])
        ),
        (#"{"jsonrpc":"2.0","id":0,"method":"a","params":null}"#, RPCRequest(id: .int(0), method: "a")),
        (#"{"jsonrpc":"2.0","id":"\u00e9\ud83d\ude00","method":"a\/b"}"#, RPCRequest(id: .string("é😀"), method: "a/b")),
    ])
    func validLinesDecode(_ line: String, _ expected: RPCRequest) {
        #expect(RPCRequestDecoder().decode(Array(line.utf8)).request == expected)
    }

    @Test func notificationHasNoID() throws {
        let r = try #require(RPCRequestDecoder().decode(Array(#"{"jsonrpc":"2.0","method":"x"}"#.utf8)).request)
        #expect(r.isNotification)
    }

    @Test(arguments: [
        (#"{}"#, "task_id", "missing"),
        (#"{"task_id":"seven"}"#, "task_id", "wrong type"),
        (#"{"task_id":null}"#, "task_id", "must not be null"),
        (#"{"task_id":1.5}"#, "task_id", "wrong type"),
    ])
    func invalidParamsNameTheField(_ params: String, _ field: String, _ words: String) throws {
        let line = #"{"jsonrpc":"2.0","id":1,"method":"task.get","params":"# + params + "}"
        let request = try #require(RPCRequestDecoder().decode(Array(line.utf8)).request)
        let error = try #require(throws: RPCError.self) { try request.decodeParams(TaskIDParams.self) }
        #expect(error.knownCode == .invalidParams)
        #expect(error.message.contains("`\(field)`"), "\(error.message)")
        #expect(error.message.contains(words), "\(error.message)")
        #expect(error.data?["field"] == .string(field))
    }

    @Test func invalidParamsNameNestedFieldsAndEnumValues() throws {
        let line =
            #"{"jsonrpc":"2.0","id":1,"method":"worker.report","params":{"worker_id":"w","segment_id":1,"metrics":[{"step":1,"name":"a","value":1},{"step":2,"name":"b"}]}}"#
        let request = try #require(RPCRequestDecoder().decode(Array(line.utf8)).request)
        let error = try #require(throws: RPCError.self) { try request.decodeParams(WorkerReportParams.self) }
        #expect(error.data?["field"] == "metrics[1].value", "\(error.message)")

        let submit = RPCRequest(id: .int(1), method: "task.submit", params: ["text": "", "format": "yaml"])
        let e2 = try #require(throws: RPCError.self) { try submit.decodeParams(TaskSubmitParams.self) }
        #expect(e2.data?["field"] == "format")
        #expect(e2.message.contains(#""toml", "json""#), "\(e2.message)")
    }

    @Test func arrayParamsAreInvalidParamsForNamedMethods() throws {
        let request = RPCRequest(id: .int(1), method: "task.get", params: [7])
        let error = try #require(throws: RPCError.self) { try request.decodeParams(TaskIDParams.self) }
        #expect(error.knownCode == .invalidParams)
    }

    @Test func absentParamsDecodeAsAnEmptyObject() throws {
        let request = RPCRequest(id: .int(1), method: "task.list")
        #expect(try request.decodeParams(TaskListParams.self) == TaskListParams())
        #expect(try request.decodeParams(RPCEmpty.self) == RPCEmpty())
    }

    @Test func errorCodesAreTheDocumentedNumbers() {
        #expect(RPCErrorCode.parseError.rawValue == -32700)
        #expect(RPCErrorCode.invalidRequest.rawValue == -32600)
        #expect(RPCErrorCode.methodNotFound.rawValue == -32601)
        #expect(RPCErrorCode.invalidParams.rawValue == -32602)
        #expect(RPCErrorCode.internalError.rawValue == -32603)
        let app = RPCErrorCode.allCases.filter { $0.rawValue > -32100 }.map(\.rawValue)
        #expect(app == Array(stride(from: -32000, through: -32008, by: -1)))
    }

    @Test func validationFailedCarriesFileLineField() {
        let e = RPCError.validationFailed(
            "unknown optimizer \"adamx\"", file: "t.toml", line: 9, field: "search.optimizer")
        #expect(e.message == #"t.toml:9: search.optimizer: unknown optimizer "adamx""#)
        #expect(e.data == ["file": "t.toml", "line": 9, "field": "search.optimizer"])
    }
}

/// A reply line is one `\n`-terminated JSON object: jsonrpc 2.0, the id (or null), and
/// exactly one of result / error{code:int, message:string}.
func expectValidReplyLine(_ line: [UInt8], id: RPCID?, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(line.last == 0x0A, sourceLocation: sourceLocation)
    #expect(line.dropLast().firstIndex(of: 0x0A) == nil, sourceLocation: sourceLocation)
    // Foundation's parser as an independent judge.
    let any = try JSONSerialization.jsonObject(with: Data(line.dropLast()))
    let object = try #require(any as? [String: Any], sourceLocation: sourceLocation)
    #expect(object["jsonrpc"] as? String == "2.0", sourceLocation: sourceLocation)
    #expect(object.keys.contains("id"), sourceLocation: sourceLocation)
    switch id {
    case nil: #expect(object["id"] is NSNull, sourceLocation: sourceLocation)
    case .int(let i)?: #expect((object["id"] as? NSNumber)?.int64Value == i, sourceLocation: sourceLocation)
    case .string(let s)?: #expect(object["id"] as? String == s, sourceLocation: sourceLocation)
    }
    #expect((object["result"] == nil) != (object["error"] == nil), sourceLocation: sourceLocation)
    if let error = object["error"] {
        let e = try #require(error as? [String: Any], sourceLocation: sourceLocation)
        #expect(e["code"] is NSNumber, sourceLocation: sourceLocation)
        #expect(e["message"] is String, sourceLocation: sourceLocation)
    }
}
