import Testing
import TunedOptim
import TunedRPC

@testable import TunedWorker

/// TUNED_CONFIG's number types: whole numbers are JSON integers, except the keys the daemon
/// lists as floats (`strategy.config_float_keys`), which stay floats.
@Suite struct LeaseSettingsFloatKeysTests {
    func lease(_ strategy: RPCValue) -> Lease {
        Lease(
            segmentID: 1, taskID: 1, trialID: 1, config: ["width": 64, "scale": 2, "lr": 0.5, "name": "a"], startStep: 0,
            endStep: 10, restoreCheckpoint: nil, checkpointDir: "/tmp/x", leaseSeconds: 10, workload: ["kind": "command"],
            strategy: strategy)
    }

    @Test func floatKeysStayFloatsAndIntegersStayIntegers() throws {
        let s = try LeaseSettings(lease: lease(["config_float_keys": ["scale", "lr"]]))
        let text = RPCValue.object(s.programConfig).jsonText
        #expect(text == #"{"lr":0.5,"name":"a","scale":2.0,"width":64}"#)
        let plain = try LeaseSettings(lease: lease([:]))
        #expect(RPCValue.object(plain.programConfig).jsonText == #"{"lr":0.5,"name":"a","scale":2,"width":64}"#)
        #expect(throws: WorkerError.self) { try LeaseSettings(lease: lease(["config_float_keys": "scale"])) }
    }
}
