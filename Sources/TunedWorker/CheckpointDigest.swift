import Foundation
import TunedRPC

/// The size and checksum of a checkpoint directory, as `worker.finish` reports them.
///
/// A checkpoint is a directory (built-in workloads write one file, `checkpoint.tck`; a
/// command workload writes whatever it likes). Its checksum is SHA-256 over the regular
/// files below it, in byte order of their relative paths (`a/b` with `/` separators), each
/// contributing
///
///     relative path (UTF-8)  0x00  size (u64 little-endian)  the file's bytes
///
/// so renaming, moving or editing any file changes it. `size` is the files' total bytes.
/// Symbolic links and other non-regular entries are not followed and not counted.
/// The result is `sha256:` and 64 hex digits (`CheckpointRef.checksum`).
public struct CheckpointDigest: Sendable, Equatable {
    public var checksum: String
    public var size: Int64
    /// The relative paths that were hashed, in order.
    public var files: [String]

    public static func of(directory: URL) throws -> CheckpointDigest {
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw WorkerError("checkpoint directory \(root.path) does not exist")
        }
        var files: [String] = []
        try collect(root, prefix: "", into: &files)
        files.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var sha = SHA256()
        var total: Int64 = 0
        for rel in files {
            let url = root.appendingPathComponent(rel)
            // O_NOFOLLOW: a file swapped for a symbolic link after it was listed (the folder may
            // be its program's, the reader root) is refused, not followed out of the checkpoint.
            let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                throw WorkerError("cannot read checkpoint file \(url.path): \(String(cString: strerror(errno)))")
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var st = stat()
            guard fstat(handle.fileDescriptor, &st) == 0 else { throw WorkerError("cannot stat checkpoint file \(url.path)") }
            let expected = UInt64(st.st_size)
            sha.update(Array(rel.utf8) + [0])
            withUnsafeBytes(of: expected.littleEndian) { sha.update(Array($0)) }
            var count: UInt64 = 0
            while true {
                let chunk = handle.readData(ofLength: 1 << 20)
                if chunk.isEmpty { break }
                count += UInt64(chunk.count)
                sha.update([UInt8](chunk))
            }
            guard count == expected else {
                throw WorkerError("checkpoint file \(url.path) changed while it was being hashed (\(expected) bytes, then \(count))")
            }
            total += Int64(count)
        }
        return CheckpointDigest(checksum: "sha256:" + sha.hexDigest, size: total, files: files)
    }

    private static func collect(_ dir: URL, prefix: String, into files: inout [String]) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        } catch {
            throw WorkerError("cannot list checkpoint directory \(dir.path): \(error.localizedDescription)")
        }
        for name in names {
            let url = dir.appendingPathComponent(name)
            var st = stat()
            guard lstat(url.path, &st) == 0 else { continue }
            let type = st.st_mode & S_IFMT
            let rel = prefix.isEmpty ? name : prefix + "/" + name
            if type == S_IFDIR {
                try collect(url, prefix: rel, into: &files)
            } else if type == S_IFREG {
                files.append(rel)
            }
        }
    }

    /// A `CheckpointRef` for `directory` at `step`.
    public static func reference(directory: URL, step: Int64) throws -> CheckpointRef {
        let d = try of(directory: directory)
        return CheckpointRef(path: directory.path, step: step, checksum: d.checksum, size: d.size)
    }
}

/// An error of the worker itself (as opposed to the workload's), with a message meant for
/// the user.
public struct WorkerError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
