import Foundation

/// Adam-mini (Zhang et al. 2024) as the `adam-mini` package 1.1.1 implements it
/// (`adam_mini.Adam_mini`): Adam's first moment per element, but one second-moment value
/// per parameter block. The blocks come from the parameter's name (lower-cased), in the
/// reference's order of tests:
///
/// 1. name contains `bias` → plain Adam, one v per element (`adam_block_names`);
/// 2. contains `k_proj q_proj wq wk query key` → one v per attention head: the tensor viewed
///    as rows of `dim·dim/n_heads` elements (`wqk_names`);
/// 3. contains `embed embd wte lm_head output final_layer v_proj wv value o_proj wo
///    attn.proj feed_forward linear mlp` → one v per output neuron, i.e. per row of a
///    `[fan_out, fan_in]` matrix (torch's `mean(g², dim=1)`);
/// 4. anything else → one v for the whole tensor (`sum(g²)/numel`, numel rounded to float32
///    as the reference does).
///
/// Weight decay (decoupled, `p *= 1 − lr·wd`) is 0 for names containing `norm`, `ln` or `bias`.
/// Per block B with mean square ḡ² (rules 2–4):
///
///     v_B ← β2·v_B + (1−β2)·ḡ²_B;  m ← lerp(m, g, 1−β1)
///     h = √v_B/√bc2 + eps;  p ← p − ((m · (1/h)·(1/bc1)) · lr)
///
/// in the reference's operation order (`(1/bc1)/h` is torch's `reciprocal(h)·(1/bc1)`); rule 1
/// is torch Adam's `addcdiv_`. The blocks need names, which the reference takes from
/// `named_parameters`; here the keyword `named_parameters` is a list of names, one per tensor.
/// Without it the tuned workloads' dense layers are named as a PyTorch MLP under `mlp`:
/// a 2-D tensor i is `mlp.<i>.weight` (rule 3: per neuron), a 1-D tensor `mlp.<i>.bias`
/// (rule 1), any other `param.<i>` (rule 4).
///
/// Refused (the reference fails or its result is not matched): rule 3 on a tensor that is
/// not 2-D (torch's `mean(dim=1)` and `view(rows, 1)` fail), rule 2 when the tensor's size is
/// not a multiple of `dim·dim/n_heads` (the view fails), `n_heads` not dividing `dim·dim`.
/// Model sharding across GPUs (`world_size > 1`) does not apply; `verbose` and the
/// deprecated `model_sharding` are accepted and do nothing.
public struct AdamMini<Scalar: TunedScalar>: Optimizer {
    public enum Partition: Sendable, Equatable {
        /// One v per element.
        case elementwise
        /// One v per contiguous block of `size` elements (heads, neurons, or the whole tensor),
        /// with the block mean's divisor.
        case blocks(size: Int, divisor: Double)
    }

    public let name = "adam_mini"
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let names: [String]
    public let partitions: [Partition]
    /// Weight decay per tensor (0 for norm/ln/bias names).
    let decays: [Double]
    public private(set) var stepCount = 0
    var expAvg: [[Scalar]]
    /// One entry per block (or per element for `.elementwise`).
    var vmean: [[Scalar]]
    let counts: [Int]

    public static var keywords: Set<String> {
        ["lr", "betas", "eps", "weight_decay", "dim", "n_heads", "n_kv_heads", "verbose", "model_sharding", "named_parameters"]
    }

    static var embdNames: [String] { ["embed", "embd", "wte"] }
    static var outputNames: [String] { ["lm_head", "output", "final_layer"] }
    static var wqkNames: [String] { ["k_proj", "q_proj", "wq", "wk", "query", "key"] }
    static var wvNames: [String] { ["v_proj", "wv", "value"] }
    static var attnProjNames: [String] { ["o_proj", "wo", "attn.proj"] }
    static var mlpNames: [String] { ["feed_forward", "linear", "mlp"] }

    /// The default names of the tuned workloads' tensors (see the type's documentation).
    public static func defaultName(index i: Int, shape: [Int]) -> String {
        switch shape.count {
        case 2: "mlp.\(i).weight"
        case 1: "mlp.\(i).bias"
        default: "param.\(i)"
        }
    }

