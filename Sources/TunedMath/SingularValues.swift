@preconcurrency import CGSL

/// Singular values of a dense matrix through GSL's one-sided Jacobi SVD
/// (`gsl_linalg_SV_decomp_jacobi`, high relative accuracy).
public enum SingularValues {
    /// The largest singular value (the spectral norm ‖A‖₂) of the row-major `rows`×`columns`
    /// matrix `a`. GSL factors tall matrices; a wide one is transposed first (same values).
    public static func largest(_ a: [Double], rows: Int, columns: Int) throws -> Double {
        let tall = rows >= columns
        let m = try GSLMatrix(rows: tall ? rows : columns, columns: tall ? columns : rows)
        let data = m.pointer.pointee.data!
        for i in 0..<rows {
            for j in 0..<columns { data[tall ? i * columns + j : j * rows + i] = a[i * columns + j] }
        }
        let n = tall ? columns : rows
        let v = try GSLMatrix(rows: n, columns: n)
        let s = try GSLVector(count: n)
        try GSL.check(gsl_linalg_SV_decomp_jacobi(m.pointer, v.pointer, s.pointer), "gsl_linalg_SV_decomp_jacobi")
        var best = 0.0
        for k in 0..<n { best = Swift.max(best, s.pointer.pointee.data[k * s.pointer.pointee.stride]) }
        return best
    }
}
