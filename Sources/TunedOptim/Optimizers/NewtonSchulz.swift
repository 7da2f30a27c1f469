import Foundation
import TunedMath

/// Newton–Schulz orthogonalisation of a matrix, as torch's and optax's Muon compute it.
///
///     X = G (transposed when rows > cols, so X is m×n with m ≤ n)
///     X ← X / max(‖X‖_F, ε)   (torch `_zeropower_via_newtonschulz`)
///     X ← X / (‖X‖_F + ε)     (optax `orthogonalize_via_newton_schulz`)
///     repeat: A = XXᵀ;  B = b·A + (c·A)·A;  X ← a·X + B·X
///
/// Operations are evaluated in that order (`c * A @ A` is `(c·A)·A` in both references).
/// Three precisions:
/// - `.float64`: every operation in Double — torch with the bfloat16 cast patched out, and
///   optax under x64. Matches the `*_ns64` and optax vectors to 1e-12 relative.
/// - `.bfloat16`: stock torch. The input goes float64 → float32 → bfloat16; every operation
///   (norm, clamp, division, the three matrix products, the scalar products and the sums)
///   is computed in float32 and rounded once to bfloat16 (`BFloat16.round`), matrix products
///   accumulating in float32. Matches `torch_muon_*_bf16` to ≤ 1e-9 absolute.
/// - `.float32`: the same operations in Float without rounding to bfloat16.
///
/// Products use plain loops for small matrices and `BLAS.gemm` (OpenBLAS) from
/// `blasThreshold` multiply-adds per product on.
struct NewtonSchulz: Sendable {
    enum Precision: String, Sendable, CaseIterable {
        case float64, float32, bfloat16
    }

    enum Normalization: Sendable {
        /// torch: X / max(‖X‖_F, ε).
        case clamped
        /// optax `preconditioning="frobenius"`: X / (‖X‖_F + ε).
        case epsilonAdded
        /// optax "spectral": X / (‖X‖₂ + ε), ‖X‖₂ the largest singular value (GSL's SVD).
        case spectral
        /// optax "aol": no normalisation; the first iteration scales row i of X by
        /// s_i = 1/√max(Σ_j |A_ij|, ε) and A by s_i·s_j (A = XXᵀ) before its polynomial.
        case aol
        /// optax "schatten": no normalisation; the first iteration scales X by
        /// s = 1/√max(‖A‖_F, ε) and A by s² before its polynomial.
        case schatten
    }

    /// (a, b, c) per iteration.
    let coefficients: [(Double, Double, Double)]
    let eps: Double
    let normalization: Normalization
    let precision: Precision
    /// torch `use_addmm=True`: B = b·A + c·(A·A) and X ← a·X + B·X each rounded once
    /// (one `addmm`), instead of once per operation.
    let fused: Bool
    /// Products of at least this many multiply-adds go to BLAS.
    static let blasThreshold = 32 * 32 * 32

    init(
        coefficients: [(Double, Double, Double)], eps: Double, normalization: Normalization, precision: Precision,
        fused: Bool = false
    ) {
        self.coefficients = coefficients
        self.fused = fused
        self.eps = eps
        self.normalization = normalization
        self.precision = precision
    }

    /// The orthogonalised `rows`×`cols` matrix `g` (row-major), in Double. For `.bfloat16`
    /// every returned value is a bfloat16 value.
    func orthogonalize<S: TunedScalar>(_ g: [S], rows: Int, cols: Int) -> [Double] {
        let transposed = rows > cols
        let m = transposed ? cols : rows, n = transposed ? rows : cols
        switch precision {
        case .float64:
            var x = Self.load(g, rows: rows, cols: cols, transposed: transposed) { Double($0) }
            Self.iterate(&x, m: m, n: n, coefficients: coefficients.map { ($0.0, $0.1, $0.2) },
                         eps: eps, normalization: normalization, bf16: false, fused: fused)
            return Self.store(x, m: m, n: n, transposed: transposed) { $0 }
        case .float32, .bfloat16:
            let bf16 = precision == .bfloat16
            var x = Self.load(g, rows: rows, cols: cols, transposed: transposed) {
                bf16 ? BFloat16.round(Double($0)) : Float(Double($0))
            }
            Self.iterate(&x, m: m, n: n, coefficients: coefficients.map { (Float($0.0), Float($0.1), Float($0.2)) },
                         eps: Float(eps), normalization: normalization, bf16: bf16, fused: fused)
            return Self.store(x, m: m, n: n, transposed: transposed) { Double($0) }
        }
    }

    private static func load<S: TunedScalar, T>(_ g: [S], rows: Int, cols: Int, transposed: Bool, _ f: (S) -> T) -> [T] {
        guard transposed else { return g.map(f) }
        var out = [T]()
        out.reserveCapacity(g.count)
        for j in 0..<cols { for i in 0..<rows { out.append(f(g[i * cols + j])) } }
        return out
    }

    private static func store<T>(_ x: [T], m: Int, n: Int, transposed: Bool, _ f: (T) -> Double) -> [Double] {
        guard transposed else { return x.map(f) }
        // x is m×n = cols×rows of the original; the result is n×m.
        var out = [Double](repeating: 0, count: x.count)
        for i in 0..<m { for j in 0..<n { out[j * m + i] = f(x[i * n + j]) } }
        return out
    }

