import TunedOptim

extension DenseModel {
    /// The forward pass on `rows` rows of `input` ([rows, sizes[0]], row-major):
    /// z_l = a_{l−1}·W_lᵀ + b_l (one `gemm` per layer, then one pass adding the bias
    /// and applying a_l = f(z_l) on hidden layers). Results stay in `ws.pre` / `ws.act`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(_ params: [Tensor<Scalar>], input: UnsafePointer<Scalar>, rows: Int, ws: DenseWorkspace<Scalar>) {
        precondition(params.count == 2 * layerCount, "\(kind) expects \(2 * layerCount) parameter tensors, got \(params.count)")
        var x = input
        for l in 0..<layerCount {
            let fanIn = sizes[l], fanOut = sizes[l + 1]
            let z = ws.pre[l]
            precondition(params[2 * l].count == fanIn * fanOut && params[2 * l + 1].count == fanOut,
                         "parameter shapes of layer \(l) do not match \(parameterShapes[2 * l]) and \(parameterShapes[2 * l + 1])")
            params[2 * l].values.withUnsafeBufferPointer { w in
                Scalar.gemm(.none, .transpose, m: rows, n: fanOut, k: fanIn, alpha: 1, a: x, lda: fanIn,
                            b: w.baseAddress!, ldb: fanIn, beta: 0, c: z, ldc: fanOut)
            }
            params[2 * l + 1].values.withUnsafeBufferPointer { b in
                if l < layerCount - 1 {
                    config.activation.apply(z, ws.act[l], bias: b.baseAddress!, rows: rows, cols: fanOut)
                } else {
                    for r in 0..<rows { for j in 0..<fanOut { z[r * fanOut + j] += b[j] } }
                }
            }
            if l < layerCount - 1 { x = UnsafePointer(ws.act[l]) }
        }
    }

    /// The loss head on the outputs `z` ([rows, K]): returns Σ_rows ℓ (in Double) and the
    /// number of correct predictions (classification), and, when `grad` is given, writes
    /// ∂(scale·Σℓ)/∂z into it.
    ///
    /// - softmax CE: ℓ = m + log Σ_k e^{z_k − m} − z_y (m = max_k z_k); ∂ℓ/∂z_k = p_k − [k = y].
    /// - binary CE: ℓ = max(z, 0) − y·z + log1p(e^{−|z|}); ∂ℓ/∂z = σ(z) − y, σ evaluated on
    ///   the side that does not overflow.
    /// - squared error: ℓ = Σ_k (z_k − y)²/K; ∂ℓ/∂z_k = 2(z_k − y)/K.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func lossHead(
        _ z: UnsafePointer<Scalar>, rows: Int, labels: UnsafePointer<Int32>?, values: UnsafePointer<Scalar>?,
        scale: Scalar, grad: UnsafeMutablePointer<Scalar>?
    ) -> (sum: Double, correct: Int) {
        let k = sizes[sizes.count - 1]
        var sum = 0.0, correct = 0
        switch head {
        case .softmaxCrossEntropy:
            let y = labels!
            for r in 0..<rows {
                let zr = z + r * k, label = Int(y[r])
                var m = zr[0], arg = 0
                for j in 1..<k where zr[j] > m { m = zr[j]; arg = j }
                if arg == label { correct += 1 }
                var s: Scalar = 0
                if let g = grad {
                    let gr = g + r * k
                    for j in 0..<k { let e = Scalar.exp(zr[j] - m); gr[j] = e; s += e }
                    let inv = scale / s
                    for j in 0..<k { gr[j] *= inv }
                    gr[label] -= scale
                } else {
                    for j in 0..<k { s += Scalar.exp(zr[j] - m) }
                }
                sum += (m + Scalar.log(s) - zr[label]).double
            }
        case .binaryCrossEntropy:
            let y = labels!
            for r in 0..<rows {
                let v = z[r], t = Scalar(y[r])
                if (v > 0) == (y[r] == 1) { correct += 1 }
                let e = Scalar.exp(-abs(v))
                sum += (max(v, 0) - t * v + Scalar.log1p(e)).double
                if let g = grad {
                    let sigma = v >= 0 ? 1 / (1 + e) : e / (1 + e)
                    g[r] = scale * (sigma - t)
                }
            }
        case .meanSquaredError:
            let y = values!
            let invK = 1 / Scalar(k)
            for r in 0..<rows {
                for j in 0..<k {
                    let d = z[r * k + j] - y[r]
                    sum += (d * d * invK).double
                    if let g = grad { g[r * k + j] = scale * 2 * d * invK }
                }
            }
        }
        return (sum, correct)
    }
}
