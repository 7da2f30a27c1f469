import TunedOptim

/// Optimizer update time on one Float tensor of `count` parameters, beside the time to
/// stream the same arrays (parameter, gradient and every state buffer) through memory once:
/// read all of them and write all but the gradient, which is what any element-wise update
/// must at least do. The ratio is the update's cost over that floor.
public enum OptimizerBench {
    /// The optimizers measured, with hyperparameters that exercise their full update.
    public static let cases: [(label: String, spec: OptimizerSpec)] = [
        ("sgd", .init(name: "sgd", hyperparameters: .init(["lr": .number(0.01)]))),
        ("momentum", .init(name: "sgd", hyperparameters: .init(["lr": .number(0.01), "momentum": .number(0.9)]))),
        ("nesterov", .init(name: "sgd", hyperparameters: .init(["lr": .number(0.01), "momentum": .number(0.9), "nesterov": .bool(true)]))),
        ("adagrad", .init(name: "adagrad")),
        ("rmsprop", .init(name: "rmsprop")),
        ("rmsprop-centered", .init(name: "rmsprop", hyperparameters: .init(["centered": .bool(true), "momentum": .number(0.9)]))),
        ("adam", .init(name: "adam")),
        ("adamw", .init(name: "adamw")),
        ("adam-amsgrad", .init(name: "adam", hyperparameters: .init(["amsgrad": .bool(true)]))),
        ("nadam", .init(name: "nadam")),
        ("radam", .init(name: "radam")),
        ("adafactor", .init(name: "adafactor")),
        ("lion", .init(name: "lion")),
        ("tiger", .init(name: "tiger")),
        ("lars", .init(name: "lars")),
        ("lamb", .init(name: "lamb")),
        ("muon", .init(name: "muon", hyperparameters: .init(["ns_dtype": .string("float32")]))),
        ("adam-hd", .init(name: "adam_hd")),
        ("sgd-hd", .init(name: "sgd_hd")),
    ]

    public static func run(count: Int = 1 << 20, repetitions: Int = 5) -> [BenchResult] {
        // Muon needs a matrix; 1024×1024 is 1M parameters.
        let side = Int(Double(count).squareRoot())
        var rows: [BenchResult] = []
        for (label, spec) in cases {
            let shape = spec.name == "muon" || spec.name == "adafactor" ? [side, side] : [count]
            let n = shape.reduce(1, *)
            guard var opt: any Optimizer<Float> = try? OptimizerRegistry.make(spec, shapes: [shape]) else {
                rows.append(BenchResult(group: "optimizer-1M", name: label, value: .nan, unit: "ms", note: "not available"))
                continue
            }
            var params = [Tensor(shape: shape, values: (0..<n).map { Float(($0 % 1000) - 500) * 1e-3 })]
            let grads = [Tensor(shape: shape, values: (0..<n).map { Float((($0 * 7) % 1000) - 500) * 1e-4 })]
            opt.step(&params, gradients: grads)  // allocate lazily held state, warm caches
            let iterations = spec.name == "muon" ? 1 : 5
            let t = Stopwatch.best(repetitions: repetitions, iterations: iterations) {
                opt.step(&params, gradients: grads)
            }
            let stateArrays = Int((Double(opt.stateBytes) / Double(n * 4)).rounded(.up))
            let stream = streamTime(count: n, arrays: 2 + stateArrays, repetitions: repetitions)
            rows.append(BenchResult(
                group: "optimizer-1M", name: label, value: t * 1e3, unit: "ms", baseline: stream * 1e3,
                note: "\(2 + stateArrays) arrays streamed; state \(opt.stateBytes / n) B/param"))
        }
        return rows
    }

    /// Seconds for one fused pass that reads `arrays` Float arrays of `count` elements and
    /// writes all but the first (the gradient) — the memory traffic of an element-wise update.
    static func streamTime(count: Int, arrays: Int, repetitions: Int) -> Double {
        let k = min(max(arrays, 2), 5)
        var buffers = (0..<5).map { i in [Float](repeating: Float(i) + 1, count: i < k ? count : 0) }
        return Stopwatch.best(repetitions: repetitions, iterations: 5) {
            buffers.withUnsafeMutableBufferPointer { bufs in
                bufs[0].withUnsafeBufferPointer { g0 in
                bufs[1].withUnsafeMutableBufferPointer { b1 in
                bufs[2].withUnsafeMutableBufferPointer { b2 in
                bufs[3].withUnsafeMutableBufferPointer { b3 in
                bufs[4].withUnsafeMutableBufferPointer { b4 in
                    let g = g0.baseAddress!, p1 = b1.baseAddress!
                    switch k {
                    case 2: for j in 0..<count { p1[j] = p1[j] * 0.5 + g[j] }
                    case 3:
                        let p2 = b2.baseAddress!
                        for j in 0..<count { p1[j] = p1[j] * 0.5 + g[j]; p2[j] = p2[j] * 0.5 + g[j] }
                    case 4:
                        let p2 = b2.baseAddress!, p3 = b3.baseAddress!
                        for j in 0..<count {
                            p1[j] = p1[j] * 0.5 + g[j]; p2[j] = p2[j] * 0.5 + g[j]; p3[j] = p3[j] * 0.5 + g[j]
                        }
                    default:
                        let p2 = b2.baseAddress!, p3 = b3.baseAddress!, p4 = b4.baseAddress!
                        for j in 0..<count {
                            p1[j] = p1[j] * 0.5 + g[j]; p2[j] = p2[j] * 0.5 + g[j]
                            p3[j] = p3[j] * 0.5 + g[j]; p4[j] = p4[j] * 0.5 + g[j]
                        }
                    }
                }}}}}
            }
        }
    }
}
