import Foundation

/// Wall-clock measurement for benchmarks: the best of several repetitions, the figure least
/// disturbed by other load on the machine.
enum Stopwatch {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds per call of `body`, best of `repetitions`, each repetition `iterations` calls.
    static func best(repetitions: Int = 5, iterations: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repetitions {
            let t0 = now()
            for _ in 0..<iterations { body() }
            best = min(best, Double(now() - t0) / 1e9 / Double(iterations))
        }
        return best
    }
}
