import Foundation
import TunedRPC
import Testing

/// Features for every task (issue 12, item 5), through the real daemon: a command task's
/// `[features]` table is stored at submit and the finished task is training data for
/// `policy.fit`; a built-in task's `[features]` refines what its workload computes; an unknown
/// model kind is refused with the list.
extension DaemonMetaTests {
    @Test func aCommandTaskWithFeaturesFeedsPolicyFit() throws {
        let d = try e2e.startDaemon(workers: 2)
        defer { _ = e2e.stop(d); try? FileManager.default.removeItem(at: d.dir) }
        let script = d.dir.appendingPathComponent("cnn.py")
        // Stateless: the whole trial in one segment, its last metric line at TUNED_END_STEP.
        try """
            import json, math, os
            cfg = json.loads(os.environ["TUNED_CONFIG"])
            end = int(os.environ["TUNED_END_STEP"])
            loss = 0.05 + (math.log10(cfg["lr"]) + 2) ** 2 + (0.02 if cfg["optimizer"] == "sgd" else 0)
            print(f"tuned: step={end} val_loss={loss}", flush=True)
            """.write(to: script, atomically: true, encoding: .utf8)
        let command = """
            name = "my-cnn"

            [workload]
            kind = "command"
            command = ["python3", "\(script.path)"]

            [search]
            optimizer = ["sgd", "adamw"]
            lr = { log_uniform = [1e-3, 1e-1] }

            [strategy]
            kind = "random"
            trials = 4

            [budget]
            steps = 20
            seed = 5

            [objective]
            metric = "val_loss"
            mode = "min"

            [features]
            model_kind = "cnn"
            parameter_count = 120000
            depth = 4
            dataset_size = 1797
            task_type = "classification"
            """
        let c = try RPCClient(socketPath: d.socket)
        func submit(_ text: String, _ file: String) throws -> Int64 {
            try c.call(
                RPCMethods.TaskSubmit.self,
                TaskSubmitParams(text: text, format: .toml, filename: file, baseDir: d.dir.path)).taskID
        }
        // An unknown kind is refused at submit, naming the file, the line and the kinds.
        #expect {
            try submit(command.replacingOccurrences(of: "\"cnn\"", with: "\"convnet\""), "bad.toml")
        } throws: { error in
            let s = "\(error)"
            return s.contains("bad.toml:24: [features] model_kind:") && s.contains("\"cnn\", \"rnn\", \"transformer\"")
        }
        let cnn = try submit(command, "cnn.toml")
        let nqm = try submit(tinyTask("nqm20", dimension: 20) + "\n[features]\ndataset_size = 5000\n", "nqm.toml")
        for id in [cnn, nqm] { #expect(try e2e.waitFinished(c, id).status == .completed) }

        let fit = try c.call(RPCMethods.PolicyFit.self, PolicyFitParams())
        #expect(fit.tasksUsed == 2)
        let shown = try c.call(RPCMethods.PolicyShow.self)
        let tasks = shown.document.objectValue?["provenance"]?.objectValue?["tasks"]?.arrayValue ?? []
        let byName = Dictionary(
            uniqueKeysWithValues: tasks.compactMap { t in t.objectValue?["name"]?.stringValue.map { ($0, t.objectValue!) } })
        let mine = try #require(byName["my-cnn"], "the fitted policy's training set: \(tasks)")
        let features = mine["features"]?.objectValue ?? [:]
        #expect(features["model_kind"]?.stringValue == "cnn")
        #expect(features["parameter_count"]?.doubleValue == 120000)
        #expect(features["depth"]?.doubleValue == 4)
        #expect(features["step_budget"]?.doubleValue == 20)
        #expect(mine["trials"]?.doubleValue == 4)
        // The built-in task: its workload's own features, refined by its [features] table.
        let builtin = try #require(byName["nqm20"]?["features"]?.objectValue)
        #expect(builtin["parameter_count"]?.doubleValue == 20 && builtin["dataset_size"]?.doubleValue == 5000)
        // The fitted encoding carries the model-kind indicators the history now varies on.
        let names = shown.document.objectValue?["encoding"]?.objectValue?["names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(names.contains("is_cnn"))
    }
}
