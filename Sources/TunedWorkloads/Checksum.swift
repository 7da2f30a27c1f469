/// FNV-1a, 64-bit: h ← (h ⊕ byte)·0x100000001B3 from 0xCBF29CE484222325 (Fowler, Noll,
/// Vo; IETF draft-eastlake-fnv). Used as the checkpoint checksum and configuration hash.
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    public init() {}

    public mutating func add<C: Collection>(bytes: C) where C.Element == UInt8 {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        value = h
    }

    public mutating func add(_ string: String) { add(bytes: Array(string.utf8)); add(bytes: [0]) }
    public mutating func add(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { add(bytes: $0) } }
    public mutating func add(_ v: Int) { add(UInt64(bitPattern: Int64(v))) }
    public mutating func add(_ v: Double) { add(v.bitPattern) }

    public static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h = FNV1a64()
        h.add(bytes: bytes)
        return h.value
    }
}
