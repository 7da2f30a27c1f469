import TunedOptim

extension DenseModel {
    /// Mean loss on minibatch `batch` (rows from `BatchSampler(seed:)`) and its exact
    /// gradient by backpropagation, with δ_L = ∂ℓ̄/∂z_L from the loss head and, for
    /// l = L … 1:
    ///
    ///     ∂W_l = δ_lᵀ·a_{l−1}   (gemm T,N → [fan_out, fan_in])     ∂b_l = Σ_rows δ_l
    ///     δ_{l−1} = (δ_l·W_l) ⊙ f'(z_{l−1})   (gemm N,N)
    ///
    /// Allocates nothing once the workspace exists, provided `gradients` holds uniquely
    /// referenced tensors of the parameter shapes (otherwise it is rebuilt first).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func lossAndGradient(
        _ params: [Tensor<Scalar>], batch: Int, seed: UInt64, batchSize: Int?,
        gradients: inout [Tensor<Scalar>]
    ) -> Double {
        if !Self.hasShapes(gradients, parameterShapes) {
            gradients = parameterShapes.map { Tensor(zeros: $0) }
        }
        let sampler = BatchSampler(count: dataset.trainCount, batchSize: max(1, batchSize ?? config.batchSize), seed: seed)
        let rows = sampler.batchSize
        return pool.with(rows: rows) { ws in
            let picked = sampler.rows(batch: batch, cache: ws.permutation)
            gather(picked, into: ws)
            forward(params, input: ws.input, rows: rows, ws: ws)
            let isClass = dataset.task == .classification
            let (sum, _) = lossHead(
                ws.pre[layerCount - 1], rows: rows, labels: isClass ? ws.labels : nil,
                values: isClass ? nil : ws.targets, scale: 1 / Scalar(rows), grad: ws.delta.0)
            backward(params, rows: rows, ws: ws, gradients: &gradients)
            return sum / Double(rows)
        }
    }

    /// Copies the minibatch's inputs, labels and targets into the workspace.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gather(_ picked: UnsafeBufferPointer<Int32>, into ws: DenseWorkspace<Scalar>) {
        let d = sizes[0]
        trainX.withUnsafeBufferPointer { x in
            for (i, r) in picked.enumerated() {
                (ws.input + i * d).update(from: x.baseAddress! + Int(r) * d, count: d)
            }
        }
        if dataset.task == .classification {
            trainLabels.withUnsafeBufferPointer { y in for (i, r) in picked.enumerated() { ws.labels[i] = y[Int(r)] } }
        } else {
            trainValues.withUnsafeBufferPointer { y in for (i, r) in picked.enumerated() { ws.targets[i] = y[Int(r)] } }
        }
    }

    /// Backpropagation from δ_L in `ws.delta.0` (see `lossAndGradient`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func backward(_ params: [Tensor<Scalar>], rows: Int, ws: DenseWorkspace<Scalar>, gradients: inout [Tensor<Scalar>]) {
        var delta = ws.delta.0, spare = ws.delta.1
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let fanIn = sizes[l], fanOut = sizes[l + 1]
            let x = l == 0 ? UnsafePointer(ws.input) : UnsafePointer(ws.act[l - 1])
            let d = UnsafePointer(delta)
            gradients[2 * l].values.withUnsafeMutableBufferPointer { gw in
                Scalar.gemm(.transpose, .none, m: fanOut, n: fanIn, k: rows, alpha: 1, a: d, lda: fanOut,
                            b: x, ldb: fanIn, beta: 0, c: gw.baseAddress!, ldc: fanIn)
            }
            gradients[2 * l + 1].values.withUnsafeMutableBufferPointer { gb in
                for j in 0..<fanOut { gb[j] = 0 }
                for r in 0..<rows {
                    let dr = d + r * fanOut
                    for j in 0..<fanOut { gb[j] += dr[j] }
                }
            }
            guard l > 0 else { break }
            params[2 * l].values.withUnsafeBufferPointer { w in
                Scalar.gemm(.none, .none, m: rows, n: fanIn, k: fanOut, alpha: 1, a: d, lda: fanOut,
                            b: w.baseAddress!, ldb: fanIn, beta: 0, c: spare, ldc: fanIn)
            }
            config.activation.backward(spare, z: ws.pre[l - 1], a: ws.act[l - 1], count: rows * fanIn)
            swap(&delta, &spare)
        }
    }

    static func hasShapes(_ tensors: [Tensor<Scalar>], _ shapes: [[Int]]) -> Bool {
        guard tensors.count == shapes.count else { return false }
        for i in shapes.indices where tensors[i].shape != shapes[i] { return false }
        return true
    }
}
