import Testing

@testable import TunedRPC

@Suite struct FramerTests {
    @Test func splitsLinesAcrossArbitraryChunks() {
        let text = Array("{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n".utf8)
        for chunk in [1, 2, 3, 7, 100] {
            var f = RPCLineFramer(maxLineBytes: 100)
            var lines: [String] = []
            var i = 0
            while i < text.count {
                f.append(text[i..<min(text.count, i + chunk)])
                i += chunk
                while case .line(let l)? = f.next() { lines.append(String(decoding: l, as: UTF8.self)) }
            }
            #expect(lines == ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"], "chunk \(chunk)")
            #expect(f.bufferedByteCount == 0)
        }
    }

    @Test func anOversizedLineIsReportedOnceAndSkipped() {
        var f = RPCLineFramer(maxLineBytes: 10)
        f.append(Array("short\n".utf8))
        #expect(f.next() == .line(Array("short".utf8)))
        f.append([UInt8](repeating: 0x61, count: 15))
        #expect(f.next() == .oversized(byteCount: 15))
        #expect(f.next() == nil)
        f.append([UInt8](repeating: 0x61, count: 1000))
        #expect(f.next() == nil)  // still inside the same line, already reported
        #expect(f.bufferedByteCount == 0)  // and not buffered
        f.append(Array("aa\nok\n".utf8))
        #expect(f.next() == .line(Array("ok".utf8)))
        #expect(f.next() == nil)
    }

    @Test func anOversizedLineArrivingWholeIsReported() {
        var f = RPCLineFramer(maxLineBytes: 4)
        f.append(Array("123456789\nabc\n".utf8))
        #expect(f.next() == .oversized(byteCount: 9))
        #expect(f.next() == .line(Array("abc".utf8)))
    }
}
