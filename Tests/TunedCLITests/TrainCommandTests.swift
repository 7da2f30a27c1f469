import Foundation
import Testing

@Suite struct TrainCommandTests {
    @Test func trainsTheWorkloadOfATOMLTaskFile() throws {
        let task = TunedBinary.repositoryRoot.appendingPathComponent("examples/digits-random.toml").path
        let r = try TunedBinary.run(["train", "--task", task, "--config", #"{"optimizer": "sgd", "lr": 0.05}"#, "--steps", "200", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.lines.last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["step"] as? Double == 200)
        #expect((json["val_accuracy"] as? Double ?? 0) > 0.5)
    }

    /// A PBT member's configuration (as `tunectl results` prints it) carries its seed:
    /// `tuned train` uses it, equals `--seed` with the same value, and refuses a conflict.
    @Test func aConfigurationsSeedIsTheRunsSeed() throws {
        let task = TunedBinary.repositoryRoot.appendingPathComponent("examples/digits-random.toml").path
        /// (exit status, final train and validation loss, stderr)
        func final(_ config: String, _ extra: [String] = []) throws -> (Int32, [Double], String) {
            let r = try TunedBinary.run(["train", "--task", task, "--config", config, "--steps", "30", "--quiet"] + extra)
            let json = try? JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any]
            return (r.status, ["train_loss", "val_loss"].compactMap { json?[$0] as? Double }, r.stderr)
        }
        let withSeed = try final(#"{"optimizer": "sgd", "lr": 0.05, "seed": 12345}"#)
        let flag = try final(#"{"optimizer": "sgd", "lr": 0.05}"#, ["--seed", "12345"])
        let other = try final(#"{"optimizer": "sgd", "lr": 0.05}"#)
        #expect(withSeed.0 == 0 && flag.0 == 0 && other.0 == 0, "\(withSeed.2)")
        #expect(withSeed.1.count == 2 && withSeed.1 == flag.1)
        #expect(withSeed.1 != other.1)
        let conflict = try final(#"{"optimizer": "sgd", "seed": 5}"#, ["--seed", "6"])
        #expect(conflict.0 != 0 && conflict.2.contains("differ"), "\(conflict.2)")
    }

    @Test func aBrokenTaskFileIsOneErrorPerProblemWithItsLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.toml")
        try "name = \"x\"\n[workload]\nkind = \"mlp\"\ndataset = \"missing.csv\"\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try TunedBinary.run(["train", "--task", file.path, "--config", #"{"optimizer": "sgd"}"#, "--steps", "10"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.toml:4: [workload] dataset: file not found"), "\(r.stderr)")
    }

    /// `--task` trains with the task file's [budget] seed unless --seed or the configuration's
    /// "seed" says otherwise (issue 12: it used to train with seed 0 whatever the file said).
    @Test func aTaskFilesBudgetSeedIsTheDefaultSeed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-train-seed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = TunedBinary.repositoryRoot.appendingPathComponent("datasets/digits.csv").path
        let task = dir.appendingPathComponent("seeded.toml")
        try """
            name = "seeded"
            [workload]
            kind = "mlp"
            dataset = "\(dataset)"
            hidden = [16]
            [search]
            optimizer = "sgd"
            lr = 0.05
            [budget]
            steps = 30
            seed = 7
            """.write(to: task, atomically: true, encoding: .utf8)
        func losses(_ extra: [String], config: String = #"{"optimizer": "sgd", "lr": 0.05}"#) throws -> [Double] {
            let r = try TunedBinary.run(["train", "--task", task.path, "--config", config, "--steps", "30", "--quiet"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any]
            return ["train_loss", "val_loss"].compactMap { json?[$0] as? Double }
        }
        let byFile = try losses([])
        #expect(byFile.count == 2)
        #expect(byFile == (try losses(["--seed", "7"])))
        #expect(byFile != (try losses(["--seed", "0"])))
        #expect(try losses(["--seed", "3"]) == losses([], config: #"{"optimizer": "sgd", "lr": 0.05, "seed": 3}"#))
    }

    /// `--restore` resumes with the configuration that wrote the checkpoint (recorded beside
    /// it); a different one is refused, naming the keys (issue 12: the new lr used to be
    /// silently ignored). `--restore --exploit` is a PBT exploit (the new config's learning
    /// rate wins) — what another tuner's PBT needs.
    @Test func exploitRestoreTakesTheNewLearningRate() throws {
        let task = TunedBinary.repositoryRoot.appendingPathComponent("examples/digits-random.toml").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-exploit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try TunedBinary.run([
            "train", "--task", task, "--config", #"{"optimizer": "adam", "lr": 0.01}"#, "--steps", "50", "--quiet",
            "--checkpoint", dir.path,
        ])
        #expect(first.status == 0, "\(first.stderr)")
        let recorded = try String(contentsOf: dir.appendingPathComponent("tuned-train.json"), encoding: .utf8)
        #expect(recorded == #"{"config":{"lr":0.01,"optimizer":"adam"},"seed":0}"# + "\n", "\(recorded)")
        func run(_ config: String, _ extra: [String]) throws -> TunedBinary.Result {
            try TunedBinary.run(
                ["train", "--task", task, "--config", config, "--steps", "100", "--quiet", "--restore", dir.path] + extra)
        }
        func lr(_ r: TunedBinary.Result) throws -> Double? {
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any]
            return json?["lr"] as? Double
        }
        #expect(try lr(run(#"{"optimizer": "adam", "lr": 0.01}"#, [])) == 0.01)
        let refused = try run(#"{"optimizer": "adam", "lr": 0.0001}"#, [])
        #expect(refused.status == 1 && refused.lines.isEmpty, "\(refused)")
        #expect(refused.stderr.contains("--restore \(dir.path): the checkpoint was written with another configuration (checkpoint→given): lr 0.01→0.0001."), "\(refused.stderr)")
        #expect(refused.stderr.contains("add --exploit"), "\(refused.stderr)")
        let several = try run(#"{"optimizer": "sgd", "lr": 0.01, "momentum": 0.9}"#, ["--seed", "4"])
        #expect(several.status == 1 && several.stderr.contains("momentum (not set)→0.9, optimizer adam→sgd, seed 0→4."), "\(several.stderr)")
        #expect(try lr(run(#"{"optimizer": "adam", "lr": 0.0001}"#, ["--exploit"])) == 0.0001)
        let bad = try TunedBinary.run(["train", "--task", task, "--config", "{}", "--steps", "1", "--exploit"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--exploit needs --restore"), "\(bad.stderr)")
    }
}
