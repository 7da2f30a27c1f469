import Foundation
import Testing
@testable import TunedOptim

@Suite struct ScheduleTests {
    typealias F = StructuredFixture

    static func schedule(_ json: String) throws -> Schedule {
        try Schedule(json: .object(F.object(json)))
    }

    static let known: [(String, [(Int, Double)])] = [
        (#"{"kind": "constant"}"#, [(1, 1.0), (1000, 1.0)]),
        (#"{"kind": "linear_warmup", "warmup_steps": 4}"#, [(1, 0.25), (2, 0.5), (4, 1.0), (50, 1.0)]),
        (#"{"kind": "cosine", "total_steps": 10, "floor": 0.2}"#, [(1, 1.0), (6, 0.6), (11, 0.2), (500, 0.2)]),
        (#"{"kind": "cosine", "total_steps": 4}"#, [(2, 0.5 * (1 + cos(Double.pi / 4))), (3, 0.5)]),
        (#"{"kind": "step", "step_size": 3, "gamma": 0.5}"#, [(1, 1.0), (3, 1.0), (4, 0.5), (7, 0.25), (10, 0.125)]),
        (#"{"kind": "warmup_cosine", "warmup_steps": 4, "total_steps": 14, "floor": 0.1}"#,
         [(1, 0.25), (2, 0.5), (4, 1.0), (9, 0.55), (14, 0.1), (20, 0.1)]),
    ]

    @Test(arguments: known)
    func multipliersAtKnownSteps(_ json: String, _ expected: [(Int, Double)]) throws {
        let s = try Self.schedule(json)
        for (step, want) in expected {
            #expect(abs(s.multiplier(step: step) - want) < 1e-15, "\(json) at step \(step): \(s.multiplier(step: step)) ≠ \(want)")
        }
    }

    @Test(arguments: [
        (#"{"warmup_steps": 4}"#, "kind"),
        (#"{"kind": "exponential"}"#, "exponential"),
        (#"{"kind": "linear_warmup"}"#, "warmup_steps"),
        (#"{"kind": "linear_warmup", "warmup_steps": 0}"#, "warmup_steps"),
        (#"{"kind": "cosine", "total_steps": 10, "floor": 2}"#, "floor"),
        (#"{"kind": "cosine", "total_steps": 10, "warmup": 3}"#, "warmup"),
        (#"{"kind": "step", "step_size": 3, "gamma": 0}"#, "gamma"),
        (#"{"kind": "warmup_cosine", "warmup_steps": 10, "total_steps": 10}"#, "total_steps"),
    ])
    func badSchedulesAreErrorsNamingTheKey(_ json: String, _ key: String) {
        do {
            _ = try Self.schedule(json)
            Issue.record("expected an error naming '\(key)'")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func scheduledSetsTheInnerLearningRateBeforeEachStep() throws {
        let spec = F.spec("scheduled", #"{"optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"kind": "step", "step_size": 2, "gamma": 0.5}}"#)
        var opt: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [[1]])
        var p = [Tensor(shape: [1], values: [0.0])]
        var moves = [Double]()
        for _ in 1...5 {
            let before = p[0].values[0]
            opt.step(&p, gradients: [Tensor(shape: [1], values: [1.0])])
            moves.append(before - p[0].values[0])
        }
        let want = [0.1, 0.1, 0.05, 0.05, 0.025]
        #expect(zip(moves, want).allSatisfy { abs($0 - $1) < 1e-15 }, "\(moves)")
    }

    @Test func settingTheLearningRateRescalesTheBaseRate() throws {
        let inner: any Optimizer<Double> = try OptimizerRegistry.make(F.spec("sgd", #"{"lr": 0.1}"#), shapes: [[1]])
        var opt = Scheduled(inner: inner, schedule: try Self.schedule(#"{"kind": "linear_warmup", "warmup_steps": 4}"#))
        #expect(abs(opt.learningRate - 0.025) < 1e-16)
        opt.learningRate = 0.05
        #expect(abs(opt.learningRate - 0.05) < 1e-16)
        #expect(abs(opt.baseLearningRate - 0.2) < 1e-15)
    }
}
