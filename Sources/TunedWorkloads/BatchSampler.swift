/// Which training rows minibatch `b` holds: a **pure function of (seed, b)**.
///
/// Epoch-aligned and drop-last: with n training rows and batch size B (clamped to n) there
/// are E = ⌊n/B⌋ batches per epoch; batch b belongs to epoch e = ⌊b/E⌋, slot s = b mod E,
/// and holds rows π_e[s·B ..< (s+1)·B], where π_e is a Fisher–Yates permutation of 0..<n
/// drawn from the counter-based stream `CounterRNG.key(seed, domain, e)`. Every batch is
/// full, every row appears at most once per epoch, and no state is carried from batch to
/// batch — so a checkpoint needs no RNG state, and any worker can compute any batch.
///
/// The permutation of the current epoch is memoised in a `PermutationCache` (owned by a
/// workspace, keyed by seed, epoch, n and B), so a step costs a B-element slice, not an
/// n-element shuffle, and allocates nothing.
public struct BatchSampler: Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64

    static let domain: UInt64 = 0xBA7C_4E5

    /// - Precondition: `count ≥ 1`, `batchSize ≥ 1`.
    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(count >= 1 && batchSize >= 1, "a sampler needs at least one row and a batch size ≥ 1")
        self.count = count
        self.batchSize = min(batchSize, count)
        self.seed = seed
    }

    public var batchesPerEpoch: Int { count / batchSize }

    public func epoch(ofBatch b: Int) -> Int { b / batchesPerEpoch }

    /// Writes π_epoch into `perm` (`count` elements).
    public func permutation(epoch: Int, into perm: UnsafeMutablePointer<Int32>) {
        for i in 0..<count { perm[i] = Int32(truncatingIfNeeded: i) }
        var rng = CounterRNG(key: CounterRNG.key(seed, Self.domain, UInt64(truncatingIfNeeded: epoch)))
        var i = count - 1
        while i > 0 {
            let j = rng.below(i + 1)
            let t = perm[i]; perm[i] = perm[j]; perm[j] = t
            i -= 1
        }
    }

    /// The rows of batch `b`, pointing into `cache` (valid until the cache is next used).
    /// - Precondition: `b ≥ 0`.
    public func rows(batch b: Int, cache: PermutationCache) -> UnsafeBufferPointer<Int32> {
        precondition(b >= 0, "batch index must be ≥ 0, got \(b)")
        let e = epoch(ofBatch: b), s = b - e * batchesPerEpoch
        if cache.epoch != e || cache.seed != seed || cache.count != count || cache.batchSize != batchSize {
            cache.reserve(count)
            permutation(epoch: e, into: cache.storage)
            (cache.epoch, cache.seed, cache.count, cache.batchSize) = (e, seed, count, batchSize)
        }
        return UnsafeBufferPointer(start: cache.storage + s * batchSize, count: batchSize)
    }

    /// The rows of batch `b` as a new array (for tests and tools; allocates).
    public func rows(batch b: Int) -> [Int] {
        let cache = PermutationCache()
        return withExtendedLifetime(cache) { rows(batch: b, cache: cache).map { Int($0) } }
    }
}

/// The memoised permutation of one epoch. Not thread-safe: each workspace owns one.
public final class PermutationCache {
    fileprivate(set) var epoch = -1
    fileprivate(set) var seed: UInt64 = 0
    fileprivate(set) var count = 0
    fileprivate(set) var batchSize = 0
    private(set) var storage: UnsafeMutablePointer<Int32>
    private var capacity = 0

    public init() { storage = .allocate(capacity: 1) }

    func reserve(_ n: Int) {
        guard n > capacity else { return }
        storage.deallocate()
        storage = .allocate(capacity: n)
        capacity = n
    }

    deinit { storage.deallocate() }
}
