import Foundation
import Testing
import TunedOptim

@testable import TunedEngine

/// A valid task on an analytic objective (no dataset), to mutate in tests.
let minimalTask = """
    name = "t"

    [workload]
    kind = "rosenbrock"

    [search]
    optimizer = ["sgd", "adamw"]
    lr = { log_uniform = [1e-4, 1.0] }

    [strategy]
    kind = "random"
    trials = 4

    [budget]
    steps = 100
    """

@Suite struct TaskFileTests {
    @Test func bundledExamplesValidate() throws {
        let random = try TaskFile.load(path: Fixtures.repository.appendingPathComponent("examples/digits-random.toml").path)
        #expect(random.name == "digits-random")
        #expect(random.strategy.kind == .random)
        #expect(random.strategy.trials == 8)
        #expect(random.budget.steps == 2000)
        #expect(random.search.optimizers == ["sgd", "momentum", "adamw", "lion", "muon"])
        #expect(random.workload["dataset"] == .string(Fixtures.repository.appendingPathComponent("datasets/digits.csv").standardizedFileURL.path))
        #expect(random.objective == Objective(metric: .valLoss, mode: .min))

        let pbt = try TaskFile.load(path: Fixtures.repository.appendingPathComponent("examples/digits-pbt.toml").path)
        #expect(pbt.strategy.kind == .pbt)
        #expect(pbt.strategy.pbt == PBTSettings(population: 8, interval: 100, quantile: 0.25, resampleProbability: 0.25, perturbationFactors: [0.8, 1.2], synchronous: false))
        #expect(pbt.strategy.hypergradient == HypergradientSettings(beta: 1e-4))
        #expect(pbt.budget.steps == 4000)

        let cnn = try TaskFile.load(path: Fixtures.repository.appendingPathComponent("examples/pytorch/digits-cnn-pbt.toml").path)
        #expect(cnn.workloadKind == "command" && cnn.search.optimizers.isEmpty)
        #expect(cnn.search.customKeys == ["channels"] && cnn.search.parameters["channels"] == .intUniform(4, 16))
        #expect(cnn.strategy.pbt?.mutate == ["lr", "weight_decay", "momentum"] && cnn.strategy.pbt?.synchronous == true)
        #expect(cnn.objective == Objective(metric: .valAccuracy, mode: .max, select: .final) && cnn.warnings.isEmpty)
    }

    @Test func minimalTaskHasDocumentedDefaults() throws {
        let spec = try TaskFile.parse(minimalTask, file: "t.toml")
        #expect(spec.budget == Budget(steps: 100, seed: 0, segmentSteps: nil))
        #expect(spec.budget.effectiveSegmentSteps == 100)
        #expect(spec.objective == Objective(metric: .valLoss, mode: .min))
        #expect(spec.strategy.maxRetries == 2)
        #expect(spec.strategy.noiseScaleEvery == nil && StrategySpec.defaultNoiseScaleEvery == 500)
        #expect(spec.search.parameters["lr"] == .logUniform(1e-4, 1))
    }

    @Test func jsonTaskFileIsEquivalentToTOML() throws {
        let json = """
            {"name": "t", "workload": {"kind": "rosenbrock"},
             "search": {"optimizer": ["sgd", "adamw"], "lr": {"log_uniform": [1e-4, 1.0]}},
             "strategy": {"kind": "random", "trials": 4}, "budget": {"steps": 100}}
            """
        #expect(try TaskFile.parse(json, file: "t.json") == TaskFile.parse(minimalTask, file: "t.toml"))
    }

