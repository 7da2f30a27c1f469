@preconcurrency import CGSL

/// A seeded Mersenne Twister (GSL's `gsl_rng_mt19937`, Matsumoto & Nishimura 1998, with the
/// 2002 initialisation) and the draws the tuner needs.
///
/// Seeding: mt19937 takes a 32-bit seed. Seeds below 2³² are passed to `gsl_rng_set`
/// unchanged, so published reference streams apply (seed 4357 — also what seed 0 means in
/// GSL — starts 4293858116, 699692587, …); a larger seed is folded to
/// `UInt32(truncatingIfNeeded: seed ^ (seed >> 32))`, so there are 2³² distinct streams.
///
/// Checkpointing: `state` is the exact generator state (GSL's `gsl_rng_state` bytes);
/// `RandomSource(state:)` or `restore(_:)` resume the identical stream.
///
/// Concurrency: a `RandomSource` owns mutable C state and is deliberately *not* `Sendable`:
/// use one per task/thread (derive seeds, or `copy()`), never share one.
///
/// Draws (all documented with their GSL function): `nextUInt32` (raw 32-bit output),
/// `uniform()` ∈ [0, 1), `uniform(_:_:)` ∈ [a, b), `normal(mean:standardDeviation:)`
/// (Marsaglia–Tsang ziggurat), `logUniform(_:_:)`, `integer(below:)`,
/// `categorical(weights:)`, `permutation(_:)`, `shuffled(_:)`, `choice(_:)`.
public final class RandomSource {
    private let rng: UnsafeMutablePointer<gsl_rng>

    /// The seed this generator was created with (nil when created from a saved state).
    public let seed: UInt64?

    /// A generator at the start of the stream for `seed`.
    public init(seed: UInt64) {
        GSL.configure()
        // gsl_rng_alloc returns NULL only when out of memory; there is no recovery then.
        guard let r = gsl_rng_alloc(gsl_rng_mt19937) else { fatalError("gsl_rng_alloc(mt19937): out of memory") }
        rng = r
        self.seed = seed
        gsl_rng_set(rng, UInt(Self.fold(seed)))
    }

    /// The 32-bit value handed to `gsl_rng_set` for `seed`.
    static func fold(_ seed: UInt64) -> UInt32 {
        seed < (1 << 32) ? UInt32(seed) : UInt32(truncatingIfNeeded: seed ^ (seed >> 32))
    }

    private init(taking rng: UnsafeMutablePointer<gsl_rng>, seed: UInt64?) {
        self.rng = rng
        self.seed = seed
    }

    deinit { gsl_rng_free(rng) }

    /// An independent generator in the same state (`gsl_rng_clone`): both produce the same
    /// stream from here on.
    public func copy() -> RandomSource {
        guard let r = gsl_rng_clone(rng) else { fatalError("gsl_rng_clone: out of memory") }
        return RandomSource(taking: r, seed: seed)
    }

    // MARK: Draws

    /// The next raw output, uniform on 0…2³² − 1 (`gsl_rng_get`).
    public func nextUInt32() -> UInt32 { UInt32(truncatingIfNeeded: gsl_rng_get(rng)) }

    /// Uniform on [0, 1): raw output / 2³² (`gsl_rng_uniform`; 0 possible, 1 never).
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// Uniform on [a, b): a + (b − a)·u (`gsl_ran_flat`). Needs finite a < b.
    public func uniform(_ a: Double, _ b: Double) throws -> Double {
        guard a.isFinite, b.isFinite, a < b else {
            throw GSLError.domain("uniform: need finite a < b, got a = \(a), b = \(b)")
        }
        return gsl_ran_flat(rng, a, b)
    }

    /// Normal N(mean, sd²): mean + sd·z with z from GSL's ziggurat
    /// (`gsl_ran_gaussian_ziggurat`, Marsaglia & Tsang 2000). Needs finite mean, sd ≥ 0.
    public func normal(mean: Double = 0, standardDeviation sd: Double = 1) throws -> Double {
        guard mean.isFinite else { throw GSLError.domain("normal: mean = \(mean); must be finite") }
        guard sd.isFinite, sd >= 0 else {
            throw GSLError.domain("normal: standardDeviation = \(sd); must be finite and ≥ 0")
        }
        return mean + gsl_ran_gaussian_ziggurat(rng, sd)
    }

    /// Log-uniform on [a, b]: exp(U[ln a, ln b)), i.e. density ∝ 1/x, clamped to [a, b] against
    /// rounding in exp. Needs finite 0 < a < b.
    public func logUniform(_ a: Double, _ b: Double) throws -> Double {
        guard a.isFinite, b.isFinite, a > 0, a < b else {
            throw GSLError.domain("logUniform: need finite 0 < a < b, got a = \(a), b = \(b)")
        }
        let v = exp(gsl_ran_flat(rng, log(a), log(b)))
        return Swift.min(Swift.max(v, a), b)
    }