    public init(_ hp: Hyperparameters, shapes: [[Int]]) throws {
        try hp.checkNoUnknownKeys(Self.keywords)
        learningRate = try hp.double("lr", default: 1e-3)
        (beta1, beta2) = try hp.betas(default: [0.9, 0.999])
        eps = try hp.double("eps", default: 1e-8)
        weightDecay = try hp.double("weight_decay", default: 0)
        let dim = try hp.int("dim", default: 2048), nHeads = try hp.int("n_heads", default: 32)
        let nKV = try hp.optionalDouble("n_kv_heads")
        _ = try hp.bool("verbose", default: true)
        _ = try hp.bool("model_sharding", default: false)
        try hp.require(learningRate >= 0, "lr", "must be ≥ 0, got \(learningRate)")
        try hp.require(eps >= 0, "eps", "must be ≥ 0, got \(eps)")
        try hp.require(weightDecay >= 0, "weight_decay", "must be ≥ 0, got \(weightDecay)")
        try hp.require(dim >= 1, "dim", "must be an integer ≥ 1, got \(dim)")
        try hp.require(nHeads >= 1, "n_heads", "must be an integer ≥ 1, got \(nHeads)")
        if let kv = nKV {
            try hp.require(kv == kv.rounded() && kv >= 1 && nHeads % Int(kv) == 0, "n_kv_heads", "must be an integer dividing n_heads (\(nHeads)), got \(kv)")
        }
        switch hp.values["named_parameters"] {
        case nil, .null?: names = shapes.indices.map { Self.defaultName(index: $0, shape: shapes[$0]) }
        case .array(let a)?:
            let n = a.compactMap(\.stringValue)
            try hp.require(n.count == a.count && n.count == shapes.count, "named_parameters",
                           "must be an array of \(shapes.count) strings (one name per parameter tensor), got \(a.count) entries")
            names = n
        default:
            throw OptimizerError("\(hp.context): 'named_parameters' must be an array of \(shapes.count) strings (one name per parameter tensor)")
        }
        var parts: [Partition] = [], decays: [Double] = []
        for (shape, original) in zip(shapes, names) {
            let name = original.lowercased(), numel = shape.reduce(1, *)
            func has(_ list: [String]) -> Bool { list.contains { name.contains($0) } }
            decays.append(name.contains("norm") || name.contains("ln") || name.contains("bias") ? 0 : weightDecay)
            if name.contains("bias") {
                parts.append(.elementwise)
            } else if has(Self.wqkNames) {
                try hp.require((dim * dim) % nHeads == 0, "n_heads", "must divide dim·dim = \(dim * dim) for the query/key tensor '\(original)', got \(nHeads)")
                let head = dim * dim / nHeads
                try hp.require(numel % head == 0, "dim",
                               "gives heads of dim·dim/n_heads = \(head) elements, which do not tile the query/key tensor '\(original)' of shape \(shape) (the reference's view(-1, \(head)) fails)")
                parts.append(.blocks(size: head, divisor: Double(head)))
            } else if has(Self.embdNames) || has(Self.outputNames) || has(Self.wvNames) || has(Self.mlpNames) || has(Self.attnProjNames) {
                try hp.require(shape.count == 2, "named_parameters",
                               "names '\(original)' a per-neuron block (embedding/output/value/MLP/projection), which Adam-mini 1.1.1 defines only for 2-D [fan_out, fan_in] tensors; its shape is \(shape)")
                parts.append(.blocks(size: shape[1], divisor: Double(shape[1])))
            } else {
                parts.append(.blocks(size: numel, divisor: Double(Float(numel))))
            }
        }
        partitions = parts
        self.decays = decays
        counts = shapes.map { $0.reduce(1, *) }
        expAvg = counts.map { [Scalar](repeating: 0, count: $0) }
        vmean = zip(parts, counts).map { p, n in
            switch p {
            case .elementwise: [Scalar](repeating: 0, count: n)
            case .blocks(let size, _): [Scalar](repeating: 0, count: n / size)
            }
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ params: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
        let bc2Sqrt = Scalar(bc2.squareRoot()), w1 = Scalar(1 - beta1)
        let b2 = Scalar(beta2), oneMinusB2 = Scalar(1 - beta2), e = Scalar(eps)
        let negStepSize = Scalar(-(learningRate / bc1)), invBC1 = Scalar(1 / bc1), lr = Scalar(learningRate)
        for i in params.indices {
            let decay = decays[i] > 0, shrink = Scalar(1 - learningRate * decays[i])
            let part = partitions[i]
            params[i].values.withUnsafeMutableBufferPointer { pb in
            gradients[i].values.withUnsafeBufferPointer { gb in
            expAvg[i].withUnsafeMutableBufferPointer { mb in
            vmean[i].withUnsafeMutableBufferPointer { vb in
                let (p, g, m, v) = (pb.baseAddress!, gb.baseAddress!, mb.baseAddress!, vb.baseAddress!)
                switch part {
                case .elementwise:
                    for j in 0..<pb.count {
                        let gj = g[j]
                        let vj = torchFMA(v[j] * b2, oneMinusB2 * gj, gj)
                        v[j] = vj
                        if decay { p[j] = p[j] * shrink }
                        m[j] = torchLerp(m[j], gj, w1)
                        let h = vj.vectorizableSquareRoot() / bc2Sqrt + e
                        p[j] = p[j] + negStepSize * m[j] / h
                    }
                case .blocks(let size, let divisor):
                    for b in 0..<vb.count {
                        let base = b * size
                        var s = 0.0
                        for j in base..<(base + size) {
                            let sq = g[j] * g[j]
                            s += sq.double
                        }
                        let meanSq = Scalar(Scalar(s).double / divisor)
                        let vj = torchFMA(v[b] * b2, oneMinusB2, meanSq)
                        v[b] = vj
                        let h = vj.vectorizableSquareRoot() / bc2Sqrt + e
                        let stepSize = (1 / h) * invBC1
                        for j in base..<(base + size) {
                            if decay { p[j] = p[j] * shrink }
                            m[j] = torchLerp(m[j], g[j], w1)
                            p[j] = p[j] - (m[j] * stepSize) * lr
                        }
                    }
                }
            }}}}
        }
    }

    /// m per element plus one v per block (per element for biases).
    public var stateBytes: Int {
        (expAvg.reduce(0) { $0 + $1.count } + vmean.reduce(0) { $0 + $1.count }) * MemoryLayout<Scalar>.size
    }

    public func saveState() -> StateDict {
        var s = StateDict()
        s["step"] = .int(stepCount)
        s["lr"] = .double(learningRate)
        s.set("m", buffers: expAvg)
        s.set("vmean", buffers: vmean)
        return s
    }

    public mutating func restoreState(_ state: StateDict) throws {
        let step = try state.int("step"), lr = try state.double("lr")
        let m: [[Scalar]] = try state.buffers("m", counts: counts)
        let v: [[Scalar]] = try state.buffers("vmean", counts: vmean.map(\.count))
        (stepCount, learningRate, expAvg, vmean) = (step, lr, m, v)
    }
}
