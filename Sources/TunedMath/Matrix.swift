/// A dense row-major matrix: `rows × columns` elements, element (i, j) at `elements[i * columns + j]`.
///
/// Deliberately small: storage, shape, element access. Arithmetic goes through the `BLAS`
/// array forms (`BLAS.gemm`, `BLAS.gemv`), least squares through `LinearLeastSquares`.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable {
    /// Number of rows (≥ 1).
    public let rows: Int
    /// Number of columns (≥ 1).
    public let columns: Int
    /// Row-major storage, `rows * columns` elements.
    public private(set) var elements: [Scalar]

    /// Wraps row-major `elements`; throws if `rows` or `columns` is not positive or
    /// `elements.count != rows * columns`.
    public init(rows: Int, columns: Int, elements: [Scalar]) throws {
        guard rows > 0, columns > 0 else {
            throw GSLError.invalid("Matrix: rows (\(rows)) and columns (\(columns)) must both be positive")
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, elements.count == count else {
            throw GSLError.invalid(
                "Matrix: elements has \(elements.count) values, a \(rows)×\(columns) matrix needs \(rows &* columns)")
        }
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A `rows × columns` matrix with every element `value`; throws if a dimension is not positive.
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) throws {
        guard rows > 0, columns > 0, !rows.multipliedReportingOverflow(by: columns).overflow else {
            throw GSLError.invalid("Matrix: rows (\(rows)) and columns (\(columns)) must both be positive")
        }
        self.rows = rows
        self.columns = columns
        self.elements = [Scalar](repeating: value, count: rows * columns)
    }

    /// Builds a matrix from equal-length rows; throws if `rows` is empty, a row is empty,
    /// or the rows differ in length (the message names the first offending row).
    public init(_ rowArrays: [[Scalar]]) throws {
        guard let first = rowArrays.first, !first.isEmpty else {
            throw GSLError.invalid("Matrix: rows must be a non-empty array of non-empty rows")
        }
        for (i, row) in rowArrays.enumerated() where row.count != first.count {
            throw GSLError.invalid("Matrix: row \(i) has \(row.count) values, row 0 has \(first.count)")
        }
        try self.init(rows: rowArrays.count, columns: first.count, elements: rowArrays.flatMap { $0 })
    }

    /// The `n × n` identity.
    public static func identity(_ n: Int) throws -> Matrix {
        var m = try Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// Element (row, column). Traps on an out-of-range index, like `Array`.
    public subscript(row: Int, column: Int) -> Scalar {
        get {
            precondition((0..<rows).contains(row) && (0..<columns).contains(column), "Matrix index out of range")
            return elements[row * columns + column]
        }
        set {
            precondition((0..<rows).contains(row) && (0..<columns).contains(column), "Matrix index out of range")
            elements[row * columns + column] = newValue
        }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Scalar] { Array(elements[(i * columns)..<((i + 1) * columns)]) }

    /// Column `j` as an array.
    public func column(_ j: Int) -> [Scalar] { (0..<rows).map { elements[$0 * columns + j] } }

    /// The main diagonal (length `min(rows, columns)`).
    public var diagonal: [Scalar] { (0..<Swift.min(rows, columns)).map { elements[$0 * columns + $0] } }

    /// The transpose, `columns × rows`.
    public var transposed: Matrix {
        var t = [Scalar](repeating: 0, count: elements.count)
        for i in 0..<rows {
            for j in 0..<columns { t[j * rows + i] = elements[i * columns + j] }
        }
        // Shape is valid by construction.
        return Matrix(unchecked: columns, rows, t)
    }

    /// Internal initialiser for shapes already known to be valid.
    init(unchecked rows: Int, _ columns: Int, _ elements: [Scalar]) {
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// Mutable access to the contiguous storage (for BLAS calls).
    mutating func withUnsafeMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try elements.withUnsafeMutableBufferPointer { try body($0) }
    }
}
