/// Binary form of a `StateDict`: little-endian, keys sorted, floats as IEEE bit patterns.
///
///     "TSD1"  u32 entryCount  { u32 keyLength  key(utf8)  u8 tag  payload }*
///     tag 0 int: i64 · 1 double: u64 bits · 2 doubles: u64 n, n×u64 · 3 floats: u64 n, n×u32
///     4 string: u32 length, utf8
extension StateDict {
    private static let magic: [UInt8] = Array("TSD1".utf8)

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(64 + values.values.reduce(0) { $0 + $1.byteCount })
        append(UInt32(values.count), to: &out)
        for key in keys {
            let k = Array(key.utf8)
            append(UInt32(k.count), to: &out)
            out += k
            switch values[key]! {
            case .int(let v):
                out.append(0); append(UInt64(bitPattern: Int64(v)), to: &out)
            case .double(let v):
                out.append(1); append(v.bitPattern, to: &out)
            case .doubles(let a):
                out.append(2); append(UInt64(a.count), to: &out)
                for v in a { append(v.bitPattern, to: &out) }
            case .floats(let a):
                out.append(3); append(UInt64(a.count), to: &out)
                for v in a { append(v.bitPattern, to: &out) }
            case .string(let s):
                let b = Array(s.utf8)
                out.append(4); append(UInt32(b.count), to: &out); out += b
            }
        }
        return out
    }

    /// Decodes `encoded()` output; a truncated or foreign buffer is an error, never a trap.
    public init(decoding bytes: [UInt8]) throws {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 4, Array(bytes[0..<4]) == Self.magic else {
            throw OptimizerError("not a tuned state file (bad magic)")
        }
        reader.offset = 4
        self.init()
        let n = try reader.u32()
        for _ in 0..<n {
            let keyLength = Int(try reader.u32())
            let key = String(decoding: try reader.bytes(keyLength), as: UTF8.self)
            switch try reader.u8() {
            case 0: self[key] = .int(Int(Int64(bitPattern: try reader.u64())))
            case 1: self[key] = .double(Double(bitPattern: try reader.u64()))
            case 2:
                let count = try reader.count(elementSize: 8)
                var a = [Double](); a.reserveCapacity(count)
                for _ in 0..<count { a.append(Double(bitPattern: try reader.u64())) }
                self[key] = .doubles(a)
            case 3:
                let count = try reader.count(elementSize: 4)
                var a = [Float](); a.reserveCapacity(count)
                for _ in 0..<count { a.append(Float(bitPattern: try reader.u32())) }
                self[key] = .floats(a)
            case 4:
                let length = Int(try reader.u32())
                self[key] = .string(String(decoding: try reader.bytes(length), as: UTF8.self))
            case let tag:
                throw OptimizerError("state entry '\(key)' has unknown tag \(tag)")
            }
        }
        guard reader.offset == bytes.count else { throw OptimizerError("state file has \(bytes.count - reader.offset) trailing bytes") }
    }

    private func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - offset else { throw OptimizerError("state file is truncated at byte \(offset)") }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }
        mutating func u8() throws -> UInt8 { try bytes(1).first! }
        mutating func u32() throws -> UInt32 { try int(UInt32.self) }
        mutating func u64() throws -> UInt64 { try int(UInt64.self) }
        mutating func count(elementSize: Int) throws -> Int {
            let n = try u64()
            guard n <= UInt64(bytes.count - offset) / UInt64(elementSize) else {
                throw OptimizerError("state file is truncated at byte \(offset)")
            }
            return Int(n)
        }
        private mutating func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let s = try bytes(MemoryLayout<T>.size)
            var v: T = 0
            for (i, b) in s.enumerated() { v |= T(b) << (8 * i) }
            return v
        }
    }
}

extension StateDict.Value {
    var byteCount: Int {
        switch self {
        case .int, .double: 8
        case .doubles(let a): 8 * a.count + 8
        case .floats(let a): 4 * a.count + 8
        case .string(let s): s.utf8.count + 4
        }
    }
}
