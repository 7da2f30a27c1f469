import Foundation
import Testing

@testable import TunedRPC

/// SplitMix64 (Steele, Lea & Flood 2014): a deterministic generator, so a failing line can be
/// reproduced from the seed and the iteration number.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The server's side of every method, for the fuzz test: decode the params with the method's
/// type, then answer with `{}`; unknown methods get method-not-found.
let paramDecoders: [String: @Sendable (RPCRequest) throws(RPCError) -> Void] = [
    RPCMethodName.taskSubmit: { r throws(RPCError) in _ = try r.decodeParams(TaskSubmitParams.self) },
    RPCMethodName.taskList: { r throws(RPCError) in _ = try r.decodeParams(TaskListParams.self) },
    RPCMethodName.taskGet: { r throws(RPCError) in _ = try r.decodeParams(TaskIDParams.self) },
    RPCMethodName.taskCancel: { r throws(RPCError) in _ = try r.decodeParams(TaskIDParams.self) },
    RPCMethodName.taskWatch: { r throws(RPCError) in _ = try r.decodeParams(TaskWatchParams.self) },
    RPCMethodName.taskResults: { r throws(RPCError) in _ = try r.decodeParams(TaskIDParams.self) },
    RPCMethodName.taskLineage: { r throws(RPCError) in _ = try r.decodeParams(TaskIDParams.self) },
    RPCMethodName.taskCurves: { r throws(RPCError) in _ = try r.decodeParams(TaskCurvesParams.self) },
    RPCMethodName.trialList: { r throws(RPCError) in _ = try r.decodeParams(TrialListParams.self) },
    RPCMethodName.recommend: { r throws(RPCError) in _ = try r.decodeParams(RecommendParams.self) },
    RPCMethodName.policyFit: { r throws(RPCError) in _ = try r.decodeParams(PolicyFitParams.self) },
    RPCMethodName.policyShow: { r throws(RPCError) in _ = try r.decodeParams(RPCEmpty.self) },
    RPCMethodName.taskBatchSize: { r throws(RPCError) in _ = try r.decodeParams(TaskIDParams.self) },
    RPCMethodName.daemonStatus: { r throws(RPCError) in _ = try r.decodeParams(RPCEmpty.self) },
    RPCMethodName.workerHello: { r throws(RPCError) in _ = try r.decodeParams(WorkerHelloParams.self) },
    RPCMethodName.workerLease: { r throws(RPCError) in _ = try r.decodeParams(WorkerLeaseParams.self) },
    RPCMethodName.workerHeartbeat: { r throws(RPCError) in _ = try r.decodeParams(WorkerSegmentParams.self) },
    RPCMethodName.workerReport: { r throws(RPCError) in _ = try r.decodeParams(WorkerReportParams.self) },
    RPCMethodName.workerFinish: { r throws(RPCError) in _ = try r.decodeParams(WorkerFinishParams.self) },
]

/// What a server built on the decoder sends for `line`: nil only for a well-formed notification.
func serverReply(to line: [UInt8], decoder: RPCRequestDecoder) -> [UInt8]? {
    switch decoder.decode(line) {
    case .reply(let reply):
        return reply.encodedLine()
    case .request(let request):
        var reply: RPCResponse
        if let decode = paramDecoders[request.method] {
            do {
                try decode(request)
                reply = RPCResponse(id: request.id, body: .result(.object([:])))
            } catch {
                reply = .error(id: request.id, error)
            }
        } else {
            reply = .error(id: request.id, .methodNotFound(request.method))
        }
        return request.isNotification ? nil : reply.encodedLine()
    }
}

let seedLines: [String] = [
    #"{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"text":"name = \"x\"\n[budget]\nsteps = 10\n","format":"toml","filename":"x.toml","base_dir":"/tmp"}}"#,
    #"{"jsonrpc":"2.0","id":"a","method":"task.get","params":{"task_id":7}}"#,
    #"{"jsonrpc":"2.0","id":2,"method":"task.list"}"#,
    #"{"jsonrpc":"2.0","id":3,"method":"worker.report","params":{"worker_id":"w1","segment_id":9,"metrics":[{"step":1,"name":"loss","value":0.5},{"step":2,"name":"loss","value":"NaN"}]}}"#,
    #"{"jsonrpc":"2.0","id":4,"method":"worker.finish","params":{"worker_id":"w1","segment_id":9,"status":"ok","checkpoint":{"path":"/c","step":2,"checksum":"sha256:00","size":10}}}"#,
    #"{"jsonrpc":"2.0","id":5,"method":"recommend","params":{"features":{"model_kind":"mlp","depth":[1,2,{"a":null}]},"top_k":3}}"#,
    #"{"jsonrpc":"2.0","method":"worker.heartbeat","params":{"worker_id":"w1","segment_id":9}}"#,
    #"{"jsonrpc":"2.0","id":6,"method":"daemon.status","params":{}}"#,
    #"[{"jsonrpc":"2.0","id":7,"method":"task.cancel","params":{"task_id":1}}]"#,
    #"{"jsonrpc":"2.0","id":8,"method":"\u00e9\ud83d\ude00","params":[1,2.5e-3,true,false,null]}"#,
]