    @Test func jsonErrorsNameTheFieldPathAndLine() {
        let json = "{\"name\": \"t\", \"workload\": {\"kind\": \"rosenbrock\"},\n \"search\": {\"optimizer\": [\"sgd\"],\n \"lr\": {\"log_uniform\": [1.0, 1e-4]}},\n \"budget\": {\"steps\": 0}}"
        let e = taskError(json, file: "t.json")
        #expect(e?.problems.map(\.description) == [
            "t.json:3: search.lr: log_uniform range is inverted (1.0 > 1e-4); write [low, high]",
            "t.json:4: budget.steps: must be ≥ 1 (the training steps per trial or member), got 0",
        ])
    }

    @Test func reportsEveryProblemNotJustTheFirst() throws {
        let text = """
            name = ""
            [workload]
            kind = "mlp"
            dataset = "missing.csv"
            hiden = [64]
            [search]
            optimizer = ["sgd", "adamq", "lookahead"]
            lr = [1e-4, 1.0]
            momentum = { uniform = [0.9, 0.9] }
            batch_size = { log_uniform = [16, 256] }
            [strategy]
            kind = "random"
            trials = 0
            population = 4
            [budget]
            steps = 1.5
            seed = -1
            [objective]
            metric = "val_los"
            """
        let e = try #require(taskError(text, file: "m.toml", base: "/nonexistent"))
        #expect(e.problems.map(\.description) == [
            "m.toml:1: name: must not be empty",
            "m.toml:4: [workload] dataset: file not found: /nonexistent/missing.csv (relative paths resolve against the task file's folder, /nonexistent)",
            "m.toml:5: [workload] hiden: unknown key; did you mean 'hidden'? (known: activation, batch_size, dataset, hidden, kind, split_seed, standardize_targets, target, task, validation_fraction)",
            "m.toml:7: [search] optimizer: unknown optimizer 'adamq'; did you mean 'adam'? (known: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, nadam, radam, adafactor, muon, lion, tiger, lars, lamb, sgd_hd, sgdn_hd, adam_hd, adamw_schedulefree, sgd_schedulefree, adam_mini)",
            "m.toml:7: [search] optimizer: 'lookahead' wraps another optimizer and cannot be a search-space point; use [strategy] hypergradient for HD and the schedule key for schedules",
            "m.toml:8: [search] lr: a bare list is a choice only for optimizer; write lr = { choice = [1e-4, 1.0] } or a range such as { log_uniform = [low, high] }",
            "m.toml:9: [search] momentum: uniform range is empty (low = high = 0.9); write a fixed value instead: momentum = 0.9",
            "m.toml:10: [search] batch_size: batch_size takes integers; use { int_uniform = [low, high] }, { int_log_uniform = [low, high] } or { choice = [...] }, not log_uniform",
            "m.toml:13: [strategy] trials: must be ≥ 1 (the number of configurations to try), got 0",
            "m.toml:14: [strategy] population: applies to kind = \"pbt\", not \"random\"",
            "m.toml:16: [budget] steps: must be an integer, got a float 1.5",
            "m.toml:17: [budget] seed: must be ≥ 0, got -1",
            "m.toml:19: [objective] metric: unknown metric 'val_los'; did you mean 'val_loss'? (built-in workloads report: val_loss, train_loss, val_accuracy; a command workload's objective may be any metric its program reports)",
        ])
    }

    @Test(arguments: [
        ("[search]\nlr = { uniform = [0.1, 1.0], log_uniform = [1, 2] }", "give exactly one distribution"),
        ("[search]\nlr = { loguniform = [1e-4, 1.0] }", "unknown distribution 'loguniform'; did you mean 'log_uniform'?"),
        ("[search]\nbeta1 = { uniform = [0.8, 1.2] }", "[search] beta1: must be in [0, 1); the range [0.8, 1.2] goes outside"),
        ("[search]\nnesterov = { uniform = [0, 1] }", "nesterov is true or false"),
        ("[search]\nns_steps = { int_uniform = [7, 3] }", "int_uniform range is inverted (7 > 3)"),
        ("[search]\nschedule = { kind = \"spiral\" }", "[search] schedule:"),
        ("[search]\ngrid_points = 4", "[search] grid_points: belongs in [strategy]; move it there"),
        ("[objective]\nmetric = \"val_loss\"\nmode = \"max\"", "\"max\" would maximise val_loss; write mode = \"min\" or leave mode out"),
        ("[strategy]\nkind = \"pbt\"\ninterval = 100", "[strategy] interval: (100) must be smaller than [budget] steps (100)"),
        ("[strategy]\nkind = \"asha\"\ngrace_period = 500", "[strategy] grace_period: (500) must not exceed [budget] steps (100)"),
        ("[strategy]\nkind = \"batch-sweep\"\nbatch_sizes = [32, 32]\ntarget_loss = 0.1", "lists a batch size twice"),
        ("[strategy]\nkind = \"batch-sweep\"\nbatch_sizes = [32]\ntarget_loss = -1", "[strategy] target_loss: must be > 0"),
        ("[strategy]\nkind = \"grid\"\ngrid_points = 0", "[strategy] grid_points: must be ≥ 1"),
        ("[strategy]\nkind = \"pbt\"\ninterval = 10\nperturbation_factors = []", "perturbation_factors: must be a non-empty array of positive numbers"),
        ("[strategy]\nkind = \"pbt\"\ninterval = 10\nresample_probability = 1.5", "resample_probability: must be in [0, 1], got 1.5"),
        ("[strategy]\nkind = \"randum\"", "unknown strategy 'randum'; did you mean 'random'?"),
        ("[strategy]\nnoise_scale_every = -5", "[strategy] noise_scale_every: must be"),
        ("[strategy]\nkind = \"pbt\"\ninterval = 10\nmember_seeds = \"own\"", "member_seeds: must be \"shared\""),
        ("[workload]\nkind = \"command\"", "[workload] command: missing"),
        ("[workload]\nkind = \"rosenbrock\"\ndimension = 1", "[workload]:"),
        ("[workload]\nkind = \"rosenbrock\"\nhidden = [3]", "[workload] hidden: unknown key"),
        // Sizes that would make the daemon build a billion trials or members at submit.
        ("[strategy]\nkind = \"random\"\ntrials = 1000000000", "[strategy] trials: must be ≤ 100000 (the number of configurations to try), got 1000000000"),
        ("[strategy]\nkind = \"asha\"\ntrials = 100001", "[strategy] trials: must be ≤ 100000"),
        ("[strategy]\nkind = \"pbt\"\ninterval = 10\npopulation = 1000000000", "[strategy] population: must be ≤ 10000, got 1000000000"),
        ("[budget]\nsteps = 2000000000000000", "[budget] steps: must be ≤ 1000000000000000"),
        ("[strategy]\nkind = \"grid\"\ngrid_points = 1000000000", "[strategy] grid_points: must be ≤ 1000 (points per continuous range), got 1000000000"),
        ("[strategy]\nkind = \"batch-sweep\"\nbatch_sizes = { geometric = [1, 1024] }\ntarget_loss = 0.1\ntrials = 10000", "11 batch sizes × 10000 trials is 110000 trials; at most 100000"),
    ])
    func flagsTheProblem(_ patch: String, _ mentions: String) {
        // The patch replaces the table it defines.
        var text = minimalTask
        if let header = ["[search]", "[objective]", "[strategy]", "[workload]", "[budget]"].first(where: { patch.hasPrefix($0) }) {
            text = text.components(separatedBy: "\n\n").filter { !$0.hasPrefix(header) }.joined(separator: "\n\n")
        }
        var p = patch
        if patch.hasPrefix("[search]"), !patch.contains("optimizer") { p += "\noptimizer = [\"sgd\", \"adamw\"]" }
        text += "\n\n" + p
        let e = taskError(text)
        #expect(e?.description.contains(mentions) == true, "\(e?.description ?? "valid")")
    }

    @Test func commandWorkloadDefaultsItsWorkdirToTheTaskFilesFolder() throws {
        let text = minimalTask.replacingOccurrences(of: "kind = \"rosenbrock\"", with: "kind = \"command\"\ncommand = [\"python3\", \"train.py\"]\nenv = { A = \"1\" }")
        let spec = try TaskFile.parse(text, file: "t.toml", baseDirectory: "/tmp")
        #expect(spec.workload["workdir"] == .string("/tmp"))
        #expect(spec.workload["command"] == .array([.string("python3"), .string("train.py")]))
    }

    @Test func datasetResolvesAgainstTheTaskFilesFolder() throws {
        let text = minimalTask.replacingOccurrences(of: "kind = \"rosenbrock\"", with: "kind = \"mlp\"\ndataset = \"../datasets/digits.csv\"")
        let base = Fixtures.repository.appendingPathComponent("examples").path
        let spec = try TaskFile.parse(text, file: "t.toml", baseDirectory: base)
        #expect(spec.workload["dataset"] == .string(Fixtures.repository.appendingPathComponent("datasets/digits.csv").standardizedFileURL.path))
        // checkFiles: false accepts a file that is not here.
        let away = try TaskFile.parse(text, file: "t.toml", baseDirectory: "/elsewhere", checkFiles: false)
        #expect(away.workload["dataset"] == .string("/datasets/digits.csv"))
    }
}
