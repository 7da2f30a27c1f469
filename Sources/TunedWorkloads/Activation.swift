/// Hidden-layer nonlinearities of the MLP, with their exact derivatives.
///
///     relu(z) = max(z, 0)                   relu'(z) = 1 if z > 0 else 0 (0 at z = 0, as torch)
///     tanh(z)                               tanh'(z) = 1 − tanh(z)²
///     gelu(z) = z·Φ(z) = ½z(1 + erf(z/√2))  gelu'(z) = Φ(z) + z·φ(z),  φ(z) = e^{−z²/2}/√(2π)
///
/// GELU is the **exact (erf) form** — torch's `nn.GELU()` default, `approximate='none'`
/// (Hendrycks & Gimpel 2016) — not the tanh approximation, and its derivative is the exact
/// derivative of that form.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu, tanh, gelu

    /// z[r, j] += bias[j], then a[r, j] = f(z[r, j]), over a [rows, cols] block: one pass.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func apply<Scalar: KernelScalar>(
        _ z: UnsafeMutablePointer<Scalar>, _ a: UnsafeMutablePointer<Scalar>, bias: UnsafePointer<Scalar>, rows: Int, cols: Int
    ) {
        let r2 = Scalar(0.5.squareRoot())
        for r in 0..<rows {
            let zr = z + r * cols, ar = a + r * cols
            switch self {
            case .relu:
                for j in 0..<cols { let v = zr[j] + bias[j]; zr[j] = v; ar[j] = v > 0 ? v : 0 }
            case .tanh:
                for j in 0..<cols { let v = zr[j] + bias[j]; zr[j] = v; ar[j] = Scalar.tanh(v) }
            case .gelu:
                for j in 0..<cols { let v = zr[j] + bias[j]; zr[j] = v; ar[j] = 0.5 * v * (1 + Scalar.erf(v * r2)) }
            }
        }
    }

    /// d[i] ← d[i]·f'(z[i]), given the pre-activations z and activations a = f(z).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func backward<Scalar: KernelScalar>(
        _ d: UnsafeMutablePointer<Scalar>, z: UnsafePointer<Scalar>, a: UnsafePointer<Scalar>, count: Int
    ) {
        switch self {
        case .relu:
            Scalar.maskNonPositive(d, z: z, count: count)
        case .tanh:
            for i in 0..<count { d[i] *= 1 - a[i] * a[i] }
        case .gelu:
            let r = Scalar(0.5.squareRoot()), c = Scalar(1 / (2 * Double.pi).squareRoot())
            for i in 0..<count {
                let x = z[i]
                let cdf = 0.5 * (1 + Scalar.erf(x * r))
                d[i] *= cdf + x * c * Scalar.exp(-0.5 * x * x)
            }
        }
    }

    /// Whether He (ReLU-like) or Glorot (tanh) initialisation suits the layer it follows.
    var usesHeInit: Bool { self != .tanh }
}
