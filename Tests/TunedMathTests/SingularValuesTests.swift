import Foundation
import Testing
import TunedMath

/// The spectral norm optax Muon's "spectral" preconditioning divides by.
@Suite struct SingularValuesTests {
    /// A = Q·diag(3, 2)·Rᵀ with rotations Q, R: σ_max = 3, for the matrix and its transpose.
    @Test func theLargestSingularValueOfARotatedDiagonalIsItsLargestEntry() throws {
        let (c1, s1, c2, s2) = (cos(0.3), sin(0.3), cos(1.1), sin(1.1))
        let q = [c1, -s1, s1, c1], r = [c2, -s2, s2, c2], d = [3.0, 2.0]
        var a = [Double](repeating: 0, count: 4)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { a[i * 2 + j] += q[i * 2 + k] * d[k] * r[j * 2 + k] } } }
        #expect(abs(try SingularValues.largest(a, rows: 2, columns: 2) - 3) < 1e-14)
        // Wide and tall: [A | 0] (2×3) and its transpose (3×2) have the same singular values.
        let wide = [a[0], a[1], 0, a[2], a[3], 0]
        let tall = [a[0], a[2], a[1], a[3], 0, 0]
        #expect(abs(try SingularValues.largest(wide, rows: 2, columns: 3) - 3) < 1e-14)
        #expect(abs(try SingularValues.largest(tall, rows: 3, columns: 2) - 3) < 1e-14)
    }

    @Test func aRankOneMatrixHasTheProductOfTheNormsAsItsNorm() throws {
        let u = [1.0, 2.0, 2.0], v = [3.0, 4.0]  // ‖u‖ = 3, ‖v‖ = 5
        let a = u.flatMap { x in v.map { x * $0 } }
        #expect(abs(try SingularValues.largest(a, rows: 3, columns: 2) - 15) < 1e-13)
    }
}
