/// A parameter or gradient tensor: a shape and its elements, flattened row-major (C order).
public struct Tensor<Scalar: TunedScalar>: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Scalar]

    /// - Precondition: `values.count` is the product of `shape`.
    public init(shape: [Int], values: [Scalar]) {
        precondition(shape.reduce(1, *) == values.count, "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        self.values = values
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.values = Array(repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { values.count }

    /// Rows and columns when the tensor is a matrix (the last two dimensions, leading
    /// dimensions folded into rows), nil for scalars and vectors.
    public var matrixShape: (rows: Int, cols: Int)? {
        guard shape.count >= 2 else { return nil }
        let cols = shape[shape.count - 1]
        return (values.count / max(cols, 1), cols)
    }
}
