import Foundation
import TunedOptim

/// Which workload a checkpoint belongs to; a restore into another is refused.
public struct WorkloadIdentity: Sendable, Equatable, Codable, CustomStringConvertible {
    public var kind: String
    public var configurationHash: UInt64
    public var seed: UInt64

    public init(kind: String, configurationHash: UInt64, seed: UInt64) {
        self.kind = kind
        self.configurationHash = configurationHash
        self.seed = seed
    }

    public var description: String {
        "\(kind) (configuration \(String(configurationHash, radix: 16)), seed \(seed))"
    }
}

/// A workload that can say what decides its loss surface (shapes, data, split, …).
/// Workloads without it are identified by kind and parameter shapes.
public protocol ConfigurationHashing {
    var configurationHash: UInt64 { get }
}

extension DenseModel: ConfigurationHashing {}

extension Workload {
    /// `configurationHash` if the workload has one, else FNV-1a of kind and shapes.
    public func identity(seed: UInt64) -> WorkloadIdentity {
        if let h = (self as Any as? any ConfigurationHashing)?.configurationHash {
            return WorkloadIdentity(kind: kind, configurationHash: h, seed: seed)
        }
        var h = FNV1a64()
        h.add(kind)
        for s in parameterShapes { h.add(s.count); for d in s { h.add(d) } }
        return WorkloadIdentity(kind: kind, configurationHash: h.value, seed: seed)
    }
}

/// Everything needed to resume training bit for bit: the parameters (exact bit patterns),
/// the optimizer's `StateDict`, the completed step count, the trainer's running loss and
/// the workload's identity. The minibatch order needs no state (`BatchSampler`).
public struct Checkpoint<Scalar: TunedScalar>: Sendable, Equatable {
    public var identity: WorkloadIdentity
    public var step: Int
    public var parameters: [Tensor<Scalar>]
    public var optimizerName: String
    public var optimizerState: StateDict
    /// Trainer bookkeeping (`loss_sum`, `loss_count`, `diverged`).
    public var trainerState: StateDict

    public init(identity: WorkloadIdentity, step: Int, parameters: [Tensor<Scalar>], optimizerName: String,
                optimizerState: StateDict, trainerState: StateDict = StateDict()) {
        self.identity = identity
        self.step = step
        self.parameters = parameters
        self.optimizerName = optimizerName
        self.optimizerState = optimizerState
        self.trainerState = trainerState
    }

    /// The checkpoint as one `StateDict`: `identity.*`, `step`, `scalar`, `param.count`,
    /// `param.<i>.shape` (comma-separated), `param.<i>`, `optimizer.name`,
    /// `optimizer.state.*`, `trainer.*`.
    public func stateDict() -> StateDict {
        var s = StateDict()
        s["identity.kind"] = .string(identity.kind)
        s["identity.config_hash"] = .int(Int(bitPattern: UInt(identity.configurationHash)))
        s["identity.seed"] = .int(Int(bitPattern: UInt(identity.seed)))
        s["step"] = .int(step)
        s["scalar"] = .string("\(Scalar.self)")
        s["param.count"] = .int(parameters.count)
        for (i, p) in parameters.enumerated() {
            s["param.\(i).shape"] = .string(p.shape.map(String.init).joined(separator: ","))
            s.set("param.\(i)", array: p.values)
        }
        s["optimizer.name"] = .string(optimizerName)
        s.merge(optimizerState, prefix: "optimizer.state.")
        s.merge(trainerState, prefix: "trainer.")
        return s
    }

    public init(stateDict s: StateDict) throws {
        do {
            let scalar = try s.string("scalar")
            guard scalar == "\(Scalar.self)" else {
                throw WorkloadError("checkpoint holds \(scalar) parameters, but this run trains in \(Scalar.self); resume with the same precision")
            }
            identity = WorkloadIdentity(
                kind: try s.string("identity.kind"),
                configurationHash: UInt64(UInt(bitPattern: try s.int("identity.config_hash"))),
                seed: UInt64(UInt(bitPattern: try s.int("identity.seed"))))
            step = try s.int("step")
            let n = try s.int("param.count")
            guard n >= 0, n < 1_000_000 else { throw WorkloadError("checkpoint: param.count \(n) is out of range") }
            parameters = try (0..<n).map { i in
                let text = try s.string("param.\(i).shape")
                let shape = text.isEmpty ? [] : text.split(separator: ",").map { Int($0) ?? -1 }
                guard shape.allSatisfy({ $0 >= 0 }) else { throw WorkloadError("checkpoint: param.\(i).shape '\(text)' is not a shape") }
                return Tensor(shape: shape, values: try s.array("param.\(i)", Scalar.self, count: shape.reduce(1, *)))
            }
            optimizerName = try s.string("optimizer.name")
            optimizerState = s.extract(prefix: "optimizer.state.")
            trainerState = s.extract(prefix: "trainer.")
        } catch let e as OptimizerError {
            throw WorkloadError("checkpoint: \(e.message)")
        }
    }
}
