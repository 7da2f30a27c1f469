import Foundation
import TunedOptim

/// The on-disk form: one file `checkpoint.tck` in the checkpoint directory,
///
///     "TCK1"  u64 payloadLength  u64 FNV-1a-64(payload)  payload = StateDict.encoded()
///
/// little-endian. `write` is atomic: the bytes go to a temporary file in the same
/// directory, are fsync'ed, and `rename(2)` replaces the old file, so a reader sees the
/// old checkpoint or the new one, never a torn one. `read` verifies magic, length and
/// checksum before decoding, and says what to do when one fails.
extension Checkpoint {
    public static var fileName: String { "checkpoint.tck" }
    private static var magic: [UInt8] { Array("TCK1".utf8) }

    public func write(to directory: URL) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw WorkloadError("cannot create checkpoint directory \(directory.path): \(error.localizedDescription)")
        }
        let payload = stateDict().encoded()
        var bytes = Self.magic
        bytes.reserveCapacity(payload.count + 20)
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: FNV1a64.hash(payload).littleEndian) { bytes += $0 }
        bytes += payload
        let final = directory.appendingPathComponent(Self.fileName)
        let temp = directory.appendingPathComponent(".\(Self.fileName).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try Data(bytes).write(to: temp)
            let handle = try FileHandle(forWritingTo: temp)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? fm.removeItem(at: temp)
            throw WorkloadError("cannot write checkpoint \(temp.path): \(error.localizedDescription); check free space and permissions")
        }
        guard rename(temp.path, final.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(at: temp)
            throw WorkloadError("cannot move checkpoint into place at \(final.path): \(reason)")
        }
        let dir = open(directory.path, O_RDONLY)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    public static func read(from directory: URL) throws -> Checkpoint {
        let url = directory.appendingPathComponent(fileName)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw WorkloadError("no readable checkpoint at \(url.path) (\(error.localizedDescription)); pass the directory a checkpoint was written to")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<4]) == magic else {
            throw WorkloadError("\(url.path) is not a tuned checkpoint (bad header); it may be from another program or truncated — delete it and resume from an earlier checkpoint")
        }
        let length = Self.u64(bytes, 4), stored = Self.u64(bytes, 12)
        guard length == UInt64(bytes.count - 20) else {
            throw WorkloadError("checkpoint \(url.path) is truncated or corrupted: its header announces \(length) payload bytes, the file holds \(bytes.count - 20); delete it and resume from an earlier checkpoint")
        }
        let payload = bytes[20...]
        let actual = FNV1a64.hash(payload)
        guard actual == stored else {
            throw WorkloadError("checkpoint \(url.path) is corrupted: checksum mismatch (stored \(String(stored, radix: 16)), computed \(String(actual, radix: 16))); delete it and resume from an earlier checkpoint")
        }
        let dict: StateDict
        do {
            dict = try StateDict(decoding: Array(payload))
        } catch {
            throw WorkloadError("checkpoint \(url.path) cannot be decoded: \(error)")
        }
        return try Checkpoint(stateDict: dict)
    }

    private static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * i) }
        return v
    }
}
