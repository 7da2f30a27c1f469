import Testing

@testable import TunedEngine

/// A task file's `[features]` table: the features-file schema, validated with the rest of the
/// file (every problem at once, named `[features] KEY` with its line).
@Suite struct TaskFileFeaturesTests {
    static let task = """
        name = "cnn"

        [workload]
        kind = "command"
        command = ["python3", "train.py"]

        [search]
        optimizer = "adamw"
        lr = { log_uniform = [1e-4, 1e-2] }

        [budget]
        steps = 100

        [features]
        model_kind = "cnn"
        parameter_count = 120000
        depth = 4
        dataset_size = 1797
        task_type = "classification"
        """

    @Test func theTableBecomesTheSpecsDescription() throws {
        let spec = try TaskFile.parse(Self.task, file: "t.toml", baseDirectory: "/tmp")
        #expect(spec.features == TaskDescription(
            modelKind: "cnn", parameterCount: 120000, depth: 4, datasetSize: 1797, taskType: "classification"))
        let without = try TaskFile.parse(
            Self.task.components(separatedBy: "\n[features]")[0], file: "t.toml", baseDirectory: "/tmp")
        #expect(without.features == nil)
    }

    @Test func itsProblemsAreReportedWithTheFilesOthers() {
        let text = Self.task.replacingOccurrences(of: "steps = 100", with: "steps = -1")
            .replacingOccurrences(of: "model_kind = \"cnn\"", with: "model_kind = \"resnet\"\nwidth = 3")
        let e = taskError(text)
        let problems = e?.problems ?? []
        #expect(problems.contains { $0.line == 12 && $0.field == "[budget] steps" }, "\(problems)")
        #expect(problems.contains { $0.line == 15 && $0.field == "[features] model_kind" && $0.message.contains("\"transformer\"") }, "\(problems)")
        #expect(problems.contains { $0.line == 16 && $0.field == "[features] width" && $0.message.contains("unknown key") }, "\(problems)")
        #expect(taskError(Self.task + "\n[features.extra]\n") != nil)
        #expect(taskError("features = 3\n" + Self.task.components(separatedBy: "\n[features]")[0])?.description.contains("features: must be a table") == true)
    }
}
