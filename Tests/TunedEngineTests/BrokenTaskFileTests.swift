import Foundation
import Testing

@testable import TunedEngine

/// The 20 broken task files under Fixtures/broken and the exact error each produces
/// (`$DIR` stands for the fixtures' folder).
struct BrokenCase: Sendable, CustomStringConvertible {
    var file: String
    var expected: [String]
    var description: String { file }
}

@Suite struct BrokenTaskFileTests {
    static let cases: [BrokenCase] = [
        BrokenCase(file: "01_missing_equals.toml", expected: [
            "$DIR/01_missing_equals.toml:1:6: expected '=' after key 'name', found '\"'",
        ]),
        BrokenCase(file: "02_unclosed_string.toml", expected: [
            "$DIR/02_unclosed_string.toml:4:8: string opened at column 8 is not closed on its line",
        ]),
        BrokenCase(file: "03_duplicate_key.toml", expected: [
            "$DIR/03_duplicate_key.toml:9:1: duplicate key 'lr' (first defined at line 8)",
        ]),
        BrokenCase(file: "04_duplicate_table.toml", expected: [
            "$DIR/04_duplicate_table.toml:17:2: table [budget] is defined twice (first at line 14)",
        ]),
        BrokenCase(file: "05_date_value.toml", expected: [
            "$DIR/05_date_value.toml:16:8: dates and times ('2024-01-01') are not supported in task files; write the value as a string",
        ]),
        BrokenCase(file: "06_unknown_table.toml", expected: [
            "$DIR/06_unknown_table.toml: [search]: missing table; add [search] with at least optimizer = [\"adamw\"] and lr",
            "$DIR/06_unknown_table.toml:6: [serch]: unknown table; did you mean [search]? (tables: workload, search, strategy, budget, objective, features)",
        ]),
        BrokenCase(file: "07_unknown_key.toml", expected: [
            "$DIR/07_unknown_key.toml:8: [search] weight_decy: unknown key; did you mean 'weight_decay'? (known: alpha, amsgrad, batch_size, beta1, beta2, centered, dampening, eps, hypergradient_beta, hypergradient_kind, hypergradient_lr_max, hypergradient_lr_min, lr, momentum, nesterov, ns_steps, optimizer, r, schedule, warmup_steps, weight_decay, weight_lr_power)",
        ]),
        BrokenCase(file: "08_wrong_type.json", expected: [
            "$DIR/08_wrong_type.json:9: budget.steps: must be an integer, got a string \"100\"",
        ]),
        BrokenCase(file: "09_unknown_workload_kind.toml", expected: [
            "$DIR/09_unknown_workload_kind.toml:4: [workload] kind: unknown workload kind 'mpl'; did you mean 'mlp'? (known: rosenbrock, beale, quadratic, nqm, linreg, logreg, softmax, mlp, command, external)",
        ]),
        BrokenCase(file: "10_missing_dataset.toml", expected: [
            "$DIR/10_missing_dataset.toml:5: [workload] dataset: file not found: $DIR/no-such-data.csv (relative paths resolve against the task file's folder, $DIR)",
        ]),
        BrokenCase(file: "11_unknown_optimizer.toml", expected: [
            "$DIR/11_unknown_optimizer.toml:7: [search] optimizer: unknown optimizer 'adamx'; did you mean 'adam'? (known: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, nadam, radam, adafactor, muon, lion, tiger, lars, lamb, sgd_hd, sgdn_hd, adam_hd, adamw_schedulefree, sgd_schedulefree, adam_mini)",
        ]),
        BrokenCase(file: "12_negative_budget.toml", expected: [
            "$DIR/12_negative_budget.toml:15: [budget] steps: must be ≥ 1 (the training steps per trial or member), got -100",
        ]),
        BrokenCase(file: "13_inverted_range.toml", expected: [
            "$DIR/13_inverted_range.toml:8: [search] lr: log_uniform range is inverted (1.0 > 1e-4); write [low, high]",
        ]),
        BrokenCase(file: "14_log_uniform_zero.toml", expected: [
            "$DIR/14_log_uniform_zero.toml:8: [search] weight_decay: log_uniform needs bounds > 0, got 0; use uniform for a range that includes 0",
        ]),
        BrokenCase(file: "15_empty_choice.toml", expected: [
            "$DIR/15_empty_choice.toml:8: [search] batch_size: the choice list is empty; list at least one value",
        ]),
        BrokenCase(file: "16_pbt_settings.toml", expected: [
            "$DIR/16_pbt_settings.toml:12: [strategy] population: must be ≥ 2 (members exploit each other), got 1",
            "$DIR/16_pbt_settings.toml:13: [strategy] interval: must be ≥ 1 (steps between exploit/explore), got 0",
            "$DIR/16_pbt_settings.toml:14: [strategy] quantile: must be in (0, 0.5], got 0.75 (the bottom quantile copies the top one)",
        ]),
        BrokenCase(file: "17_asha_settings.toml", expected: [
            "$DIR/17_asha_settings.toml:13: [strategy] reduction_factor: must be ≥ 2 (keep the top 1/rf at each rung), got 1",
            "$DIR/17_asha_settings.toml:14: [strategy] grace_period: must be ≥ 1 (steps before the first rung), got 0",
        ]),
        BrokenCase(file: "18_batch_sweep.toml", expected: [
            "$DIR/18_batch_sweep.toml:10: [strategy] target_loss: missing; batch-sweep measures steps to reach it, e.g. target_loss = 0.1",
            "$DIR/18_batch_sweep.toml:12: [strategy] batch_sizes.geometric: range is inverted (1024 > 16); write [smallest, largest]",
        ]),
        BrokenCase(file: "19_hypergradient.toml", expected: [
            "$DIR/19_hypergradient.toml:13: [strategy] hypergradient.beta: must be > 0, got 0; leave hypergradient out to switch HD off",
            "$DIR/19_hypergradient.toml:13: [strategy] hypergradient.lr_max: the lr range is empty or inverted (lr_min 0.1 ≥ lr_max 0.01)",
        ]),
        BrokenCase(file: "20_conditional_key.toml", expected: [
            "$DIR/20_conditional_key.toml:8: [search] beta1: none of the optimizers searched (sgd, momentum) uses it; remove it or search an optimizer that does (adam, adamw, nadam, radam, lion, tiger)",
        ]),
    ]

    @Test func everyFixtureHasACase() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.broken.path).sorted()
        #expect(files == Self.cases.map(\.file))
        #expect(files.count == 20)
    }

    @Test(arguments: cases)
    func producesItsExactError(_ c: BrokenCase) {
        let dir = Fixtures.broken.path
        do {
            _ = try TaskFile.load(path: "\(dir)/\(c.file)")
            Issue.record("\(c.file) validated")
        } catch {
            let lines = error.problems.map { $0.description.replacingOccurrences(of: dir, with: "$DIR") }
            #expect(lines == c.expected)
            #expect(error.description.replacingOccurrences(of: dir, with: "$DIR") == c.expected.joined(separator: "\n"))
        }
    }
}
