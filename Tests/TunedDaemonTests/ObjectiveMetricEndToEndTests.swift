import Foundation
import TunedRPC
import Testing

/// A built-in workload's objective must be a metric it reports at every segment's end.
extension DaemonEndToEndTests {
    func rosenbrockPBT(metric: String, interval: Int) -> String {
        """
        name = "rosenbrock-\(metric)"
        [workload]
        kind = "rosenbrock"
        [search]
        optimizer = "adamw"
        lr = { log_uniform = [1e-3, 1e-1] }
        [strategy]
        kind = "pbt"
        population = 4
        interval = \(interval)
        [budget]
        steps = 120
        [objective]
        metric = "\(metric)"
        """
    }

    /// train_loss with segments shorter than the record interval (100): every segment still
    /// ends with a train_loss (was: "the report at step 30 has no 'train_loss'", all members
    /// lost, the task failed); val_accuracy, which Rosenbrock never reports, is refused at submit.
    @Test(.timeLimit(.minutes(2))) func aBuiltInObjectiveIsOneTheWorkloadReports() throws {
        let d = try startDaemon(workers: 2)
        defer { _ = stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let c = try RPCClient(socketPath: d.socket)
        let id = try submit(c, rosenbrockPBT(metric: "train_loss", interval: 30))
        #expect(try waitFinished(c, id).status == .completed)
        let r = try c.call(RPCMethods.TaskResults.self, TaskIDParams(taskID: id))
        #expect(r.trials.allSatisfy { $0.status == .completed && $0.finalMetrics["train_loss"] != nil }, "\(r)")
        do {
            _ = try submit(c, rosenbrockPBT(metric: "val_accuracy", interval: 30))
            Issue.record("val_accuracy on rosenbrock was accepted")
        } catch {
            #expect(error.remoteError?.knownCode == .validationFailed, "\(error)")
            #expect(error.message.contains("classification workloads only"), "\(error)")
        }
    }
}
