import Foundation
import TunedMath
import TunedOptim

/// The element types the data-driven workloads compute in, with the BLAS kernel and the
/// elementary functions of each, so that generic model code dispatches to `sgemm`/`dgemm`
/// (TunedMath's pointer forms) and to `expf`/`exp` without a runtime type test.
///
/// `Float` is the training type (speed); `Double` is the gradient-check type.
public protocol KernelScalar: TunedScalar {
    /// C ← α·op(A)·op(B) + β·C on row-major storage (`BLAS.gemm`).
    static func gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    /// d[i] ← 0 where z[i] ≤ 0: ReLU's backward pass (`reluMask`).
    static func maskNonPositive(_ d: UnsafeMutablePointer<Self>, z: UnsafePointer<Self>, count: Int)
}

/// ReLU's backward mask without a branch per element: the sign pattern is random, and
/// mispredicted branches cost more than the rest of the backward pass (measured: 40% of a
/// digits MLP step; Swift's `SIMD` comparisons were scalarised too). On the IEEE bit
/// pattern x of z (as a signed integer), z > 0 ⟺ x > 0, and the mask ((−x) ∧ ¬x) >> (w−1)
/// (arithmetic shift) is all ones exactly then — −0.0 (x = Int.min) and negatives give 0.
/// Integer code that the compiler vectorises.
extension Float {
    @inline(__always)
    static func reluMask(_ d: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let x = Int32(bitPattern: z[i].bitPattern)
            let mask = UInt32(bitPattern: ((0 &- x) & ~x) >> 31)
            d[i] = Float(bitPattern: d[i].bitPattern & mask)
        }
    }
}

extension Double {
    @inline(__always)
    static func reluMask(_ d: UnsafeMutablePointer<Double>, _ z: UnsafePointer<Double>, _ count: Int) {
        for i in 0..<count {
            let x = Int64(bitPattern: z[i].bitPattern)
            let mask = UInt64(bitPattern: ((0 &- x) & ~x) >> 63)
            d[i] = Double(bitPattern: d[i].bitPattern & mask)
        }
    }
}

extension Float: KernelScalar {
    @inlinable @inline(__always)
    public static func gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLAS.gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable @inline(__always) public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inlinable @inline(__always) public static func erf(_ x: Float) -> Float { Foundation.erf(x) }
    public static func maskNonPositive(_ d: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>, count: Int) {
        reluMask(d, z, count)
    }
}

extension Double: KernelScalar {
    @inlinable @inline(__always)
    public static func gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLAS.gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable @inline(__always) public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inlinable @inline(__always) public static func erf(_ x: Double) -> Double { Foundation.erf(x) }
    public static func maskNonPositive(_ d: UnsafeMutablePointer<Double>, z: UnsafePointer<Double>, count: Int) {
        reluMask(d, z, count)
    }
}
