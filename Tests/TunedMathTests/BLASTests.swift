import Testing
import TunedMath

/// Row-major naive C = α·op(A)·op(B) + β·C in Double, the reference for the BLAS forms.
private func naiveGemm(
    _ a: [Double], _ ar: Int, _ ac: Int, transA: Bool, _ b: [Double], _ br: Int, _ bc: Int, transB: Bool,
    alpha: Double, beta: Double, c: [Double]
) -> [Double] {
    let m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for l in 0..<k {
                let x = transA ? a[l * ac + i] : a[i * ac + l]
                let y = transB ? b[j * bc + l] : b[l * bc + j]
                s += x * y
            }
            out[i * n + j] = alpha * s + beta * c[i * n + j]
        }
    }
    return out
}

@Suite struct BLASTests {
    @Test func floatGemm64MatchesNaiveTripleLoop() throws {
        let rng = RandomSource(seed: 7)
        let n = 64
        let a = (0..<(n * n)).map { _ in Float(try! rng.uniform(-1, 1)) }
        let b = (0..<(n * n)).map { _ in Float(try! rng.uniform(-1, 1)) }
        let c = try BLAS.product(Matrix(rows: n, columns: n, elements: a), Matrix(rows: n, columns: n, elements: b))
        // Float rounding of a 64-term dot product: |error| ≤ 64·ε_f·Σ|aᵢₖbₖⱼ|; 1e-5·Σ|·| is ~2× that.
        for i in 0..<n {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for k in 0..<n {
                    exact += Double(a[i * n + k]) * Double(b[k * n + j])
                    magnitude += abs(Double(a[i * n + k]) * Double(b[k * n + j]))
                }
                #expect(abs(Double(c[i, j]) - exact) <= 1e-5 * magnitude, "c[\(i), \(j)]")
            }
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func doubleGemmWithTransposesAlphaBetaMatchesNaive(transA: Bool, transB: Bool) throws {
        let rng = RandomSource(seed: 11)
        let (m, k, n) = (5, 3, 4)
        let (ar, ac) = transA ? (k, m) : (m, k)
        let (br, bc) = transB ? (n, k) : (k, n)
        let a = (0..<(ar * ac)).map { _ in rng.uniform() - 0.5 }
        let b = (0..<(br * bc)).map { _ in rng.uniform() - 0.5 }
        let c0 = (0..<(m * n)).map { _ in rng.uniform() }
        var c = try Matrix(rows: m, columns: n, elements: c0)
        try BLAS.gemm(
            Matrix(rows: ar, columns: ac, elements: a), Matrix(rows: br, columns: bc, elements: b),
            transA: transA ? .transpose : .none, transB: transB ? .transpose : .none, alpha: 0.7, beta: -1.25, into: &c)
        let ref = naiveGemm(a, ar, ac, transA: transA, b, br, bc, transB: transB, alpha: 0.7, beta: -1.25, c: c0)
        expectClose(c.elements, ref, tol: 1e-14)
    }

    @Test func gemvAxpyDotNrm2MatchHandComputedValues() throws {
        let a = try Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(try BLAS.product(a, [1, 0, -1]) == [-2, -2])
        #expect(try BLAS.product(a, [1, 1], trans: .transpose) == [5, 7, 9])
        var y: [Double] = [1, 1]
        try BLAS.gemv(a, [1, 1, 1], alpha: 2, beta: 3, into: &y)
        #expect(y == [15, 33])
        var yf: [Float] = [1, 2, 3]
        try BLAS.axpy(alpha: 2, x: [1, -1, 0.5], y: &yf)
        #expect(yf == [3, 0, 4])
        #expect(try BLAS.dot([1, 2, 3] as [Float], [4, 5, 6]) == 32)
        #expect(BLAS.nrm2([3, 4] as [Double]) == 5)
        #expect(BLAS.nrm2([] as [Float]) == 0)
        #expect(try BLAS.dot([] as [Double], []) == 0)
    }

    @Test func shapeMismatchesThrowNamingTheArgument() throws {
        let a = try Matrix<Float>(rows: 2, columns: 3)
        let b = try Matrix<Float>(rows: 2, columns: 3)
        var c = try Matrix<Float>(rows: 2, columns: 3)
        expectGSLError("op(b)", status: GSLError.Code.badLength) { try BLAS.gemm(a, b, into: &c) }
        expectGSLError("c is 2×3", status: GSLError.Code.badLength) {
            try BLAS.gemm(a, b, transB: .transpose, into: &c)
        }
        var y: [Float] = [0, 0]
        expectGSLError("x has 2", status: GSLError.Code.badLength) { try BLAS.gemv(a, [1, 2], into: &y) }
        var y3: [Float] = [0, 0, 0]
        expectGSLError("y has 3", status: GSLError.Code.badLength) { try BLAS.gemv(a, [1, 2, 3], into: &y3) }
        expectGSLError("y has 3", status: GSLError.Code.badLength) { try BLAS.axpy(alpha: 1, x: [1, 2], y: &y3) }
        expectGSLError("dot: x has 1") { _ = try BLAS.dot([1.0], [1.0, 2.0]) }
        expectGSLError("elements has 5") { _ = try Matrix<Double>(rows: 2, columns: 3, elements: [1, 2, 3, 4, 5]) }
        expectGSLError("rows (0)") { _ = try Matrix<Double>(rows: 0, columns: 3) }
        expectGSLError("row 1 has 1") { _ = try Matrix<Double>([[1, 2], [3]]) }
    }

    @Test func matrixAccessorsFollowRowMajorLayout() throws {
        let m = try Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(m[1, 0] == 4 && m.row(1) == [4, 5, 6] && m.column(2) == [3, 6])
        #expect(m.transposed.elements == [1, 4, 2, 5, 3, 6] && m.transposed.rows == 3)
        #expect(m.diagonal == [1, 5])
        #expect(try Matrix<Float>.identity(2).elements == [1, 0, 0, 1])
    }
}