/// Byte-level mutations that keep parts of a valid line, so the fuzz reaches deep into the
/// decoder rather than failing at the first byte.
func mutate(_ line: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = line
    let tokens: [String] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "true", "1e999", "-0", "0.5",
        "99999999999999999999999", "\"id\":", "\"jsonrpc\":\"2.0\"", "\"method\":", "\"params\":", "\u{0}", "\n",
        String(repeating: "[", count: 80), String(repeating: "{\"a\":", count: 70),
    ]
    let rounds = 1 + Int(rng.next() % 4)
    for _ in 0..<rounds {
        let pos = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count + 1))
        switch rng.next() % 9 {
        case 0 where !b.isEmpty: b[min(pos, b.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
        case 1: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
        case 2 where !b.isEmpty:
            let end = min(b.count, pos + 1 + Int(rng.next() % 12))
            b.removeSubrange(min(pos, b.count)..<end)
        case 3: b = Array(b.prefix(pos))
        case 4: b.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: pos)
        case 5 where !b.isEmpty:
            let start = Int(rng.next() % UInt64(b.count))
            let chunk = b[start..<min(b.count, start + 1 + Int(rng.next() % 20))]
            b.insert(contentsOf: chunk, at: pos)
        case 6: b = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 7 where !b.isEmpty:
            b[min(pos, b.count - 1)] = [0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x30][Int(rng.next() % 8)]
        default: b.append(contentsOf: Array(" \t\r".utf8))
        }
    }
    return b
}

@Suite struct FuzzTests {
    @Test func tenThousandMutatedLinesAlwaysGetOneValidReply() throws {
        var rng = SplitMix64(seed: 0x7475_6E65_64)  // "tuned"
        let decoder = RPCRequestDecoder(maxLineBytes: 4096)
        let seeds = seedLines.map { Array($0.utf8) }
        var replies = 0
        var notifications = 0
        var requests = 0
        var failures: [String] = []
        var codes: [Int: Int] = [:]
        for i in 0..<10_000 {
            var line = mutate(seeds[Int(rng.next() % UInt64(seeds.count))], &rng)
            if i % 500 == 0 { line = [UInt8](repeating: 0x5B, count: 5000) }  // over the size limit
            // The framer never hands the decoder a newline; a mutation may insert one.
            line.removeAll { $0 == 0x0A }
            guard let reply = serverReply(to: line, decoder: decoder) else {
                notifications += 1
                continue
            }
            replies += 1
            if decoder.decode(line).request != nil { requests += 1 }
            guard reply.last == 0x0A, reply.dropLast().firstIndex(of: 0x0A) == nil,
                case .response(let r)? = try? RPCIncoming.parse(reply.dropLast()),
                (try? JSONSerialization.jsonObject(with: Data(reply.dropLast()))) is [String: Any]
            else {
                failures.append(
                    "#\(i): \(String(decoding: line, as: UTF8.self)) -> \(String(decoding: reply, as: UTF8.self))")
                continue
            }
            if let e = r.error { codes[e.code, default: 0] += 1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(replies + notifications == 10_000)
        // The mutations reach every layer: parse errors, invalid requests, invalid params, unknown methods, successes.
        for code in [RPCErrorCode.parseError, .invalidRequest, .methodNotFound, .invalidParams, .requestTooLarge] {
            #expect(codes[code.rawValue, default: 0] > 0, "no \(code) among \(codes)")
        }
        #expect(requests > 100)
    }

    @Test func randomBytesNeverTrapTheParser() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let n = Int(rng.next() % 200)
            let bytes = (0..<n).map { _ in
                [0x5B, 0x7B, 0x22, 0x5C, 0x31, 0x2D, 0x2E, 0x65, 0x3A, 0x2C, 0x5D, 0x7D, 0xC3, 0xA9, 0x75][
                    Int(rng.next() % 15)] as UInt8
            }
            let outcome = RPCRequestDecoder().decode(bytes)
            if let reply = outcome.reply { #expect(reply.encodedLine().last == 0x0A) }
        }
    }
}
