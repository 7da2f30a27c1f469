import Testing

@testable import TunedEngine

@Suite struct TaskFeaturesFileTests {
    static let full = """
        # an MLP on digits
        model_kind = "mlp"
        parameter_count = 4810
        depth = 2
        widest_layer = 64
        matrix_parameter_fraction = 0.984
        dataset_size = 1797
        input_size = 64
        output_size = 10
        task_type = "classification"
        step_budget = 600
        optimizer_memory_bytes_per_parameter = 8
        gradient_noise_scale = 120.5
        """

    @Test func aCompleteTomlFileGivesEveryFeature() throws {
        let d = try TaskFeaturesFile.parse(Self.full, file: "f.toml")
        #expect(d.modelKind == "mlp")
        #expect(d.parameterCount == 4810)
        #expect(d.matrixParameterFraction == 0.984)
        #expect(d.gradientNoiseScale == 120.5)
        #expect(d.missingKeys == ["batch_size"])
    }

    @Test func jsonFilesAreReadToo() throws {
        let d = try TaskFeaturesFile.parse(#"{"parameter_count": 100, "task_type": "regression"}"#, file: "f.json")
        #expect(d.parameterCount == 100)
        #expect(d.taskType == "regression")
        #expect(d.missingKeys.count == TaskDescription.keys.count - 2)
    }

    @Test func anUnknownKeyIsNamedWithItsLineAndTheClosestKnownKey() {
        let text = "model_kind = \"mlp\"\nparameter_cuont = 12\n"
        #expect {
            try TaskFeaturesFile.parse(text, file: "f.toml")
        } throws: { error in
            let e = error as! TaskFileError
            let s = e.description
            return s.contains("f.toml:2:") && s.contains("parameter_cuont") && s.contains("did you mean 'parameter_count'")
        }
    }

    @Test(arguments: [
        ("parameter_count = \"many\"", "parameter_count: must be an integer in [1, 10^15]"),
        ("dataset_size = -5", "dataset_size: must be an integer in [1, 10^15], got -5"),
        ("matrix_parameter_fraction = 1.5", "matrix_parameter_fraction: must be a number in [0, 1]"),
        ("task_type = \"ranking\"", "task_type: must be one of"),
        ("gradient_noise_scale = 0", "gradient_noise_scale: must be a number in (0, 10^15]"),
        ("parameter_count = 9223372036854775807", "parameter_count: must be an integer in [1, 10^15], got 9223372036854775807"),
        ("depth = 2.5", "depth: must be an integer in [1, 10^15], got 2.5"),
    ])
    func wrongTypesAndImpossibleValuesNameTheKeyAndLine(line: String, message: String) {
        #expect {
            try TaskFeaturesFile.parse("model_kind = \"mlp\"\n" + line + "\n", file: "g.toml")
        } throws: { error in
            let s = (error as! TaskFileError).description
            return s.hasPrefix("g.toml:2: ") && s.contains(message)
        }
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        #expect {
            try TaskFeaturesFile.parse("depth = 0\nfoo = 1\ninput_size = -1\n", file: "h.toml")
        } throws: { error in
            (error as! TaskFileError).problems.map(\.line) == [1, 2, 3]
        }
    }

    @Test func aBatchLargerThanTheDatasetIsAnError() {
        #expect(throws: TaskFileError.self) {
            try TaskFeaturesFile.parse("dataset_size = 100\nbatch_size = 128\n", file: "b.toml")
        }
    }

    @Test func syntaxErrorsKeepTheirPosition() {
        #expect {
            try TaskFeaturesFile.parse("depth = \n", file: "s.toml")
        } throws: { error in (error as! TaskFileError).problems.first?.line == 1 }
    }

    @Test func aModelKindIsOneThePolicyTellsApartOrAnErrorWithTheList() throws {
        for kind in ["mlp", "cnn", "rnn", "transformer", "linear", "quadratic"] {
            #expect(try TaskFeaturesFile.parse("model_kind = \"\(kind)\"\n", file: "k.toml").modelKind == kind)
        }
        #expect {
            try TaskFeaturesFile.parse("depth = 3\nmodel_kind = \"convnet\"\n", file: "k.toml")
        } throws: { error in
            let s = (error as! TaskFileError).description
            return s.hasPrefix("k.toml:2: model_kind: ") && s.contains("\"mlp\", \"cnn\", \"rnn\", \"transformer\"")
                && s.contains("got \"convnet\"")
        }
        #expect {
            try TaskFeaturesFile.parse("model_kind = \"transfomer\"\n", file: "k.toml")
        } throws: { error in (error as! TaskFileError).description.contains("did you mean \"transformer\"?") }
    }

    @Test func aRefinementReplacesOnlyTheKeysItGives() {
        let computed = TaskDescription(modelKind: "mlp", parameterCount: 4810, depth: 2, datasetSize: 1797, stepBudget: 400)
        let refined = computed.refined(by: TaskDescription(parameterCount: 5000, taskType: "classification"))
        #expect(refined == TaskDescription(
            modelKind: "mlp", parameterCount: 5000, depth: 2, datasetSize: 1797, taskType: "classification", stepBudget: 400))
    }
}
