import TunedMath

/// sgemm and dgemm throughput through GSL's CBLAS, i.e. OpenBLAS.
public enum GemmBench {
    public static func run(sizes: [Int] = [64, 256, 1024]) -> [BenchResult] {
        var rows: [BenchResult] = []
        for n in sizes {
            let a = [Float](repeating: 1.0 / Float(n), count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            let iterations = max(1, Int(2e8 / flops))
            let t = Stopwatch.best(iterations: iterations) {
                a.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                                  b: ap.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            rows.append(BenchResult(group: "gemm", name: "sgemm \(n)x\(n)x\(n)", value: flops / t / 1e9, unit: "GFLOP/s"))
            let ad = [Double](repeating: 1.0 / Double(n), count: n * n)
            var cd = [Double](repeating: 0, count: n * n)
            let td = Stopwatch.best(iterations: iterations) {
                ad.withUnsafeBufferPointer { ap in
                    cd.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                                  b: ap.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            rows.append(BenchResult(group: "gemm", name: "dgemm \(n)x\(n)x\(n)", value: flops / td / 1e9, unit: "GFLOP/s"))
        }
        return rows
    }
}
