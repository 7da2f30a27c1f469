/// One benchmark row: a name, a measured value with its unit, and context.
public struct BenchResult: Sendable, Encodable {
    public var group: String
    public var name: String
    public var value: Double
    public var unit: String
    /// A second figure to read the first against (e.g. the memory-streaming time).
    public var baseline: Double?
    public var ratio: Double? { baseline.map { value / $0 } }
    public var note: String?

    enum CodingKeys: String, CodingKey { case group, name, value, unit, baseline, ratio, note }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group, forKey: .group)
        try c.encode(name, forKey: .name)
        try c.encode(value, forKey: .value)
        try c.encode(unit, forKey: .unit)
        try c.encodeIfPresent(baseline, forKey: .baseline)
        try c.encodeIfPresent(ratio, forKey: .ratio)
        try c.encodeIfPresent(note, forKey: .note)
    }
}
