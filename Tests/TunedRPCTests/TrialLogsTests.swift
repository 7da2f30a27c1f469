import Testing
@testable import TunedRPC

/// `trial.logs` and the failure fields of `worker.finish` on the wire.
@Suite struct TrialLogsTests {
    @Test func theMethodAndItsFieldsRoundTrip() throws {
        #expect(RPCMethods.TrialLogs.name == "trial.logs" && RPCMethodName.allMethods.contains("trial.logs"))
        let p = TrialLogsParams(taskID: 7, trialID: 12, segmentID: 40, limit: 1)
        let v = try RPCCoding.value(of: p)
        #expect(v.jsonText == #"{"limit":1,"segment_id":40,"task_id":7,"trial_id":12}"#)
        #expect(try RPCCoding.decode(TrialLogsParams.self, from: v) == p)
        let log = SegmentLog(
            trialID: 12, member: 3, segmentID: 40, startStep: 0, endStep: 100, attempt: 1, status: "failed",
            reason: "KeyError: 'lr'", error: "python3 exited with status 1", stderrTail: "Traceback …\nKeyError: 'lr'",
            workerLog: "loading", workerID: "w1", at: 1_764_412_800)
        let r = TrialLogs(taskID: 7, logs: [log])
        let text = try RPCCoding.value(of: r).jsonText
        #expect(text.contains(#""stderr_tail":"Traceback …\nKeyError: 'lr'""#) && text.contains(#""worker_log":"loading""#))
        #expect(try RPCCoding.decode(TrialLogs.self, from: try RPCValue.parse(text)) == r)
    }

    @Test func finishCarriesReasonAndWorkerLog() throws {
        let f = WorkerFinishParams(
            workerID: "w1", segmentID: 99, status: .failed, error: "exit status 1", stderrTail: "x", reason: "KeyError: 'lr'",
            workerLog: "loading")
        let text = try RPCCoding.value(of: f).jsonText
        #expect(text.contains(#""reason":"KeyError: 'lr'""#) && text.contains(#""worker_log":"loading""#))
        // An older worker sends neither: both decode as nil.
        let old = try RPCCoding.decode(
            WorkerFinishParams.self, from: try RPCValue.parse(#"{"worker_id":"w","segment_id":1,"status":"failed"}"#))
        #expect(old.reason == nil && old.workerLog == nil)
    }
}
