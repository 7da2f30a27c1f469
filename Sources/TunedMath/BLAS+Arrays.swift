/// `Float` or `Double`: the element types of `Matrix` and of the `BLAS` array forms.
///
/// The requirements forward to the unchecked pointer forms in `BLAS`; call those, or the
/// array forms, rather than these.
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    static func _gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func _gemv(
        _ trans: BLAS.Transpose, rows: Int, cols: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    static func _axpy(count: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
    static func _dot(count: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self
    static func _nrm2(count: Int, x: UnsafePointer<Self>) -> Self
}

extension Float: BLASScalar {
    @inlinable public static func _gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLAS.gemm(
            transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc)
    }
    @inlinable public static func _gemv(
        _ trans: BLAS.Transpose, rows: Int, cols: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        BLAS.gemv(trans, rows: rows, cols: cols, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }
    @inlinable public static func _axpy(
        count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    ) {
        BLAS.axpy(count: count, alpha: alpha, x: x, y: y)
    }
    @inlinable public static func _dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        BLAS.dot(count: count, x: x, y: y)
    }
    @inlinable public static func _nrm2(count: Int, x: UnsafePointer<Float>) -> Float { BLAS.nrm2(count: count, x: x) }
}

extension Double: BLASScalar {
    @inlinable public static func _gemm(
        _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLAS.gemm(
            transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc)
    }
    @inlinable public static func _gemv(
        _ trans: BLAS.Transpose, rows: Int, cols: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        BLAS.gemv(trans, rows: rows, cols: cols, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }
    @inlinable public static func _axpy(
        count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>
    ) {
        BLAS.axpy(count: count, alpha: alpha, x: x, y: y)
    }
    @inlinable public static func _dot(count: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        BLAS.dot(count: count, x: x, y: y)
    }
    @inlinable public static func _nrm2(count: Int, x: UnsafePointer<Double>) -> Double {
        BLAS.nrm2(count: count, x: x)
    }
}

/// Array forms: shapes are checked (throwing `GSLError` with status `GSL_EBADLEN` and a
/// message naming the argument), then the pointer forms run. Vectors may be empty
/// (BLAS defines the result: `dot` → 0, `nrm2` → 0, `axpy` → no-op).
extension BLAS {
    /// C ← α·op(A)·op(B) + β·C, where op(A) is m×k, op(B) is k×n and C is m×n.
    ///
    /// Throws if the inner dimensions of op(A) and op(B) differ, or if `c` is not m×n.
    /// With β = 0 the prior contents of `c` are ignored (BLAS semantics, NaNs included).
    public static func gemm<S: BLASScalar>(
        _ a: Matrix<S>, _ b: Matrix<S>, transA: Transpose = .none, transB: Transpose = .none,
        alpha: S = 1, beta: S = 0, into c: inout Matrix<S>
    ) throws {
        let (m, k) = transA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        let (kb, n) = transB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
        guard k == kb else {
            throw badLength("gemm: op(a) is \(m)×\(k) but op(b) is \(kb)×\(n); inner dimensions must agree")
        }
        guard c.rows == m, c.columns == n else {
            throw badLength("gemm: c is \(c.rows)×\(c.columns), op(a)·op(b) is \(m)×\(n)")
        }
        a.elements.withUnsafeBufferPointer { ap in
            b.elements.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableStorage { cp in
                    S._gemm(
                        transA, transB, m: m, n: n, k: k, alpha: alpha,
                        a: ap.baseAddress!, lda: a.columns, b: bp.baseAddress!, ldb: b.columns,
                        beta: beta, c: cp.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// α·op(A)·op(B) as a new matrix (`gemm` with β = 0).
    public static func product<S: BLASScalar>(
        _ a: Matrix<S>, _ b: Matrix<S>, transA: Transpose = .none, transB: Transpose = .none, alpha: S = 1
    ) throws -> Matrix<S> {
        let m = transA == .none ? a.rows : a.columns
        let n = transB == .none ? b.columns : b.rows
        var c = Matrix<S>(unchecked: m, n, [S](repeating: 0, count: m * n))
        try gemm(a, b, transA: transA, transB: transB, alpha: alpha, beta: 0, into: &c)
        return c
    }

    /// y ← α·op(A)·x + β·y. Throws if `x` or `y` does not match op(A)'s columns or rows.
    public static func gemv<S: BLASScalar>(
        _ a: Matrix<S>, _ x: [S], trans: Transpose = .none, alpha: S = 1, beta: S = 0, into y: inout [S]
    ) throws {
        let (m, n) = trans == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        guard x.count == n else { throw badLength("gemv: x has \(x.count) elements, op(a) is \(m)×\(n)") }
        guard y.count == m else { throw badLength("gemv: y has \(y.count) elements, op(a) is \(m)×\(n)") }
        a.elements.withUnsafeBufferPointer { ap in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    S._gemv(
                        trans, rows: a.rows, cols: a.columns, alpha: alpha, a: ap.baseAddress!, lda: a.columns,
                        x: xp.baseAddress!, beta: beta, y: yp.baseAddress!)
                }
            }
        }
    }

    /// α·op(A)·x as a new vector (`gemv` with β = 0).
    public static func product<S: BLASScalar>(
        _ a: Matrix<S>, _ x: [S], trans: Transpose = .none, alpha: S = 1
    ) throws -> [S] {
        var y = [S](repeating: 0, count: trans == .none ? a.rows : a.columns)
        try gemv(a, x, trans: trans, alpha: alpha, beta: 0, into: &y)
        return y
    }

    /// y ← α·x + y. Throws if the lengths differ.
    public static func axpy<S: BLASScalar>(alpha: S, x: [S], y: inout [S]) throws {
        guard x.count == y.count else { throw badLength("axpy: x has \(x.count) elements, y has \(y.count)") }
        guard !x.isEmpty else { return }
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                S._axpy(count: xp.count, alpha: alpha, x: xp.baseAddress!, y: yp.baseAddress!)
            }
        }
    }

    /// xᵀy. Throws if the lengths differ.
    public static func dot<S: BLASScalar>(_ x: [S], _ y: [S]) throws -> S {
        guard x.count == y.count else { throw badLength("dot: x has \(x.count) elements, y has \(y.count)") }
        guard !x.isEmpty else { return 0 }
        return x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in S._dot(count: xp.count, x: xp.baseAddress!, y: yp.baseAddress!) }
        }
    }

    /// ‖x‖₂, computed by BLAS with scaling against overflow.
    public static func nrm2<S: BLASScalar>(_ x: [S]) -> S {
        guard !x.isEmpty else { return 0 }
        return x.withUnsafeBufferPointer { S._nrm2(count: $0.count, x: $0.baseAddress!) }
    }

    private static func badLength(_ message: String) -> GSLError {
        GSLError.badLength(message)
    }
}
