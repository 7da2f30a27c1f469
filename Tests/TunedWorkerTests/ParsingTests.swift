import Foundation
import Testing
import TunedRPC
import TunedWorkloads
@testable import TunedWorker

@Suite struct ParsingTests {
    @Test func metricLinesParseNumbersIncludingNonFinite() throws {
        let p = try #require(MetricLine.parse("tuned: step=7 loss=1e-3 a=-2 b=.5 c=nan d=-inf e=Infinity f=+inf"))
        #expect(p.step == 7 && p.warnings.isEmpty)
        #expect(p.metrics.map(\.name) == ["loss", "a", "b", "c", "d", "e", "f"])
        let v = p.metrics.map(\.value)
        #expect(v[0] == 1e-3 && v[1] == -2 && v[2] == 0.5 && v[3].isNaN && v[4] == -.infinity && v[5] == .infinity && v[6] == .infinity)
        #expect(MetricLine.parse("not tuned: step=1 a=1") == nil)
        #expect(MetricLine.parse("tuned: step=1 a=0x10")?.warnings.count == 1)
        #expect(MetricLine.parse("tuned: step=-1 a=1")?.metrics.isEmpty == true)
        #expect(MetricLine.parse("tuned: a=1 a=2 step=3")?.metrics == [MetricPoint(step: 3, name: "a", value: 2)])
    }

    @Test func formattedRecordsParseBackExactly() throws {
        let r = TrainingRecord(step: 300, trainLoss: 0.1 + 0.2, validationLoss: 1 / 3, validationAccuracy: 0.875, learningRate: 3e-4, gradientNoiseScale: 123.456)
        let p = try #require(MetricLine.parse(MetricLine.format(r)))
        #expect(p.metrics == MetricLine.metrics(r))
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var pieces = SHA256()
        for chunk in stride(from: 0, to: long.count, by: 7) { pieces.update(long[chunk..<min(chunk + 7, long.count)]) }
        #expect(pieces.hexDigest == SHA256.hex(long))
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func directoryDigestCoversNamesAndContents() throws {
        let s = Scratch()
        defer { s.cleanup() }
        let fm = FileManager.default
        try fm.createDirectory(atPath: s.path("d/sub"), withIntermediateDirectories: true)
        try Data("one".utf8).write(to: URL(fileURLWithPath: s.path("d/a")))
        try Data("two".utf8).write(to: URL(fileURLWithPath: s.path("d/sub/b")))
        let d1 = try CheckpointDigest.of(directory: s.url.appendingPathComponent("d"))
        #expect(d1.files == ["a", "sub/b"] && d1.size == 6)
        try fm.moveItem(atPath: s.path("d/sub/b"), toPath: s.path("d/sub/c"))
        let d2 = try CheckpointDigest.of(directory: s.url.appendingPathComponent("d"))
        #expect(d2.checksum != d1.checksum && d2.size == 6)
        #expect(throws: WorkerError.self) { try CheckpointDigest.of(directory: s.url.appendingPathComponent("none")) }
    }
}
