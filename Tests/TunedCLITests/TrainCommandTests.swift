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

    /// `--restore` resumes (the checkpoint's learning rate wins); `--restore --exploit` is a PBT
    /// exploit (the new config's learning rate wins) — what another tuner's PBT needs.
    @Test func exploitRestoreTakesTheNewLearningRate() throws {
        let task = TunedBinary.repositoryRoot.appendingPathComponent("examples/digits-random.toml").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-exploit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try TunedBinary.run([
            "train", "--task", task, "--config", #"{"optimizer": "adam", "lr": 0.01}"#, "--steps", "50", "--quiet",
            "--checkpoint", dir.path,
        ])
        #expect(first.status == 0, "\(first.stderr)")
        func lr(_ extra: [String]) throws -> Double? {
            let r = try TunedBinary.run(
                ["train", "--task", task, "--config", #"{"optimizer": "adam", "lr": 0.0001}"#, "--steps", "100", "--quiet",
                 "--restore", dir.path] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any]
            return json?["lr"] as? Double
        }
        #expect(try lr([]) == 0.01)
        #expect(try lr(["--exploit"]) == 0.0001)
        let bad = try TunedBinary.run(["train", "--task", task, "--config", "{}", "--steps", "1", "--exploit"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--exploit needs --restore"), "\(bad.stderr)")
    }
}
