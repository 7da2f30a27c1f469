import Foundation
import Testing
import TunedMath
import TunedOptim

@testable import TunedEngine

/// A command workload's `[search]` keys of its own, its own objective, `select`, and PBT's
/// `mutate` (issue 12, items 1–3): validation, sampling and explore.
@Suite struct OwnProgramTaskFileTests {
    static func task(search: String, strategy: String = "kind = \"random\"\ntrials = 4", objective: String = "metric = \"score\"\nmode = \"max\"", kind: String = "command") -> String {
        let workload = kind == "command" ? "kind = \"command\"\ncommand = [\"python3\", \"train.py\"]" : "kind = \"\(kind)\""
        return """
            name = "own"

            [workload]
            \(workload)

            [search]
            \(search)

            [strategy]
            \(strategy)

            [budget]
            steps = 100

            [objective]
            \(objective)
            """
    }

    func parse(_ text: String) throws(TaskFileError) -> TaskSpec {
        try TaskFile.parse(text, file: "own.toml", baseDirectory: "/tmp", checkFiles: false)
    }

    func problems(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch { return error.problems.map(\.description) }
    }

    @Test func commandWorkloadsTakeKeysOfTheirOwnWithoutAnOptimizer() throws {
        let spec = try parse(Self.task(search: """
            width = { int_uniform = [16, 128] }
            depth = { int_log_uniform = [1, 64] }
            dropout = { uniform = [0.0, 0.5] }
            label_smoothing = 0.1
            epochs = 3
            activation = { choice = ["relu", "gelu"] }
            augment = { choice = [true, false] }
            lr = { log_uniform = [1e-4, 1e-1] }
            """))
        #expect(spec.search.optimizers.isEmpty)
        #expect(spec.search.customKeys == ["activation", "augment", "depth", "dropout", "epochs", "label_smoothing", "width"])
        #expect(spec.search.parameters["depth"] == .intLogUniform(1, 64))
        #expect(spec.warnings.isEmpty, "\(spec.warnings)")
        for i in 0..<50 {
            let c = spec.search.sample(seed: 7, index: i)
            #expect(c["optimizer"] == nil)
            #expect(Set(c.keys) == Set(spec.search.parameters.keys), "\(c)")
            let w = c["width"]!.doubleValue!, depth = c["depth"]!.doubleValue!
            #expect(w == w.rounded() && (16...128).contains(w))
            #expect(depth == depth.rounded() && (1...64).contains(depth))
            #expect(c["epochs"] == .number(3) && c["label_smoothing"] == .number(0.1))
            #expect(["relu", "gelu"].contains(c["activation"]!.stringValue!))
            #expect(c["augment"]!.boolValue != nil)
        }
        // PBT's stratified members and the grid work without an optimizer too.
        #expect(spec.search.stratifiedSample(seed: 1, count: 4).allSatisfy { $0["optimizer"] == nil && $0["width"] != nil })
        #expect(spec.search.gridCount(points: 2) == 64)  // 6 varied keys × 2 points, 2 fixed
    }

