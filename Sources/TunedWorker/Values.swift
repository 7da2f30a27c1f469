import Foundation
import TunedOptim
import TunedRPC

/// Conversions between the protocol's `RPCValue` and the workloads' `JSONValue`.
extension JSONValue {
    /// Integers become doubles (exact up to 2^53, which covers every configuration value).
    public init(_ v: RPCValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JSONValue.init))
        case .object(let o): self = .object(o.mapValues(JSONValue.init))
        }
    }
}

extension RPCValue {
    /// Whole numbers within ±2^53 become `.int`, so that `{"batch_size": 64}` prints as 64.
    public init(_ v: JSONValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let d):
            if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { self = .int(Int64(d)) } else { self = .double(d) }
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(RPCValue.init))
        case .object(let o): self = .object(o.mapValues(RPCValue.init))
        }
    }
}
