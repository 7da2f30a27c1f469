@preconcurrency import CGSL

/// IEEE square root that vectorises inside loops (see `tuned_sqrtf` in CGSL's shim.h).
/// Bit-identical to `squareRoot()`; only the code generated around it differs.
public protocol FastSquareRoot {
    func vectorizableSquareRoot() -> Self
}

extension Float: FastSquareRoot {
    @inlinable @inline(__always)
    public func vectorizableSquareRoot() -> Float { tuned_sqrtf(self) }
}

extension Double: FastSquareRoot {
    @inlinable @inline(__always)
    public func vectorizableSquareRoot() -> Double { tuned_sqrt(self) }
}
