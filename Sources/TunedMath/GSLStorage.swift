@preconcurrency import CGSL

/// An owned `gsl_vector` (unit stride), freed on deinit. Internal: GSL types never leave
/// this module.
final class GSLVector {
    let pointer: UnsafeMutablePointer<gsl_vector>

    /// A zeroed vector of `count` ≥ 1 elements.
    init(count: Int) throws {
        GSL.configure()
        guard count > 0, let p = gsl_vector_calloc(count) else {
            throw GSLError.noMemory("gsl_vector_calloc(\(count))")
        }
        pointer = p
    }

    /// A copy of `values` (non-empty).
    convenience init(_ values: [Double]) throws {
        try self.init(count: values.count)
        let data = pointer.pointee.data!
        for (i, v) in values.enumerated() { data[i] = v }
    }

    var count: Int { pointer.pointee.size }

    /// The elements as a Swift array.
    var array: [Double] { Array(UnsafeBufferPointer(start: pointer.pointee.data, count: count)) }

    deinit { gsl_vector_free(pointer) }
}

/// An owned row-major `gsl_matrix` (tda = columns), freed on deinit.
final class GSLMatrix {
    let pointer: UnsafeMutablePointer<gsl_matrix>

    /// A zeroed `rows × columns` matrix.
    init(rows: Int, columns: Int) throws {
        GSL.configure()
        guard rows > 0, columns > 0, let p = gsl_matrix_calloc(rows, columns) else {
            throw GSLError.noMemory("gsl_matrix_calloc(\(rows), \(columns))")
        }
        pointer = p
    }

    /// A copy of `matrix`.
    convenience init(_ matrix: Matrix<Double>) throws {
        try self.init(rows: matrix.rows, columns: matrix.columns)
        let data = pointer.pointee.data!
        matrix.elements.withUnsafeBufferPointer { src in
            data.update(from: src.baseAddress!, count: src.count)
        }
    }

    /// The elements as a `Matrix` (copy).
    var matrix: Matrix<Double> {
        let m = pointer.pointee
        var out = [Double](repeating: 0, count: m.size1 * m.size2)
        for i in 0..<m.size1 {
            for j in 0..<m.size2 { out[i * m.size2 + j] = m.data[i * m.tda + j] }
        }
        return Matrix(unchecked: m.size1, m.size2, out)
    }

    deinit { gsl_matrix_free(pointer) }
}
