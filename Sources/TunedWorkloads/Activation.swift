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

    /// a[i] = f(z[i]) for i in 0..<count.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func apply<Scalar: KernelScalar>(_ z: UnsafePointer<Scalar>, _ a: UnsafeMutablePointer<Scalar>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count { a[i] = z[i] > 0 ? z[i] : 0 }
        case .tanh:
            for i in 0..<count { a[i] = Scalar.tanh(z[i]) }
        case .gelu:
            let r = Scalar(0.5.squareRoot())
            for i in 0..<count { a[i] = 0.5 * z[i] * (1 + Scalar.erf(z[i] * r)) }
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
            for i in 0..<count where !(z[i] > 0) { d[i] = 0 }
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
