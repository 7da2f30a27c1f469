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
}