    @Test func intLogUniformSpreadsOverOctaves() {
        let rng = RandomSource(seed: 3)
        var counts = [0, 0, 0, 0, 0, 0, 0]  // [1,2) [2,4) … [64,128)
        for _ in 0..<7000 {
            let v = Int(SearchSpace.draw(.intLogUniform(1, 127), rng).doubleValue!)
            counts[Int(log2(Double(v)))] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 }, "each octave about 1/7: \(counts)")
        #expect(SearchSpace.gridValues(.intLogUniform(1, 1000), points: 4) == [1, 10, 100, 1000].map { .number($0) })
    }

    @Test func aKeyNearAKnownOneIsAcceptedWithAWarning() throws {
        let spec = try parse(Self.task(search: "weight_decy = 0.01\nwidth = 64"))
        #expect(spec.warnings.map(\.description) == [
            "own.toml:8: [search] weight_decy: not a key tuned knows; it is passed to your program as is. Did you mean 'weight_decay'?",
        ])
        #expect(spec.search.parameters["weight_decy"] == .fixed(.number(0.01)))
    }

    @Test func customKeysAreValidatedWithEveryProblemAtOnce() {
        let p = problems(Self.task(search: """
            Width = 3
            seed = 1
            depth = { int_uniform = [1.5, 4] }
            n = { int_log_uniform = [0, 8] }
            drop = { uniform = [0.5, 0.1] }
            tags = ["a", "b"]
            nested = { choice = [[1], [2]] }
            """))
        #expect(p == [
            "own.toml:8: [search] Width: a program's own key must match [a-z_][a-z0-9_.-]* (lower case, starting with a letter or _), e.g. 'width'",
            "own.toml:9: [search] seed: 'seed' is reserved (tuned sets it in every configuration: TUNED_SEED and the member's seed); rename your key, e.g. 'seed_'",
            "own.toml:10: [search] depth: int_uniform bounds must be integers, got [1.5, 4]; for a real-valued key use { uniform = [1.5, 4] }",
            "own.toml:11: [search] n: int_log_uniform needs bounds ≥ 1, got 0; use int_uniform for a range that includes 0",
            "own.toml:12: [search] drop: uniform range is inverted (0.5 > 0.1); write [low, high]",
            "own.toml:13: [search] tags: a bare list is a choice only for optimizer; write tags = { choice = [\"a\", \"b\"] }",
            "own.toml:14: [search] nested: must be a number, a string or true/false (or a range or { choice = [...] } of them), got an array [1]",
            "own.toml:14: [search] nested: must be a number, a string or true/false (or a range or { choice = [...] } of them), got an array [2]",
        ], "\(p)")
    }

    @Test func builtInWorkloadsKeepRefusingUnknownKeys() {
        let p = problems(Self.task(search: "optimizer = \"sgd\"\nlr = 0.1\ndropout = 0.1", objective: "metric = \"val_loss\"", kind: "rosenbrock"))
        #expect(p.count == 1 && p[0].hasPrefix("own.toml:9: [search] dropout: unknown key (a built-in workload takes only the keys tuned knows:"), "\(p)")
        #expect(p.first?.contains("need [workload] kind = \"command\"") == true)
        // …and still need an optimizer.
        #expect(problems(Self.task(search: "lr = 0.1", objective: "metric = \"val_loss\"", kind: "rosenbrock"))
            == ["own.toml:6: [search] optimizer: missing; add optimizer = [\"adamw\"] (one name or a list to search over)"])
    }

    @Test func aProgramsOwnMetricNeedsAMode() throws {
        #expect(problems(Self.task(search: "lr = 0.1", objective: "metric = \"bleu\"")) == [
            "own.toml:18: [objective] mode: 'bleu' is your program's own metric, so tuned cannot tell its direction; add mode = \"max\" or mode = \"min\"",
        ])
        let spec = try parse(Self.task(search: "lr = 0.1", objective: "metric = \"bleu\"\nmode = \"max\"\nselect = \"best\""))
        #expect(spec.objective == Objective(metric: Objective.Metric(rawValue: "bleu"), mode: .max, select: .best))
        #expect(problems(Self.task(search: "lr = 0.1", objective: "metric = \"bleu score\"\nmode = \"max\"")).first?.contains("cannot appear on a tuned: line") == true)
        #expect(problems(Self.task(search: "lr = 0.1", objective: "metric = \"bleu\"\nmode = \"max\"\nselect = \"last\"")) == [
            "own.toml:20: [objective] select: must be \"final\" (a trial's value is its objective at its last step) or \"best\" (the best value along its curve), got \"last\"",
        ])
        // A built-in workload: only the metrics it reports.
        #expect(problems(Self.task(search: "optimizer = \"sgd\"\nlr = 0.1", objective: "metric = \"bleu\"\nmode = \"max\"", kind: "rosenbrock")).first?
            .contains("unknown metric 'bleu'") == true)
        // Close to a known metric: accepted (it may be the program's own), with a warning.
        let near = try parse(Self.task(search: "lr = 0.1", objective: "metric = \"val_los\"\nmode = \"min\""))
        #expect(near.warnings.first?.description.contains("Did you mean 'val_loss'?") == true)
    }

    @Test func mutateNamesSearchedKeys() throws {
        let pbt = "kind = \"pbt\"\npopulation = 4\ninterval = 10"
        let spec = try parse(Self.task(search: "lr = { log_uniform = [1e-3, 1e-1] }\nwidth = { int_uniform = [8, 64] }\ndropout = { uniform = [0.0, 0.5] }", strategy: pbt + "\nmutate = [\"lr\", \"dropout\"]"))
        #expect(spec.strategy.pbt?.mutate == ["lr", "dropout"])
        #expect(problems(Self.task(search: "lr = 0.1\nwidth = 8", strategy: pbt + "\nmutate = [\"widht\", \"optimizer\", 3]")) == [
            "own.toml:15: [strategy] mutate: 'widht' is not a key of [search]; did you mean 'width'? (searchable keys: lr, width)",
            "own.toml:15: [strategy] mutate: the optimizer is not mutated through mutate; set explore_optimizer = true to let explore change it",
            "own.toml:15: [strategy] mutate: lists keys as strings, got an integer 3",
        ])
        #expect(problems(Self.task(search: "lr = 0.1", strategy: "kind = \"random\"\nmutate = [\"lr\"]")).first?.contains("applies to kind = \"pbt\"") == true)
    }

    /// Explore perturbs only `mutate`'s keys (by default: tuned's own keys, no custom key);
    /// every other key is the donor's; an integer key stays an integer within its range.
    @Test func exploreMutatesOnlyTheListedKeys() throws {
        let search = "lr = { log_uniform = [1e-3, 1e-1] }\nwidth = { int_uniform = [8, 64] }\ndepth = { int_log_uniform = [1, 16] }\ndropout = { uniform = [0.0, 0.5] }\nact = { choice = [\"relu\", \"gelu\", \"tanh\"] }"
        let spec = try parse(Self.task(search: search, strategy: "kind = \"pbt\"\npopulation = 4\ninterval = 10"))
        let donor: [String: JSONValue] = ["lr": .number(0.01), "width": .number(32), "depth": .number(4), "dropout": .number(0.2), "act": .string("gelu")]
        for seed in 0..<40 {
            let r = PBTExplore.explore(donor, space: spec.search, settings: spec.strategy.pbt!, rng: RandomSource(seed: UInt64(seed)))
            #expect(Set(r.changes.keys).isSubset(of: ["lr"]), "default: no custom key: \(r.changes)")
            #expect(r.config["width"] == donor["width"] && r.config["dropout"] == donor["dropout"] && r.config["act"] == donor["act"])
        }
        var settings = spec.strategy.pbt!
        settings.mutate = ["width", "depth", "dropout", "act"]
        var changed = Set<String>()
        for seed in 0..<40 {
            let r = PBTExplore.explore(donor, space: spec.search, settings: settings, rng: RandomSource(seed: UInt64(seed)))
            changed.formUnion(r.changes.keys)
            #expect(r.config["lr"] == donor["lr"])
            let w = r.config["width"]!.doubleValue!, d = r.config["depth"]!.doubleValue!
            #expect(w == w.rounded() && (8...64).contains(w) && d == d.rounded() && (1...16).contains(d))
            #expect(["relu", "gelu", "tanh"].contains(r.config["act"]!.stringValue!))
        }
        #expect(changed == ["width", "depth", "dropout", "act"])
    }
}

