import Foundation
import Testing

@testable import TunedDaemon

/// A dead worker's last words: what the segment it held fails with.
@Suite struct StderrTailTests {
    func lastWords(of text: String) throws -> String? {
        let tail = StderrTail(echo: nil)
        // As `Process.run()` leaves it: the child holds a copy of the write end, ours is closed.
        let out = FileHandle(fileDescriptor: dup(tail.pipe.fileHandleForWriting.fileDescriptor), closeOnDealloc: true)
        try tail.pipe.fileHandleForWriting.close()
        tail.start()
        out.write(Data(text.utf8))
        try out.close()
        return tail.lastWords()
    }

    @Test func theSwiftFatalErrorLineWinsOverTheBacktraceAfterIt() throws {
        let crash = """
            2026-11-29T16:46:39Z info tuned.worker: lease 4
            Fatal error: failed to allocate 40000000032 bytes of memory with alignment 8
            r14 0x00007fd88c00c030  46 61 74 61 6c 20 65 72 72 6f 72 3a 20 66 61 69  Fatal error: fai
            rip 0x00007fd89a1b2c3d
            """
        #expect(try lastWords(of: crash) == "Fatal error: failed to allocate 40000000032 bytes of memory with alignment 8")
    }

    @Test func otherwiseTheLastNonEmptyLine() throws {
        #expect(try lastWords(of: "first\n  cannot connect to /x.sock  \n\n") == "cannot connect to /x.sock")
        #expect(try lastWords(of: "") == nil)
    }

    @Test func onlyTheLastFourKiBAreKept() throws {
        let long = "Fatal error: long ago\n" + String(repeating: "x", count: 10_000) + "\nthe end\n"
        #expect(try lastWords(of: long) == "the end")
    }
}
