import TunedOptim
@testable import TunedWorkloads

/// Largest relative error of a workload's gradient against finite differences, over every
/// coordinate: |g − fd| / max(1e-8, |g| + |fd|).
///
/// fd is the fourth-order central difference
///     fd = [8(f(θ+h) − f(θ−h)) − (f(θ+2h) − f(θ−2h))] / (12h),  h = 1e-3,
/// whose truncation error is h⁴·f⁽⁵⁾/30 ≈ 3e-14 and rounding error ≈ 1.5·ε·|f|/h ≈ 3e-13
/// in Double — both far below 1e-6 of any gradient coordinate above ~1e-6, where the
/// second-order difference (best h ≈ ε^{1/3} ≈ 6e-6, error ≈ 1e-11) would leave small
/// coordinates at the edge of the tolerance. Exactly-zero coordinates (dead ReLUs) give
/// f(θ±h) = f(θ) exactly, so fd = 0 = g. The data are fixed, and no ReLU kink lies within
/// 2h of a pre-activation for them (a kink would show up as a large error).
func maxGradientError<W: Workload>(_ w: W, _ params: [Tensor<Double>], batch: Int = 0, seed: UInt64 = 0, batchSize: Int? = nil) -> Double
where W.Scalar == Double {
    var g = [Tensor<Double>]()
    _ = w.lossAndGradient(params, batch: batch, seed: seed, batchSize: batchSize, gradients: &g)
    var scratch = [Tensor<Double>]()
    func f(_ p: [Tensor<Double>]) -> Double { w.lossAndGradient(p, batch: batch, seed: seed, batchSize: batchSize, gradients: &scratch) }
    let h = 1e-3
    var worst = 0.0
    for t in params.indices {
        for j in params[t].values.indices {
            func at(_ delta: Double) -> Double {
                var p = params
                p[t].values[j] += delta
                return f(p)
            }
            let fd = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
            let gj = g[t].values[j]
            worst = max(worst, abs(gj - fd) / max(1e-8, abs(gj) + abs(fd)))
        }
    }
    return worst
}
