import Foundation

/// A stateless, counter-based random number generator built on SplitMix64's finaliser.
///
///     value(key, i) = mix(key + (i + 1)·0x9E3779B97F4A7C15)
///     mix(z): z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
///
/// Reference: Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"
/// (SplitMix64, the finaliser of `java.util.SplittableRandom`); Salmon et al. 2011 for the
/// counter-based idea. Every number is a pure function of `(key, i)`, and keys are derived
/// with `CounterRNG.key(seed, a, b…)`, so minibatch `k` of a run is computed directly from
/// `(seed, k)`: no generator state to replay, to save in a checkpoint, or to share between
/// threads.
///
/// Why not GSL's `mt19937`: it is a sequential generator with 2.5 KB of state. Reproducing
/// batch `k` would mean replaying every draw before it or saving that state in each
/// checkpoint, and two workers could not compute batch `k` independently. SplitMix64's
/// quality (passes BigCrush as a counter-based generator) is ample for shuffling and
/// weight initialisation, and the bits do not depend on a library version.
public struct CounterRNG: Sendable, Equatable {
    public let key: UInt64
    /// Index of the next value `next()` returns.
    public var counter: UInt64

    public init(key: UInt64, counter: UInt64 = 0) {
        self.key = key
        self.counter = counter
    }

    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The `i`-th value of the stream `key`.
    @inlinable @inline(__always)
    public static func value(_ key: UInt64, _ i: UInt64) -> UInt64 {
        mix(key &+ (i &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// A stream key derived from a seed and a path of integers (domain, epoch, layer, …).
    @inlinable
    public static func key(_ seed: UInt64, _ path: UInt64...) -> UInt64 {
        var k = mix(seed ^ 0x6A09_E667_F3BC_C909)
        for p in path { k = mix(k ^ mix(p &+ 0x9E37_79B9_7F4A_7C15)) }
        return k
    }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        defer { counter &+= 1 }
        return Self.value(key, counter)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `0..<bound` by Lemire's multiply-shift (bias < bound/2⁶⁴, no
    /// rejection loop, so the number of draws is fixed).
    @inlinable @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Standard normal by Box–Muller (two draws per value, the second discarded, so that
    /// the value for a counter does not depend on earlier calls).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1.0p-60), u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

