import TunedOptim

extension DenseModel {
    /// Mean loss over the full training and validation splits and, for classification,
    /// the validation accuracy (argmax of the logits; logistic regression: z > 0), in
    /// chunks of `evaluationChunk` rows through a pooled workspace.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ params: [Tensor<Scalar>]) -> Metrics {
        let train = evaluate(params, inputs: trainX, labels: trainLabels, values: trainValues, count: dataset.trainCount)
        let val = evaluate(params, inputs: validationX, labels: validationLabels, values: validationValues, count: dataset.validationCount)
        return Metrics(
            trainLoss: train.loss, validationLoss: val.loss,
            validationAccuracy: dataset.task == .classification ? val.accuracy : nil)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func evaluate(
        _ params: [Tensor<Scalar>], inputs: [Scalar], labels: [Int32], values: [Scalar], count: Int
    ) -> (loss: Double, accuracy: Double) {
        guard count > 0 else { return (.nan, .nan) }
        let chunk = Self.evaluationChunk, d = sizes[0]
        let isClass = dataset.task == .classification
        return pool.with(rows: chunk) { ws in
            var sum = 0.0, correct = 0
            inputs.withUnsafeBufferPointer { x in
                labels.withUnsafeBufferPointer { y in
                    values.withUnsafeBufferPointer { v in
                        var start = 0
                        while start < count {
                            let rows = min(chunk, count - start)
                            forward(params, input: x.baseAddress! + start * d, rows: rows, ws: ws)
                            let r = lossHead(
                                ws.pre[layerCount - 1], rows: rows,
                                labels: isClass ? y.baseAddress! + start : nil,
                                values: isClass ? nil : v.baseAddress! + start, scale: 1, grad: nil)
                            sum += r.sum
                            correct += r.correct
                            start += rows
                        }
                    }
                }
            }
            return (sum / Double(count), Double(correct) / Double(count))
        }
    }
}
