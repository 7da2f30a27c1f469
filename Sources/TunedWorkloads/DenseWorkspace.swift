import Foundation

/// Every buffer one forward/backward pass of a `DenseModel` needs, for up to `capacity`
/// rows, allocated once: the gathered minibatch, each layer's pre-activations z and
/// activations a, two ping-pong δ buffers of the widest layer, the batch's labels and
/// targets, and the sampler's permutation cache. A step writes into these and allocates
/// nothing.
///
/// Not thread-safe by itself: a workspace is used by one caller at a time, which
/// `WorkspacePool` guarantees.
final class DenseWorkspace<Scalar: KernelScalar> {
    let sizes: [Int]
    private(set) var capacity: Int
    private(set) var input: UnsafeMutablePointer<Scalar>
    /// z[l]: pre-activations of layer l (l = 0 … L−1; z[L−1] are the outputs/logits).
    private(set) var pre: [UnsafeMutablePointer<Scalar>]
    /// a[l]: activations of hidden layer l (l = 0 … L−2).
    private(set) var act: [UnsafeMutablePointer<Scalar>]
    private(set) var delta: (UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>)
    private(set) var labels: UnsafeMutablePointer<Int32>
    private(set) var targets: UnsafeMutablePointer<Scalar>
    let permutation = PermutationCache()

    /// `sizes` = [input, hidden…, output].
    init(sizes: [Int], capacity: Int) {
        self.sizes = sizes
        self.capacity = 0
        input = .allocate(capacity: 1)
        pre = []
        act = []
        delta = (.allocate(capacity: 1), .allocate(capacity: 1))
        labels = .allocate(capacity: 1)
        targets = .allocate(capacity: 1)
        reserve(capacity)
    }

    /// Grows the buffers to hold `rows` rows (only when the capacity is smaller).
    func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        release()
        capacity = rows
        let widest = sizes.max() ?? 1
        input = Self.zeros(rows * sizes[0])
        pre = sizes.dropFirst().map { Self.zeros(rows * $0) }
        act = sizes.dropFirst().dropLast().map { Self.zeros(rows * $0) }
        delta = (Self.zeros(rows * widest), Self.zeros(rows * widest))
        labels = .allocate(capacity: rows)
        labels.initialize(repeating: 0, count: rows)
        targets = Self.zeros(rows)
    }

    private static func zeros(_ n: Int) -> UnsafeMutablePointer<Scalar> {
        let p = UnsafeMutablePointer<Scalar>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        return p
    }

    private func release() {
        input.deallocate()
        for p in pre { p.deallocate() }
        for p in act { p.deallocate() }
        delta.0.deallocate()
        delta.1.deallocate()
        labels.deallocate()
        targets.deallocate()
    }

    deinit { release() }
}

/// Workspaces shared by copies of one model, one per concurrent caller.
///
/// `checkout` hands a free workspace to exactly one caller (creating one only when all are
/// in use) and `checkin` returns it; between the two the caller owns it exclusively.
/// That invariant, kept under `lock`, is why the class is `@unchecked Sendable`, and why a
/// `DenseModel` — a value type holding only immutable data and this pool — can be
/// `Sendable` and called from several threads at once. A single-threaded trainer reuses
/// one workspace forever: two uncontended lock operations per step, no allocation.
final class WorkspacePool<Scalar: KernelScalar>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [DenseWorkspace<Scalar>] = []
    private let sizes: [Int]
    private let initialCapacity: Int

    init(sizes: [Int], initialCapacity: Int) {
        self.sizes = sizes
        self.initialCapacity = initialCapacity
        free.reserveCapacity(8)
    }

    func checkout(rows: Int) -> DenseWorkspace<Scalar> {
        lock.lock()
        let ws = free.popLast()
        lock.unlock()
        let w = ws ?? DenseWorkspace(sizes: sizes, capacity: max(rows, initialCapacity))
        w.reserve(rows)
        return w
    }

    func checkin(_ w: DenseWorkspace<Scalar>) {
        lock.lock()
        free.append(w)
        lock.unlock()
    }

    /// Runs `body` with a workspace of at least `rows` rows.
    @inline(__always)
    func with<R>(rows: Int, _ body: (DenseWorkspace<Scalar>) -> R) -> R {
        let w = checkout(rows: rows)
        defer { checkin(w) }
        return body(w)
    }
}