/// `[objective] select`: the one definition of a trial's value, used by every strategy.
@Suite struct ObjectiveSelectTests {
    let best = Objective(metric: Objective.Metric(rawValue: "score"), mode: .max, select: .best)
    let final = Objective(metric: Objective.Metric(rawValue: "score"), mode: .max)

    @Test func segmentMetricsCarryTheSegmentsBestWhenSelectIsBest() {
        let points: [(step: Int64, name: String, value: Double)] = [(10, "score", 0.9), (20, "score", 0.5), (20, "loss", 1), (30, "score", 2)]
        #expect(best.segmentMetrics(points, end: 20) == ["score": 0.5, "loss": 1, "score:best": 0.9])
        #expect(final.segmentMetrics(points, end: 20) == ["score": 0.5, "loss": 1])
        #expect(best.value(after: ["score": 0.5, "score:best": 0.9], previous: 0.7) == 0.9)
        #expect(best.value(after: ["score": 0.5, "score:best": 0.6], previous: 0.7) == 0.7)
        #expect(final.value(after: ["score": 0.5], previous: 0.7) == 0.5)
        #expect(best.reported(["score": 0.5, "score:best": 0.9]) == ["score": 0.5])
    }

    /// Random search: trial 0 peaks then falls, trial 1 ends higher. `final` picks trial 1,
    /// `best` picks trial 0, and the outcome's metrics are what the trial reported.
    @Test func randomSearchRanksByTheSelectedValue() throws {
        for (objective, winner) in [(final, 1), (best, 0)] {
            var spec = try TaskFile.parse(OwnProgramTaskFileTests.task(search: "lr = { uniform = [0.1, 0.2] }", strategy: "kind = \"random\"\ntrials = 2"), file: "t.toml", checkFiles: false)
            spec.objective = objective
            spec.budget.segmentSteps = 10
            spec.budget.steps = 20
            var s = RandomSearch(spec: spec)
            _ = s.start()
            let curves: [[(step: Int64, name: String, value: Double)]] = [
                [(5, "score", 0.95), (10, "score", 0.3), (20, "score", 0.4)],
                [(5, "score", 0.5), (10, "score", 0.6), (20, "score", 0.7)],
            ]
            for end in [10, 20] {
                for t in 0..<2 {
                    _ = s.handle(.segmentFinished(trial: t, step: end, metrics: objective.segmentMetrics(curves[t].filter { $0.step > Int64(end - 10) }, end: Int64(end))))
                }
            }
            #expect(s.isFinished)
            #expect(s.best?.trial == winner, "\(objective.select): \(String(describing: s.best))")
            #expect(s.best?.objective == (winner == 0 ? 0.95 : 0.7))
            #expect(s.best?.metrics.keys.sorted() == ["score"])
        }
    }
}