    @inline(__always)
    private static func r<T: TunedScalar>(_ v: T, _ bf16: Bool) -> T {
        bf16 ? T(BFloat16.round(Float(v))) : v
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func iterate<T: TunedScalar>(
        _ x: inout [T], m: Int, n: Int, coefficients: [(T, T, T)], eps: T, normalization: Normalization, bf16: Bool,
        fused: Bool
    ) {
        // Normalise: the norm accumulates in T (float32 for bfloat16, as torch's opmath).
        var ss: T = 0
        for v in x { ss += v * v }
        var norm = r(ss.vectorizableSquareRoot(), bf16)
        switch normalization {
        case .clamped: norm = r(max(norm, eps), bf16)
        case .epsilonAdded: norm = r(norm + eps, bf16)
        case .spectral:
            let sigma = (try? SingularValues.largest(x.map(\.double), rows: m, columns: n)) ?? norm.double
            norm = T(sigma) + eps
        case .aol, .schatten: norm = 1
        }
        if norm != 1 { for i in x.indices { x[i] = r(x[i] / norm, bf16) } }

        var a = [T](repeating: 0, count: m * m)     // XXᵀ
        var b = [T](repeating: 0, count: m * m)     // b·A, then B
        var ca = [T](repeating: 0, count: m * m)    // c·A
        var caa = [T](repeating: 0, count: m * m)   // (c·A)·A
        var bx = [T](repeating: 0, count: m * n)    // B·X
        for (iteration, (ka, kb, kc)) in coefficients.enumerated() {
            multiply(x, x, into: &a, m: m, k: n, n: m, transposeB: true)
            if iteration == 0 { rescaleFirstIteration(&x, &a, m: m, n: n, normalization: normalization, eps: eps) }
            for i in a.indices {
                a[i] = r(a[i], bf16)
                b[i] = r(kb * a[i], bf16)
                ca[i] = r(kc * a[i], bf16)
            }
            if fused {
                multiply(a, a, into: &caa, m: m, k: m, n: m, transposeB: false)
                for i in b.indices { b[i] = r(kc * caa[i] + kb * a[i], bf16) }
                multiply(b, x, into: &bx, m: m, k: m, n: n, transposeB: false)
                for i in x.indices { x[i] = r(bx[i] + ka * x[i], bf16) }
                continue
            }
            multiply(ca, a, into: &caa, m: m, k: m, n: m, transposeB: false)
            for i in b.indices { b[i] = r(b[i] + r(caa[i], bf16), bf16) }
            multiply(b, x, into: &bx, m: m, k: m, n: n, transposeB: false)
            for i in x.indices { x[i] = r(r(ka * x[i], bf16) + r(bx[i], bf16), bf16) }
        }
    }

    /// optax's first-iteration rescalings ("aol", "schatten"), in optax's operation order.
    private static func rescaleFirstIteration<T: TunedScalar>(
        _ x: inout [T], _ a: inout [T], m: Int, n: Int, normalization: Normalization, eps: T
    ) {
        switch normalization {
        case .aol:
            var s = [T](repeating: 0, count: m)
            for i in 0..<m {
                var sum: T = 0
                for j in 0..<m { sum += abs(a[i * m + j]) }
                s[i] = 1 / max(sum, eps).vectorizableSquareRoot()
            }
            for i in 0..<m { for j in 0..<n { x[i * n + j] = x[i * n + j] * s[i] } }
            for i in 0..<m { for j in 0..<m { a[i * m + j] = a[i * m + j] * s[i] * s[j] } }
        case .schatten:
            var ss: T = 0
            for v in a { ss += v * v }
            let s = 1 / max(ss.vectorizableSquareRoot(), eps).vectorizableSquareRoot()
            let s2 = s * s
            for i in x.indices { x[i] = x[i] * s }
            for i in a.indices { a[i] = a[i] * s2 }
        case .clamped, .epsilonAdded, .spectral:
            break
        }
    }

    /// C (m×n) = P (m×k) · Q, where Q is k×n, or n×k when `transposeB` (C = P·Qᵀ).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func multiply<T: TunedScalar>(_ p: [T], _ q: [T], into c: inout [T], m: Int, k: Int, n: Int, transposeB: Bool) {
        if m * n * k >= blasThreshold, blas(p, q, into: &c, m: m, k: k, n: n, transposeB: transposeB) { return }
        p.withUnsafeBufferPointer { p in
            q.withUnsafeBufferPointer { q in
                c.withUnsafeMutableBufferPointer { c in
                    for i in 0..<m {
                        for j in 0..<n {
                            var s: T = 0
                            if transposeB {
                                for l in 0..<k { s += p[i * k + l] * q[j * k + l] }
                            } else {
                                for l in 0..<k { s += p[i * k + l] * q[l * n + j] }
                            }
                            c[i * n + j] = s
                        }
                    }
                }
            }
        }
    }

    private static func blas<T: TunedScalar>(_ p: [T], _ q: [T], into c: inout [T], m: Int, k: Int, n: Int, transposeB: Bool) -> Bool {
        let tb: BLAS.Transpose = transposeB ? .transpose : .none
        let ldb = transposeB ? k : n
        if let p = p as? [Float], let q = q as? [Float] {
            var out = [Float](repeating: 0, count: m * n)
            BLAS.gemm(.none, tb, m: m, n: n, k: k, alpha: 1, a: p, lda: k, b: q, ldb: ldb, beta: 0, c: &out, ldc: n)
            c = out as! [T]
            return true
        }
        if let p = p as? [Double], let q = q as? [Double] {
            var out = [Double](repeating: 0, count: m * n)
            BLAS.gemm(.none, tb, m: m, n: n, k: k, alpha: 1, a: p, lda: k, b: q, ldb: ldb, beta: 0, c: &out, ldc: n)
            c = out as! [T]
            return true
        }
        return false
    }
}
