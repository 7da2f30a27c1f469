/// The element types optimizers run on: `Float` and `Double`.
///
/// Scalar bookkeeping (bias corrections, step sizes) is done in `Double`, as the
/// references do it in Python floats, then converted once to `Scalar`.
import TunedMath

public protocol TunedScalar: BinaryFloatingPoint, Sendable, Codable, FastSquareRoot
where Self.RawSignificand: FixedWidthInteger {
    /// Machine epsilon of the type (`torch.finfo(dtype).eps`).
    static var machineEpsilon: Self { get }
    var double: Double { get }
}

extension Float: TunedScalar {
    @inlinable public static var machineEpsilon: Float { Float.ulpOfOne }
    @inlinable public var double: Double { Double(self) }
}

extension Double: TunedScalar {
    @inlinable public static var machineEpsilon: Double { Double.ulpOfOne }
    @inlinable public var double: Double { self }
}