extension OwnProgramTaskFileTests {
    /// A command workload's key that tuned knows keeps tuned's meaning; when its value does not
    /// fit, the message says how to use the name for something of the program's own.
    @Test func aKnownKeyWithAProgramsOwnMeaningIsToldToRename() {
        #expect(problems(Self.task(search: "schedule = \"cosine\"")) == [
            "own.toml:8: [search] schedule: must be a schedule table such as { kind = \"cosine\", total_steps = 2000 }, got a string \"cosine\" ('schedule' is a key tuned knows; if your program means something else by it, rename it, e.g. 'my_schedule')",
        ])
    }
}

extension ObjectiveSelectTests {
    static func spec(_ strategy: String, select: Objective.Select, steps: Int = 20) throws -> TaskSpec {
        var spec = try TaskFile.parse(
            OwnProgramTaskFileTests.task(search: "lr = { uniform = [0.1, 0.2] }", strategy: strategy), file: "t.toml", checkFiles: false)
        spec.objective.select = select
        spec.budget.steps = steps
        return spec
    }

    /// ASHA, rung at 10, rf 2: trial 0 arrives with 0.6; trial 1 peaked at 0.9 inside the
    /// segment and reports 0.5 at the rung. `final` prunes trial 1 (0.5 < 0.6), `best` promotes it.
    @Test func ashaRungsCompareTheSelectedValue() throws {
        for (select, pruned) in [(Objective.Select.final, true), (.best, false)] {
            let spec = try Self.spec("kind = \"asha\"\ntrials = 2\nreduction_factor = 2\ngrace_period = 10", select: select)
            var s = try Strategy.make(for: spec)
            _ = s.start()
            let o = spec.objective
            _ = s.handle(.segmentFinished(trial: 0, step: 10, metrics: o.segmentMetrics([(step: 10, name: "score", value: 0.6)], end: 10)))
            let actions = s.handle(.segmentFinished(trial: 1, step: 10, metrics: o.segmentMetrics([(step: 5, name: "score", value: 0.9), (step: 10, name: "score", value: 0.5)], end: 10)))
            let wasPruned = actions.contains { if case .pruneTrial(1, _, _) = $0 { return true } else { return false } }
            #expect(wasPruned == pruned, "\(select): \(actions)")
        }
    }

    /// Sync PBT, 2 members, interval 10: member 0 ends the interval at 0.5 after a peak of 0.9,
    /// member 1 at 0.6. `final` makes member 0 the recipient of an exploit, `best` member 1.
    @Test func pbtExploitsRankByTheSelectedValue() throws {
        for (select, recipient) in [(Objective.Select.final, 0), (.best, 1)] {
            let spec = try Self.spec("kind = \"pbt\"\npopulation = 2\ninterval = 10\nsynchronous = true\nquantile = 0.5", select: select)
            var s = try Strategy.make(for: spec)
            _ = s.start()
            let o = spec.objective
            _ = s.handle(.segmentFinished(trial: 0, step: 10, metrics: o.segmentMetrics([(step: 5, name: "score", value: 0.9), (step: 10, name: "score", value: 0.5)], end: 10)))
            let actions = s.handle(.segmentFinished(trial: 1, step: 10, metrics: o.segmentMetrics([(step: 10, name: "score", value: 0.6)], end: 10)))
            let exploited = actions.compactMap { if case .exploit(let e) = $0 { return e.recipient } else { return nil } }
            #expect(exploited == [recipient], "\(select): \(actions)")
        }
    }
}

extension OwnProgramTaskFileTests {
    /// Which keys the program gets as JSON floats: ranges of floats, tuned's real keys, and
    /// fixed values or choices written as floats; integers (and int ranges) stay integers.
    @Test func floatKeysFollowHowTheValuesWereWritten() throws {
        let spec = try parse(Self.task(search: """
            lr = 1
            gain = 1.0
            epochs = 3
            mix = { choice = [0.5, 1.0] }
            sizes = { choice = [1, 2] }
            name = { choice = ["a", "b"] }
            drop = { uniform = [0, 1] }
            width = { int_uniform = [1, 4] }
            """))
        #expect(spec.search.floatKeys == ["lr", "gain", "mix", "drop"])
    }
}