    /// Uniform integer in 0..<n (`gsl_rng_uniform_int`, unbiased by rejection). Needs
    /// 1 ≤ n ≤ 2³² (the generator's range).
    public func integer(below n: Int) throws -> Int {
        guard n >= 1, UInt64(n) <= (1 << 32) else {
            throw GSLError.domain("integer(below:): n = \(n); must be in 1…4294967296")
        }
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// An index i with probability wᵢ/Σw (Walker's alias method: `gsl_ran_discrete_preproc`
    /// then one `gsl_ran_discrete`; O(K) set-up per call). Needs finite wᵢ ≥ 0, Σw > 0.
    public func categorical(weights: [Double]) throws -> Int {
        guard !weights.isEmpty else { throw GSLError.invalid("categorical: weights is empty") }
        try Statistics.checkWeights(weights, "weights", count: weights.count)
        guard let table = gsl_ran_discrete_preproc(weights.count, weights) else {
            throw GSLError.noMemory("gsl_ran_discrete_preproc")
        }
        defer { gsl_ran_discrete_free(table) }
        return Int(gsl_ran_discrete(rng, table))
    }

    /// A uniformly random permutation of 0..<n (`gsl_ran_shuffle`, Fisher–Yates). Needs n ≥ 0.
    public func permutation(_ n: Int) throws -> [Int] {
        guard n >= 0 else { throw GSLError.domain("permutation: n = \(n); must be ≥ 0") }
        var p = Array(0..<n)
        if n > 1 {
            p.withUnsafeMutableBufferPointer { gsl_ran_shuffle(rng, $0.baseAddress, n, MemoryLayout<Int>.stride) }
        }
        return p
    }

    /// `items` in a uniformly random order (`permutation(items.count)` applied).
    public func shuffled<T>(_ items: [T]) -> [T] {
        // permutation(_:) only throws for negative n.
        ((try? permutation(items.count)) ?? []).map { items[$0] }
    }

    /// A uniformly chosen element (`integer(below: items.count)`). Throws if `items` is empty.
    public func choice<T>(_ items: [T]) throws -> T {
        guard !items.isEmpty else { throw GSLError.invalid("choice: items is empty") }
        return items[try integer(below: items.count)]
    }

    // MARK: State

    /// An exact snapshot of a generator: the raw `gsl_rng_state` bytes of mt19937
    /// (624 words and the position, `gsl_rng_size` bytes, native layout: restore on the
    /// same platform).
    public struct State: Sendable, Equatable, Hashable, Codable {
        /// GSL generator name (`gsl_rng_name`), always "mt19937" here.
        public let generator: String
        /// The state bytes.
        public let bytes: [UInt8]

        public init(generator: String, bytes: [UInt8]) {
            self.generator = generator
            self.bytes = bytes
        }
    }

    /// The current state; restoring it replays the stream from this point.
    public var state: State {
        let size = gsl_rng_size(rng)
        let raw = UnsafeRawBufferPointer(start: gsl_rng_state(rng), count: size)
        return State(generator: String(cString: gsl_rng_name(rng)), bytes: Array(raw))
    }

    /// A generator resuming from `state`; throws if the state is not a valid mt19937 state.
    public convenience init(state: State) throws {
        self.init(seed: 0)
        try restore(state)
    }

    /// Sets this generator to `state` (validated first: generator name, size, word range,
    /// position ≤ 624; an invalid state leaves the generator unchanged and throws).
    public func restore(_ state: State) throws {
        let name = String(cString: gsl_rng_name(rng))
        guard state.generator == name else {
            throw GSLError.invalid("state.generator is \"\(state.generator)\", this generator is \"\(name)\"")
        }
        let size = gsl_rng_size(rng)
        guard state.bytes.count == size else {
            throw GSLError.badLength("state.bytes has \(state.bytes.count) bytes, \(name) needs \(size)")
        }
        // mt19937's state is { unsigned long mt[624]; int mti; } (GSL rng/mt.c).
        let words = 624, wordSize = MemoryLayout<UInt>.size
        try state.bytes.withUnsafeBytes { raw in
            for k in 0..<words where raw.loadUnaligned(fromByteOffset: k * wordSize, as: UInt.self) > UInt(UInt32.max) {
                throw GSLError.domain("state.bytes: word \(k) exceeds 32 bits; not an mt19937 state")
            }
            let mti = raw.loadUnaligned(fromByteOffset: words * wordSize, as: Int32.self)
            guard (0...Int32(words)).contains(mti) else {
                throw GSLError.domain("state.bytes: position \(mti) is outside 0…624; not an mt19937 state")
            }
            gsl_rng_state(rng).copyMemory(from: raw.baseAddress!, byteCount: size)
        }
    }
}

@available(
    *, unavailable, message: "RandomSource owns mutable C state; give each task its own (copy() or a derived seed)"
)
extension RandomSource: Sendable {}
