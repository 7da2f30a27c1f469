import Foundation

/// Counter-based Gaussian noise: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel Random
/// Numbers: As Easy as 1, 2, 3", SC'11; Random123) followed by Box–Muller.
///
/// Every value is a pure function of `(seed, stream, index)`: there is no generator state to
/// save, so a workload whose noise is drawn here resumes from a checkpoint bit for bit.
/// Block `j` of stream `s` under seed `k` is `philox(counter: (j.lo, j.hi, s.lo, s.hi),
/// key: (k.lo, k.hi))`; its four words make two 64-bit words `x = w1:w0`, `y = w3:w2`, then
/// `u1 = ((x >> 11) + 1)·2⁻⁵³ ∈ (0, 1]`, `u2 = (y >> 11)·2⁻⁵³ ∈ [0, 1)` and
/// `z₂ⱼ = r cos 2πu2`, `z₂ⱼ₊₁ = r sin 2πu2` with `r = √(−2 ln u1)`.
/// Checked against Random123's known-answer vectors (`NoiseScaleTests`).
public enum NoiseRandom {
    @usableFromInline static let m0: UInt32 = 0xD251_1F53
    @usableFromInline static let m1: UInt32 = 0xCD9E_8D57
    @usableFromInline static let w0: UInt32 = 0x9E37_79B9
    @usableFromInline static let w1: UInt32 = 0xBB67_AE85

    /// Philox4x32 with 10 rounds: four 32-bit output words for a counter and a key.
    @inlinable
    public static func philox4x32(
        counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)
    ) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 {
                k0 &+= w0
                k1 &+= w1
            }
            let p0 = UInt64(m0) &* UInt64(c0)
            let p1 = UInt64(m1) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }

    /// The two standard normal deviates of block `block` (indices `2·block` and `2·block + 1`).
    @inlinable
    public static func gaussianPair(seed: UInt64, stream: UInt64, block: UInt64) -> (Double, Double) {
        let w = philox4x32(
            counter: (
                UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)
            ),
            key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        )
        let x = UInt64(w.1) << 32 | UInt64(w.0)
        let y = UInt64(w.3) << 32 | UInt64(w.2)
        let u1 = (Double(x >> 11) + 1) * 0x1p-53
        let u2 = Double(y >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (r * cos(angle), r * sin(angle))
    }

    /// Standard normal deviate number `index` of `stream` under `seed`.
    @inlinable
    public static func gaussian(seed: UInt64, stream: UInt64, index: UInt64) -> Double {
        let pair = gaussianPair(seed: seed, stream: stream, block: index >> 1)
        return index & 1 == 0 ? pair.0 : pair.1
    }

    /// Fills `out` with deviates `0..<out.count` of `stream` under `seed`.
    public static func fillGaussians(seed: UInt64, stream: UInt64, into out: UnsafeMutableBufferPointer<Double>) {
        var i = 0
        while i < out.count {
            let pair = gaussianPair(seed: seed, stream: stream, block: UInt64(i >> 1))
            out[i] = pair.0
            if i + 1 < out.count { out[i + 1] = pair.1 }
            i += 2
        }
    }

    /// A seed derived from `seed` and a purpose tag, for streams that must not coincide with
    /// the ones the seed itself keys (SplitMix64's finaliser on `seed ⊕ tag·φ`).
    public static func derivedSeed(_ seed: UInt64, tag: UInt64) -> UInt64 {
        var z = seed ^ (tag &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
