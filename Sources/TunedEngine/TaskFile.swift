import Foundation
import TunedOptim
import TunedWorkloads

/// Reading and validating task files (TOML or JSON; `docs/TASKFILE.md`).
///
/// Validation collects every problem it finds and throws them together, in line order, each
/// naming file, line, field and what to change. Syntax errors stop at the first one.
public enum TaskFile {
    /// Workloads whose training is the user's own: `command` (a program the workers run) and
    /// `external` (a loop of the submitter's that asks for segments: `study.ask`). Both take
    /// the program's own `[search]` keys and metrics.
    public static let userKinds = ["command", "external"]

    public enum Format: String, Sendable {
        case toml, json

        /// `.json` → JSON, `.toml` → TOML, otherwise JSON if the first non-blank character is `{`.
        public static func detect(file: String, text: String) -> Format {
            if file.hasSuffix(".json") { return .json }
            if file.hasSuffix(".toml") { return .toml }
            return text.first(where: { !$0.isWhitespace }) == "{" ? .json : .toml
        }
    }

    /// Reads, parses and validates the task file at `path` (relative paths inside it resolve
    /// against its folder; messages name it as `path`).
    public static func load(path: String) throws(TaskFileError) -> TaskSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TaskFileError([TaskProblem(file: path, line: nil, field: nil, message: "cannot read the task file (\(error.localizedDescription))")])
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseDirectory: base)
    }

    /// Parses and validates task-file text. `file` names it in messages; `baseDirectory` is
    /// the folder relative dataset paths resolve against (the daemon receives the text and
    /// the submitting client's path); `checkFiles = false` skips the dataset/workdir existence
    /// checks (for validating a file that will run elsewhere).
    public static func parse(
        _ text: String, file: String, baseDirectory: String = ".", format: Format? = nil, checkFiles: Bool = true
    ) throws(TaskFileError) -> TaskSpec {
        let fmt = format ?? Format.detect(file: file, text: text)
        let root: DocTable
        switch fmt {
        case .toml:
            root = try TOMLParser.parse(text, file: file)
        case .json:
            let v = try JSONDocumentParser.parse(text, file: file)
            guard let t = v.table else {
                throw TaskFileError([TaskProblem(file: file, line: v.line, field: nil, message: "a JSON task file must be an object, not \(v.typeName)")])
            }
            root = t
        }
        var v = TaskValidator(file: file, format: fmt, baseDirectory: baseDirectory, checkFiles: checkFiles)
        let spec = v.validate(root)
        if !v.problems.isEmpty { throw TaskFileError(v.sortedProblems) }
        return spec!
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count), cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
func closest(_ word: String, in candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(word.lowercased(), c.lowercased())
        if best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
    }
    guard let (c, d) = best, d <= max(2, word.count / 3) else { return nil }
    return c
}

/// Walks a parsed task file and builds a `TaskSpec`, collecting every problem.
struct TaskValidator {
    let file: String
    let format: TaskFile.Format
    let baseDirectory: String
    let checkFiles: Bool
    var problems: [TaskProblem] = []
    var warnings: [TaskProblem] = []

    init(file: String, format: TaskFile.Format, baseDirectory: String, checkFiles: Bool) {
        self.file = file
        self.format = format
        self.baseDirectory = baseDirectory
        self.checkFiles = checkFiles
    }

    var sortedProblems: [TaskProblem] {
        problems.enumerated().sorted { a, b in
            (a.element.line ?? 0, a.offset) < (b.element.line ?? 0, b.offset)
        }.map(\.element)
    }

    static let tables = ["workload", "search", "strategy", "budget", "objective", "features"]
    static let topKeys = ["name", "description"] + tables

    // MARK: Reporting

    /// `[search] lr` (TOML) or `search.lr` (JSON); `name` at the top level; `[search]` for a table.
    func field(_ table: String?, _ key: String?) -> String {
        switch (table, key) {
        case (nil, let k?): return k
        case (let t?, nil): return format == .toml ? "[\(t)]" : t
        case (let t?, let k?): return format == .toml ? "[\(t)] \(k)" : "\(t).\(k)"
        case (nil, nil): return ""
        }
    }

    mutating func problem(_ line: Int?, _ table: String?, _ key: String?, _ message: String) {
        let f = field(table, key)
        problems.append(TaskProblem(file: file, line: line, field: f.isEmpty ? nil : f, message: message))
    }

    mutating func problem(_ v: DocValue, _ table: String?, _ key: String?, _ message: String) {
        problem(v.line, table, key, message)
    }

    /// Something accepted that the user should see (returned with the task, not refused).
    mutating func warn(_ line: Int?, _ table: String?, _ key: String?, _ message: String) {
        let f = field(table, key)
        warnings.append(TaskProblem(file: file, line: line, field: f.isEmpty ? nil : f, message: message))
    }

    /// How a key/value pair is written in this format, for "add …" suggestions.
    func assignment(_ key: String, _ value: String) -> String {
        format == .toml ? "\(key) = \(value)" : "\"\(key)\": \(value)"
    }

    mutating func unknownKeys(_ t: DocTable, _ table: String?, known: [String], hint: (String) -> String? = { _ in nil }) {
        for e in t.entries where !known.contains(e.key) {
            if let h = hint(e.key) {
                let name = table == nil && e.value.table != nil && format == .toml ? "[\(e.key)]" : e.key
                problem(e.keyPosition.line, table, name, h)
                continue
            }
            var m = "unknown key"
            if let c = closest(e.key, in: known) { m += "; did you mean '\(c)'?" }
            m += " (known: \(known.sorted().joined(separator: ", ")))"
            problem(e.keyPosition.line, table, e.key, m)
        }
    }

    // MARK: Typed reads (each reports a wrong type and returns nil)

    mutating func string(_ t: DocTable, _ table: String?, _ key: String) -> String? {
        guard let e = t[key] else { return nil }
        guard let s = e.value.string else {
            problem(e.value, table, key, "must be a string, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        return s
    }

    /// An integer; JSON also accepts a float with an integral value (JSON has one number type).
    func asInt(_ v: DocValue) -> Int? {
        if let i = v.integer { return i }
        if format == .json, case .float(let d) = v.kind, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    mutating func int(
        _ t: DocTable, _ table: String?, _ key: String, min lower: Int? = nil, max upper: Int? = nil, what: String? = nil
    ) -> Int? {
        guard let e = t[key] else { return nil }
        guard let i = asInt(e.value) else {
            problem(e.value, table, key, "must be an integer, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        if let lower, i < lower {
            problem(e.value, table, key, "must be ≥ \(lower)" + (what.map { " (\($0))" } ?? "") + ", got \(i)")
            return nil
        }
        if let upper, i > upper {
            problem(e.value, table, key, "must be ≤ \(upper)" + (what.map { " (\($0))" } ?? "") + ", got \(i)")
            return nil
        }
        return i
    }

    mutating func number(_ t: DocTable, _ table: String?, _ key: String) -> Double? {
        guard let e = t[key] else { return nil }
        guard let d = e.value.number else {
            problem(e.value, table, key, "must be a number, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        guard d.isFinite else {
            problem(e.value, table, key, "must be a finite number, got \(e.value.shown)")
            return nil
        }
        return d
    }

    mutating func bool(_ t: DocTable, _ table: String?, _ key: String) -> Bool? {
        guard let e = t[key] else { return nil }
        guard let b = e.value.bool else {
            problem(e.value, table, key, "must be true or false, got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        return b
    }

    mutating func subtable(_ root: DocTable, _ key: String) -> DocTable? {
        guard let e = root[key] else { return nil }
        guard let t = e.value.table else {
            problem(e.value, nil, key, "must be a table ([\(key)]), got \(e.value.typeName) \(e.value.shown)")
            return nil
        }
        return t
    }

    // MARK: Top level

    mutating func validate(_ root: DocTable) -> TaskSpec? {
        unknownKeys(root, nil, known: Self.topKeys) { key in
            if let c = closest(key, in: Self.tables) {
                return "unknown table; did you mean [\(c)]? (tables: \(Self.tables.joined(separator: ", ")))"
            }
            return nil
        }
        var name = string(root, nil, "name")
        if root["name"] == nil {
            problem(1, nil, "name", "missing; every task needs a name, e.g. \(assignment("name", "\"digits-random\""))")
        } else if name?.isEmpty == true {
            problem(root["name"]!.value, nil, "name", "must not be empty")
            name = nil
        }
        let description = string(root, nil, "description")

        let budgetTable = subtable(root, "budget")
        let objectiveTable = subtable(root, "objective")
        let budget = validateBudget(budgetTable, present: root["budget"] != nil)
        // The user's own training (a program, or an external loop): its own keys and metrics.
        let isCommand = Self.userKinds.contains(root["workload"]?.value.table?["kind"]?.value.string ?? "")
        let objective = validateObjective(objectiveTable, isCommand: isCommand)

        var workload: [String: JSONValue]?
        if root["workload"] == nil {
            problem(nil, "workload", nil, "missing table; add [workload] with kind = \"mlp\" (or another kind) and its keys")
        } else if let w = subtable(root, "workload") {
            workload = validateWorkload(w)
        }

        let strategyTable = subtable(root, "strategy")
        let strategyKind = validateStrategyKind(strategyTable)

        var search: SearchSpace?
        if root["search"] == nil {
            problem(nil, "search", nil, isCommand
                ? "missing table; add [search] with your program's hyperparameters, e.g. lr = { log_uniform = [1e-4, 1e-1] }"
                : "missing table; add [search] with at least optimizer = [\"adamw\"] and lr")
        } else if let s = subtable(root, "search") {
            search = validateSearch(s, strategyKind: strategyKind, isCommand: isCommand)
        }

        let strategy = validateStrategy(
            strategyTable, kind: strategyKind, budget: budget, objective: objective, search: search,
            searchTable: root["search"]?.value.table)
        let features = subtable(root, "features").map { validateFeatures($0) }  // TaskFile+Features.swift

        guard let name, let workload, let search, let strategy, let budget, let objective, problems.isEmpty else {
            return nil
        }
        var spec = TaskSpec(
            name: name, description: description, workload: workload, search: search, strategy: strategy,
            budget: budget, objective: objective, baseDirectory: baseDirectory, features: features)
        spec.warnings = warnings
        return spec
    }

    // MARK: [budget]

    mutating func validateBudget(_ t: DocTable?, present: Bool) -> Budget? {
        guard let t else {
            if !present { problem(nil, "budget", nil, "missing table; add [budget] with steps = 2000 (training steps per trial)") }
            return nil
        }
        unknownKeys(t, "budget", known: ["steps", "seed", "segment_steps"])
        var ok = true
        let steps = int(t, "budget", "steps", min: 1, max: Budget.maxSteps, what: "the training steps per trial or member")
        if t["steps"] == nil {
            problem(t.position.line, "budget", "steps", "missing; add \(assignment("steps", "2000")) (training steps per trial or member)")
        }
        if steps == nil { ok = false }
        let seed = int(t, "budget", "seed", min: 0)
        if t["seed"] != nil, seed == nil { ok = false }
        let seg = int(t, "budget", "segment_steps", min: 1, what: "steps between checkpoints")
        if t["segment_steps"] != nil, seg == nil { ok = false }
        guard ok, let steps else { return nil }
        return Budget(steps: steps, seed: UInt64(seed ?? 0), segmentSteps: seg)
    }

    // MARK: [objective]

    /// A metric name as a `tuned:` line can carry it (docs/COMMAND_WORKLOADS.md, "Metric lines").
    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII, first == "_" || CharacterSet.letters.contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-/".unicodeScalars.contains($0)) }
    }

    /// `[objective]`: `metric` (a known metric, or for a command workload any name its program
    /// reports, which then needs `mode`), `mode`, `select`.
    mutating func validateObjective(_ t: DocTable?, isCommand: Bool) -> Objective? {
        guard let t else { return Objective() }
        let tn = "objective"
        unknownKeys(t, tn, known: ["metric", "mode", "select"])
        let known = Objective.Metric.known.map(\.rawValue)
        var metric = Objective.Metric.valLoss
        var ok = true
        if let m = string(t, tn, "metric") {
            if Objective.Metric.known.contains(Objective.Metric(rawValue: m)) {
                metric = Objective.Metric(rawValue: m)
            } else if !isCommand {
                var msg = "unknown metric '\(m)'"
                if let c = closest(m, in: known) { msg += "; did you mean '\(c)'?" }
                problem(t["metric"]!.value, tn, "metric", msg + " (built-in workloads report: \(known.joined(separator: ", ")); a command workload's objective may be any metric its program reports)")
                ok = false
            } else if !Self.isMetricName(m) {
                problem(t["metric"]!.value, tn, "metric", "\"\(m)\" cannot appear on a tuned: line; a metric name starts with a letter or _ and has only letters, digits and _ . - / (e.g. \"val_bleu\")")
                ok = false
            } else {
                metric = Objective.Metric(rawValue: m)
                if let c = closest(m, in: known), editDistance(m, c) <= 2 {
                    warn(t["metric"]!.value.line, tn, "metric", "'\(m)' is not a metric tuned knows; it ranks trials by your program's '\(m)' values. Did you mean '\(c)'?")
                }
                if t["mode"] == nil {
                    var msg = "'\(m)' is your program's own metric, so tuned cannot tell its direction; add \(assignment("mode", "\"max\"")) or \(assignment("mode", "\"min\""))"
                    if let c = closest(m, in: known), c != m { msg += " (or did you mean '\(c)'?)" }
                    problem(t["metric"]!.value, tn, "mode", msg)
                    ok = false
                }
            }
        } else if t["metric"] != nil { ok = false }
        var mode: Objective.Mode?
        if let m = string(t, tn, "mode") {
            if let mm = Objective.Mode(rawValue: m) {
                mode = mm
                if ok, let natural = metric.naturalMode, mm != natural {
                    problem(
                        t["mode"]!.value, tn, "mode",
                        "\"\(m)\" would \(mm == .max ? "maximise" : "minimise") \(metric.rawValue); write mode = \"\(natural.rawValue)\" or leave mode out")
                    ok = false
                }
            } else {
                problem(t["mode"]!.value, tn, "mode", "must be \"min\" or \"max\", got \"\(m)\"")
                ok = false
            }
        } else if t["mode"] != nil { ok = false }
        var select = Objective.Select.final
        if let sv = string(t, tn, "select") {
            if let s = Objective.Select(rawValue: sv) { select = s } else {
                problem(t["select"]!.value, tn, "select", "must be \"final\" (a trial's value is its objective at its last step) or \"best\" (the best value along its curve), got \"\(sv)\"")
                ok = false
            }
        } else if t["select"] != nil { ok = false }
        return ok ? Objective(metric: metric, mode: mode, select: select) : nil
    }

    // MARK: [workload]

    static let dataKeys = [
        "kind", "dataset", "target", "hidden", "activation", "batch_size", "task", "validation_fraction", "split_seed",
        "standardize_targets",
    ]
    /// The keys `AnalyticObjectives.make` accepts per kind (it checks them again when built).
    static let analyticKeys: [String: [String]] = [
        "rosenbrock": ["a", "b", "dimension", "start"],
        "beale": ["start"],
        "quadratic": ["dimension", "condition_number", "rotation_seed", "start"],
        "nqm": ["dimension", "curvatures", "noise", "batch_size", "start"],
    ]
    static let commandKeys = ["kind", "command", "workdir", "env"]
    static var workloadKinds: [String] { WorkloadFactory.kinds + userKinds }
    static var userKinds: [String] { TaskFile.userKinds }

    func resolve(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    mutating func validateWorkload(_ t: DocTable) -> [String: JSONValue]? {
        let tn = "workload"
        guard let kindEntry = t["kind"] else {
            problem(t.position.line, tn, "kind", "missing; add \(assignment("kind", "\"mlp\"")) (known: \(Self.workloadKinds.joined(separator: ", ")))")
            return nil
        }
        guard let kind = string(t, tn, "kind") else { return nil }
        var out = t.json.objectValue ?? [:]
        let before = problems.count
        if WorkloadFactory.kinds.contains(kind), let analytic = Self.analyticKeys[kind] {
            unknownKeys(t, tn, known: ["kind"] + analytic)
            for e in t.entries where e.key != "kind" && analytic.contains(e.key) {
                if e.value.number == nil && e.value.array == nil {
                    problem(e.value, tn, e.key, "must be a number or an array of numbers, got \(e.value.typeName) \(e.value.shown)")
                }
            }
            if problems.count == before {
                do {
                    _ = try WorkloadFactory.make(out, baseDirectory: baseDirectory, context: field(tn, nil), scalar: Double.self)
                } catch let e as WorkloadError {
                    let prefix = field(tn, nil) + ": "
                    let msg = e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
                    problem(t.position.line, tn, nil, msg)
                } catch {
                    problem(t.position.line, tn, nil, "\(error)")
                }
            }
        } else if WorkloadFactory.kinds.contains(kind) {
            unknownKeys(t, tn, known: Self.dataKeys)
            if t["dataset"] == nil {
                problem(t.position.line, tn, "dataset", "missing; kind '\(kind)' needs \(assignment("dataset", "\"path/to/data.csv\"")) (a CSV file with a header row)")
            } else if let d = string(t, tn, "dataset") {
                if d.isEmpty {
                    problem(t["dataset"]!.value, tn, "dataset", "must not be empty")
                } else {
                    let path = resolve(d)
                    var isDir: ObjCBool = false
                    if checkFiles, !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) || isDir.boolValue {
                        let rel = d.hasPrefix("/") ? "" : " (relative paths resolve against the task file's folder, \(resolve(".")))"
                        problem(t["dataset"]!.value, tn, "dataset", "file not found: \(path)\(rel)")
                    }
                    out["dataset"] = .string(path)
                }
            }
            _ = string(t, tn, "target")
            if let h = t["hidden"] {
                if kind != "mlp" {
                    problem(h.keyPosition.line, tn, "hidden", "applies to kind \"mlp\" only; remove it for '\(kind)'")
                } else if let a = h.value.array, !a.isEmpty, a.allSatisfy({ asInt($0).map { $0 >= 1 } ?? false }) {
                } else {
                    problem(h.value, tn, "hidden", "must list positive integer layer widths, e.g. [64] or [128, 64], got \(h.value.shown)")
                }
            }
            if let a = t["activation"] {
                if kind != "mlp" {
                    problem(a.keyPosition.line, tn, "activation", "applies to kind \"mlp\" only; remove it for '\(kind)'")
                } else if let s = string(t, tn, "activation"), !["relu", "tanh", "gelu"].contains(s) {
                    problem(a.value, tn, "activation", "must be relu, tanh or gelu, got \"\(s)\"")
                }
            }
            _ = int(t, tn, "batch_size", min: 1)
            if let s = string(t, tn, "task"), !["classification", "regression"].contains(s) {
                problem(t["task"]!.value, tn, "task", "must be \"classification\" or \"regression\", got \"\(s)\"")
            }
            if let f = number(t, tn, "validation_fraction"), !(f > 0 && f < 1) {
                problem(t["validation_fraction"]!.value, tn, "validation_fraction", "must be in (0, 1), got \(t["validation_fraction"]!.value.shown)")
            }
            _ = int(t, tn, "split_seed", min: 0)
            _ = bool(t, tn, "standardize_targets")
        } else if kind == "command" {
            unknownKeys(t, tn, known: Self.commandKeys)
            if let c = t["command"] {
                if let a = c.value.array, !a.isEmpty, a.allSatisfy({ $0.string != nil }), a[0].string?.isEmpty == false {
                } else {
                    problem(c.value, tn, "command", "must be a non-empty array of strings, e.g. [\"python3\", \"train.py\"]")
                }
            } else {
                problem(t.position.line, tn, "command", "missing; kind \"command\" needs \(assignment("command", "[\"python3\", \"train.py\"]"))")
            }
            if let w = string(t, tn, "workdir") {
                let path = resolve(w)
                var isDir: ObjCBool = false
                if checkFiles, !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) || !isDir.boolValue {
                    problem(t["workdir"]!.value, tn, "workdir", "folder not found: \(path)")
                }
                out["workdir"] = .string(path)
            } else if t["workdir"] == nil {
                out["workdir"] = .string(resolve("."))  // default: the task file's folder
            }
            if let e = t["env"] {
                if let et = e.value.table {
                    for x in et.entries where x.value.string == nil {
                        problem(x.value, tn, "env.\(x.key)", "must be a string, got \(x.value.typeName) \(x.value.shown)")
                    }
                } else {
                    problem(e.value, tn, "env", "must be a table of strings, e.g. { CUDA_VISIBLE_DEVICES = \"\" }")
                }
            }
        } else if kind == "external" {
            // Nothing to run: the submitter's own loop asks for the segments (ask/tell).
            unknownKeys(t, tn, known: ["kind"])
        } else {
            var msg = "unknown workload kind '\(kind)'"
            if let c = closest(kind, in: Self.workloadKinds) { msg += "; did you mean '\(c)'?" }
            problem(kindEntry.value, tn, "kind", msg + " (known: \(Self.workloadKinds.joined(separator: ", ")))")
        }
        return problems.count == before ? out : nil
    }

    // MARK: [strategy]

    static let commonStrategyKeys = ["kind", "hypergradient", "max_retries", "noise_scale_every"]
    static let strategyKeys: [StrategySpec.Kind: [String]] = [
        .random: ["trials"],
        .grid: ["trials", "grid_points"],
        .pbt: [
            "population", "interval", "quantile", "resample_probability", "perturbation_factors", "synchronous", "burn_in",
            "explore_optimizer", "member_seeds", "mutate",
        ],
        .asha: ["trials", "reduction_factor", "grace_period"],
        .batchSweep: ["batch_sizes", "target_loss", "trials", "lr_scaling", "reference_batch_size", "noise_scale"],
    ]

    mutating func validateStrategyKind(_ t: DocTable?) -> StrategySpec.Kind? {
        guard let t else { return .random }
        guard t["kind"] != nil else { return .random }
        guard let k = string(t, "strategy", "kind") else { return nil }
        if let kind = StrategySpec.Kind(rawValue: k) { return kind }
        let known = StrategySpec.Kind.allCases.map(\.rawValue)
        var msg = "unknown strategy '\(k)'"
        if let c = closest(k, in: known) { msg += "; did you mean '\(c)'?" }
        problem(t["kind"]!.value, "strategy", "kind", msg + " (known: \(known.joined(separator: ", ")))")
        return nil
    }

    mutating func validateStrategy(
        _ t: DocTable?, kind: StrategySpec.Kind?, budget: Budget?, objective: Objective?, search: SearchSpace?,
        searchTable: DocTable?
    ) -> StrategySpec? {
        guard let kind else { return nil }
        let tn = "strategy"
        guard let t else { return StrategySpec(kind: .random, trials: StrategySpec.defaultTrials) }
        let before = problems.count
        let mine = Self.commonStrategyKeys + Self.strategyKeys[kind]!
        let all = Set(Self.strategyKeys.values.flatMap { $0 })
        unknownKeys(t, tn, known: mine) { key in
            guard all.contains(key) else { return nil }
            let owners = StrategySpec.Kind.allCases.filter { Self.strategyKeys[$0]!.contains(key) }.map { "\"\($0.rawValue)\"" }
            return "applies to kind = \(owners.joined(separator: " or ")), not \"\(kind.rawValue)\""
        }
        var spec = StrategySpec(kind: kind)
        spec.maxRetries = int(t, tn, "max_retries", min: 0) ?? StrategySpec.defaultMaxRetries
        spec.noiseScaleEvery = int(t, tn, "noise_scale_every", min: 0)

        if let h = t["hypergradient"] {
            if let ht = h.value.table {
                let hn = "hypergradient"
                let known = ["kind", "beta", "lr_min", "lr_max"]
                for e in ht.entries where !known.contains(e.key) {
                    var m = "unknown key"
                    if let c = closest(e.key, in: known) { m += "; did you mean '\(c)'?" }
                    problem(e.keyPosition.line, tn, "\(hn).\(e.key)", m + " (known: \(known.joined(separator: ", ")))")
                }
                var rule = HypergradientSettings.defaultKind
                if let k = ht["kind"] {
                    if let name = k.value.string, let r = HypergradientRule(rawValue: name) {
                        rule = r
                    } else {
                        problem(k.value, tn, "\(hn).kind", "must be \"multiplicative\" (α·(1 − β·cos), unit-free β) or \"additive\" (α + β·h, the reference ports), got \(k.value.typeName) \(k.value.shown)")
                    }
                }
                var beta = number(ht, tn, "beta")
                if ht["beta"] == nil, rule == .multiplicative {
                    beta = HypergradientSettings.defaultMultiplicativeBeta  // unit-free: one β for every optimizer
                } else if ht["beta"] == nil {
                    problem(h.value, tn, "\(hn).beta", "missing; write hypergradient = { beta = 1e-4 } (the additive rule's hypergradient learning rate β > 0) or hypergradient = { kind = \"multiplicative\" } (unit-free β, default \(HypergradientSettings.defaultMultiplicativeBeta))")
                } else if let beta, beta <= 0 {
                    problem(ht["beta"]!.value, tn, "\(hn).beta", "must be > 0, got \(ht["beta"]!.value.shown); leave hypergradient out to switch HD off")
                }
                let lo = number(ht, tn, "lr_min"), hi = number(ht, tn, "lr_max")
                if let lo, lo < 0 { problem(ht["lr_min"]!.value, tn, "\(hn).lr_min", "must be ≥ 0, got \(ht["lr_min"]!.value.shown)") }
                if let hi, hi <= 0 { problem(ht["lr_max"]!.value, tn, "\(hn).lr_max", "must be > 0, got \(ht["lr_max"]!.value.shown)") }
                if let lo, let hi, lo >= hi {
                    problem(ht["lr_max"]!.value, tn, "\(hn).lr_max", "the lr range is empty or inverted (lr_min \(ht["lr_min"]!.value.shown) ≥ lr_max \(ht["lr_max"]!.value.shown))")
                }
                if let beta, beta > 0 { spec.hypergradient = HypergradientSettings(beta: beta, lrMin: lo, lrMax: hi, kind: rule) }
                if searchTable?.keys.contains(where: { $0.hasPrefix("hypergradient_") }) == true {
                    problem(h.keyPosition.line, tn, hn, "is also set in [search] (hypergradient_*); set HD in one place only")
                }
            } else {
                problem(h.value, tn, "hypergradient", "must be a table, e.g. hypergradient = { beta = 1e-4 }, got \(h.value.typeName) \(h.value.shown)")
            }
        }

        let steps = budget?.steps
        switch kind {
        case .random:
            spec.trials = int(t, tn, "trials", min: 1, max: StrategySpec.maxTrials, what: "the number of configurations to try") ?? StrategySpec.defaultTrials
        case .grid:
            spec.trials = int(t, tn, "trials", min: 1, max: StrategySpec.maxTrials, what: "the cap on the number of grid configurations")
            spec.gridPoints = int(t, tn, "grid_points", min: 1, max: StrategySpec.maxGridPoints, what: "points per continuous range") ?? StrategySpec.defaultGridPoints
            if let search, problems.count == before {
                let n = search.gridCount(points: spec.gridPoints)
                if n == 0 {
                    problem(t.position.line, tn, nil, "the grid is empty; give [search] at least one optimizer and non-empty choices")
                } else if n > 100_000, spec.trials == nil {
                    problem(t.position.line, tn, "trials", "the grid has \(n) configurations; lower grid_points or set \(assignment("trials", "N")) to cap it")
                }
            }
        case .pbt:
            var p = PBTSettings(interval: 1)
            if let pop = t["population"] {
                if let n = asInt(pop.value) {
                    if n < 2 {
                        problem(pop.value, tn, "population", "must be ≥ 2 (members exploit each other), got \(n)")
                    } else if n > PBTSettings.maxPopulation {
                        problem(pop.value, tn, "population", "must be ≤ \(PBTSettings.maxPopulation), got \(n)")
                    } else { p.population = n }
                } else { problem(pop.value, tn, "population", "must be an integer, got \(pop.value.typeName) \(pop.value.shown)") }
            }
            if let iv = t["interval"] {
                if let n = asInt(iv.value) {
                    if n < 1 {
                        problem(iv.value, tn, "interval", "must be ≥ 1 (steps between exploit/explore), got \(n)")
                    } else if let steps, n >= steps {
                        problem(iv.value, tn, "interval", "(\(n)) must be smaller than [budget] steps (\(steps)), or no member ever exploits")
                    } else { p.interval = n }
                } else { problem(iv.value, tn, "interval", "must be an integer, got \(iv.value.typeName) \(iv.value.shown)") }
            } else {
                problem(t.position.line, tn, "interval", "missing; pbt needs \(assignment("interval", "100")) (steps between exploit/explore)")
            }
            if let q = number(t, tn, "quantile") {
                if q > 0 && q <= 0.5 { p.quantile = q } else {
                    problem(t["quantile"]!.value, tn, "quantile", "must be in (0, 0.5], got \(t["quantile"]!.value.shown) (the bottom quantile copies the top one)")
                }
            }
            if let r = number(t, tn, "resample_probability") {
                if r >= 0 && r <= 1 { p.resampleProbability = r } else {
                    problem(t["resample_probability"]!.value, tn, "resample_probability", "must be in [0, 1], got \(t["resample_probability"]!.value.shown)")
                }
            }
            if let f = t["perturbation_factors"] {
                if let a = f.value.array, !a.isEmpty, a.allSatisfy({ ($0.number ?? 0) > 0 && $0.number!.isFinite }) {
                    p.perturbationFactors = a.map { $0.number! }
                } else {
                    problem(f.value, tn, "perturbation_factors", "must be a non-empty array of positive numbers, e.g. [0.8, 1.2], got \(f.value.shown)")
                }
            }
            p.synchronous = bool(t, tn, "synchronous") ?? false
            p.exploreOptimizer = bool(t, tn, "explore_optimizer") ?? false
            if let m = string(t, tn, "member_seeds") {
                if m == "distinct" || m == "shared" { p.distinctSeeds = m == "distinct" } else {
                    problem(t["member_seeds"]!.value, tn, "member_seeds", "must be \"shared\" (every member uses the task seed) or \"distinct\" (a seed per member), got \(t["member_seeds"]!.value.shown)")
                }
            }
            if let b = int(t, tn, "burn_in", min: 0) {
                if let steps, b >= steps {
                    problem(t["burn_in"]!.value, tn, "burn_in", "(\(b)) must be smaller than [budget] steps (\(steps))")
                } else { p.burnIn = b }
            }
            if let mv = t["mutate"] {
                p.mutate = mutateKeys(mv.value, search: search, searchTable: searchTable)
            }
            spec.pbt = p
        case .asha:
            spec.trials = int(t, tn, "trials", min: 1, max: StrategySpec.maxTrials, what: "the number of configurations") ?? StrategySpec.defaultTrials
            var a = ASHASettings(gracePeriod: 1)
            if let rf = t["reduction_factor"] {
                if let n = asInt(rf.value) {
                    if n < 2 { problem(rf.value, tn, "reduction_factor", "must be ≥ 2 (keep the top 1/rf at each rung), got \(n)") } else { a.reductionFactor = n }
                } else { problem(rf.value, tn, "reduction_factor", "must be an integer, got \(rf.value.typeName) \(rf.value.shown)") }
            }
            if let g = t["grace_period"] {
                if let n = asInt(g.value) {
                    if n < 1 {
                        problem(g.value, tn, "grace_period", "must be ≥ 1 (steps before the first rung), got \(n)")
                    } else if let steps, n > steps {
                        problem(g.value, tn, "grace_period", "(\(n)) must not exceed [budget] steps (\(steps))")
                    } else { a.gracePeriod = n }
                } else { problem(g.value, tn, "grace_period", "must be an integer, got \(g.value.typeName) \(g.value.shown)") }
            } else if let steps {
                // Default: three rungs below the maximum (Hyperband's s_max = log_rf(R/r) = 3), none near the end.
                a.gracePeriod = ASHASettings.defaultGracePeriod(steps: steps, reductionFactor: a.reductionFactor)
            }
            spec.asha = a
        case .batchSweep:
            spec.trials = int(t, tn, "trials", min: 1, max: StrategySpec.maxTrials, what: "configurations per batch size") ?? 1
            var sizes: [Int]?
            if let bs = t["batch_sizes"] {
                sizes = batchSizes(bs.value)
            } else {
                problem(t.position.line, tn, "batch_sizes", "missing; batch-sweep needs batch_sizes = [32, 64, 128] or { geometric = [16, 1024] }")
            }
            var target: Double?
            if let tl = number(t, tn, "target_loss") {
                if objective?.metric == .valAccuracy {
                    if tl > 0 && tl <= 1 { target = tl } else {
                        problem(t["target_loss"]!.value, tn, "target_loss", "is an accuracy target here (metric = val_accuracy) and must be in (0, 1], got \(t["target_loss"]!.value.shown)")
                    }
                } else if tl > 0 { target = tl } else {
                    problem(t["target_loss"]!.value, tn, "target_loss", "must be > 0, got \(t["target_loss"]!.value.shown)")
                }
            } else if t["target_loss"] == nil {
                problem(t.position.line, tn, "target_loss", "missing; batch-sweep measures steps to reach it, e.g. \(assignment("target_loss", "0.1"))")
            }
            if let e = searchTable?["batch_size"] {
                problem(e.keyPosition.line, "search", "batch_size", "batch-sweep sets batch_size itself from [strategy] batch_sizes; remove it from [search]")
            }
            var rescale = true
            if let m = string(t, tn, "lr_scaling") {
                if m == "noise-scale" || m == "none" { rescale = m == "noise-scale" } else {
                    problem(t["lr_scaling"]!.value, tn, "lr_scaling", "must be \"noise-scale\" (rescale the lr per batch size) or \"none\" (the same lr at every batch size), got \(t["lr_scaling"]!.value.shown)")
                }
            }
            let reference = int(t, tn, "reference_batch_size", min: 1)
            var noise: Double?
            if let n = number(t, tn, "noise_scale") {
                if n > 0 && n.isFinite { noise = n } else {
                    problem(t["noise_scale"]!.value, tn, "noise_scale", "must be a number > 0 (B_noise, in examples), got \(t["noise_scale"]!.value.shown)")
                }
            }
            if let sizes, let n = spec.trials, sizes.count * n > StrategySpec.maxTrials {
                problem(t["trials"]?.value.line ?? t.position.line, tn, "trials", "\(sizes.count) batch sizes × \(n) trials is \(sizes.count * n) trials; at most \(StrategySpec.maxTrials)")
            }
            if let sizes, let target {
                spec.batchSweep = BatchSweepSettings(
                    batchSizes: sizes, targetLoss: target, rescaleLearningRate: rescale, referenceBatchSize: reference,
                    noiseScale: noise)
            }
        }
        return problems.count == before ? spec : nil
    }

    /// PBT's `mutate = ["lr", "dropout"]`: `[search]` keys that explore may change. nil (and
    /// problems) when it is not a list of distinct `[search]` keys.
    mutating func mutateKeys(_ v: DocValue, search: SearchSpace?, searchTable: DocTable?) -> [String]? {
        let tn = "strategy", key = "mutate"
        let searched = (searchTable?.keys ?? []).filter { $0 != "optimizer" }.sorted()
        let listing = searched.isEmpty ? "[search] has no key to mutate" : "searchable keys: \(searched.joined(separator: ", "))"
        guard let a = v.array else {
            problem(v, tn, key, "must be a list of [search] keys, e.g. mutate = [\"lr\", \"dropout\"], got \(v.typeName) \(v.shown) (\(listing))")
            return nil
        }
        var out: [String] = [], ok = true
        for item in a {
            guard let name = item.string else {
                problem(item, tn, key, "lists keys as strings, got \(item.typeName) \(item.shown)")
                ok = false
                continue
            }
            if out.contains(name) {
                problem(item, tn, key, "'\(name)' is listed twice")
                ok = false
            } else if name == "optimizer" {
                problem(item, tn, key, "the optimizer is not mutated through mutate; set explore_optimizer = true to let explore change it")
                ok = false
            } else if !searched.contains(name) {
                var m = "'\(name)' is not a key of [search]"
                if let c = closest(name, in: searched) { m += "; did you mean '\(c)'?" }
                problem(item, tn, key, m + " (\(listing))")
                ok = false
            } else {
                out.append(name)
            }
        }
        return ok && search != nil ? out : nil
    }

    /// `[32, 64, 128]` or `{ geometric = [16, 1024], factor = 2 }` → ascending distinct sizes.
    mutating func batchSizes(_ v: DocValue) -> [Int]? {
        let tn = "strategy", key = "batch_sizes"
        if let a = v.array {
            let ints = a.compactMap { asInt($0) }
            guard !a.isEmpty, ints.count == a.count, ints.allSatisfy({ $0 >= 1 }) else {
                problem(v, tn, key, "must be a non-empty list of positive integers, e.g. [32, 64, 128], got \(v.shown)")
                return nil
            }
            guard Set(ints).count == ints.count else {
                problem(v, tn, key, "lists a batch size twice: \(v.shown)")
                return nil
            }
            return ints.sorted()
        }
        guard let t = v.table else {
            problem(v, tn, key, "must be a list such as [32, 64, 128] or { geometric = [16, 1024], factor = 2 }, got \(v.typeName)")
            return nil
        }
        for e in t.entries where !["geometric", "factor"].contains(e.key) {
            problem(e.keyPosition.line, tn, "\(key).\(e.key)", "unknown key (known: geometric, factor)")
            return nil
        }
        guard let g = t["geometric"]?.value, let ab = g.array, ab.count == 2, let lo = asInt(ab[0]), let hi = asInt(ab[1]) else {
            problem(v, tn, key, "needs geometric = [smallest, largest] with two integers, e.g. { geometric = [16, 1024] }")
            return nil
        }
        var factor = 2
        if let f = t["factor"] {
            guard let n = asInt(f.value), n >= 2 else {
                problem(f.value, tn, "\(key).factor", "must be an integer ≥ 2, got \(f.value.shown)")
                return nil
            }
            factor = n
        }
        guard lo >= 1 else {
            problem(g, tn, "\(key).geometric", "the smallest batch size must be ≥ 1, got \(lo)")
            return nil
        }
        guard lo < hi else {
            problem(g, tn, "\(key).geometric", "range is \(lo == hi ? "empty" : "inverted") (\(lo) \(lo == hi ? "=" : ">") \(hi)); write [smallest, largest]")
            return nil
        }
        var out: [Int] = [], b = lo
        while b <= hi {
            out.append(b)
            let (n, o) = b.multipliedReportingOverflow(by: factor)
            if o { break }
            b = n
        }
        return out
    }

    // MARK: [search]

    enum KeyType { case real, integer, boolean, optimizer, schedule, rule, custom }

    static func keyType(_ key: String) -> KeyType {
        if !SearchSpace.knownKeys.contains(key), key != "optimizer" { return .custom }
        switch key {
        case "optimizer": return .optimizer
        case "batch_size", "ns_steps": return .integer
        case "nesterov", "centered", "amsgrad": return .boolean
        case "schedule": return .schedule
        case "hypergradient_kind": return .rule
        default: return .real
        }
    }

    /// The admissible values of numeric keys, with how to say them.
    static func bounds(_ key: String) -> (ok: (Double) -> Bool, text: String)? {
        switch key {
        case "lr": ({ $0 > 0 }, "> 0")
        case "eps", "hypergradient_lr_max": ({ $0 > 0 }, "> 0")
        case "weight_decay", "hypergradient_beta", "hypergradient_lr_min": ({ $0 >= 0 }, "≥ 0")
        case "beta1", "beta2", "momentum": ({ $0 >= 0 && $0 < 1 }, "in [0, 1)")
        case "dampening", "alpha": ({ $0 >= 0 && $0 <= 1 }, "in [0, 1]")
        case "batch_size", "ns_steps": ({ $0 >= 1 }, "≥ 1")
        default: nil
        }
    }

    static let distributions = ["uniform", "log_uniform", "int_uniform", "int_log_uniform", "choice"]

    /// Names that configurations use for tuned's own purposes and a program's key may not take.
    static let reservedKeys: Set<String> = ["seed", "pbt_exploit"]

    /// A command workload's own `[search]` key: `[a-z_][a-z0-9_.-]*`.
    static func isCustomKeyName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || ("a"..."z").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0) }
    }

    mutating func validateSearch(_ t: DocTable, strategyKind: StrategySpec.Kind?, isCommand: Bool) -> SearchSpace? {
        let tn = "search"
        let before = problems.count
        let known = SearchSpace.knownKeys
        if isCommand {
            // A command workload's program takes keys of its own; tuned passes them through.
            for e in t.entries where !known.contains(e.key) && e.key != "optimizer" {
                if ["grid_points", "trials"].contains(e.key) {
                    problem(e.keyPosition.line, tn, e.key, "belongs in [strategy]; move it there")
                } else if Self.reservedKeys.contains(e.key) {
                    problem(e.keyPosition.line, tn, e.key, "'\(e.key)' is reserved (tuned sets it in every configuration: TUNED_SEED and the member's seed); rename your key, e.g. '\(e.key)_'")
                } else if !Self.isCustomKeyName(e.key) {
                    problem(e.keyPosition.line, tn, e.key, "a program's own key must match [a-z_][a-z0-9_.-]* (lower case, starting with a letter or _), e.g. '\(e.key.lowercased().filter { $0.isLetter || $0.isNumber || "_.-".contains($0) })'")
                } else if let c = closest(e.key, in: known), editDistance(e.key, c) <= 2 {
                    warn(e.keyPosition.line, tn, e.key, "not a key tuned knows; it is passed to your program as is. Did you mean '\(c)'?")
                }
            }
        } else {
            unknownKeys(t, tn, known: Array(known)) { key in
                if ["grid_points", "trials"].contains(key) { return "belongs in [strategy]; move it there" }
                if Self.isCustomKeyName(key), closest(key, in: known) == nil {
                    return "unknown key (a built-in workload takes only the keys tuned knows: \(known.sorted().joined(separator: ", ")); a program's own hyperparameters need [workload] kind = \"command\")"
                }
                return nil
            }
        }
        var optimizers: [String] = []
        var parameters: [String: ParameterDomain] = [:]
        if let e = t["optimizer"] {
            let values: [DocValue]
            switch e.value.kind {
            case .string: values = [e.value]
            case .array(let a): values = a
            case .table(let c):
                if let choice = c["choice"]?.value.array, c.entries.count == 1 { values = choice } else {
                    problem(e.value, tn, "optimizer", "must be a name, a list of names or { choice = [...] }, e.g. [\"sgd\", \"adamw\"]")
                    values = []
                }
            default:
                problem(e.value, tn, "optimizer", "must be a name or a list of names such as [\"sgd\", \"adamw\"], got \(e.value.typeName) \(e.value.shown)")
                values = []
            }
            if case .array(let a) = e.value.kind, a.isEmpty {
                problem(e.value, tn, "optimizer", "the choice list is empty; name at least one optimizer, e.g. [\"adamw\"]")
            }
            let searchable = SearchSpace.searchableOptimizers
            for v in values {
                guard let name = v.string else {
                    problem(v, tn, "optimizer", "optimizer names are strings, got \(v.typeName) \(v.shown)")
                    continue
                }
                if optimizers.contains(name) {
                    problem(v, tn, "optimizer", "'\(name)' is listed twice")
                } else if SearchSpace.wrapperOptimizers.contains(name) {
                    problem(v, tn, "optimizer", "'\(name)' wraps another optimizer and cannot be a search-space point; use [strategy] hypergradient for HD and the schedule key for schedules")
                } else if !searchable.contains(name) {
                    var msg = "unknown optimizer '\(name)'"
                    if let c = closest(name, in: searchable) { msg += "; did you mean '\(c)'?" }
                    problem(v, tn, "optimizer", msg + " (known: \(searchable.joined(separator: ", ")))")
                } else {
                    optimizers.append(name)
                }
            }
        } else if !isCommand {
            problem(t.position.line, tn, "optimizer", "missing; add \(assignment("optimizer", "[\"adamw\"]")) (one name or a list to search over)")
        }

        for e in t.entries where e.key != "optimizer" && (known.contains(e.key) || (isCommand && Self.isCustomKeyName(e.key) && !Self.reservedKeys.contains(e.key) && !["grid_points", "trials"].contains(e.key))) {
            let before = problems.count
            if let d = domain(e, tn) {
                parameters[e.key] = d
            } else if isCommand, known.contains(e.key), problems.count > before {
                // Tuned's keys keep tuned's meaning; a program may mean something else by the name.
                problems[problems.count - 1].message +=
                    " ('\(e.key)' is a key tuned knows; if your program means something else by it, rename it, e.g. 'my_\(e.key)')"
            }
        }

        // Conditional keys: an optimizer key no searched optimizer uses is a mistake.
        if !optimizers.isEmpty {
            for e in t.entries where OptimizerSpec.trialKeys.contains(e.key) && parameters[e.key] != nil {
                let users = optimizers.filter { OptimizerSpec.trialKeysUsed(by: $0).contains(e.key) }
                if users.isEmpty {
                    let any = SearchSpace.searchableOptimizers.filter { OptimizerSpec.trialKeysUsed(by: $0).contains(e.key) }
                    problem(
                        e.keyPosition.line, tn, e.key,
                        "none of the optimizers searched (\(optimizers.joined(separator: ", "))) uses it; remove it or search an optimizer that does (\(any.prefix(6).joined(separator: ", ")))")
                }
            }
        }
        var floatKeys = Set<String>()
        for e in t.entries {
            guard let domain = parameters[e.key] else { continue }
            switch domain {
            case .uniform, .logUniform: floatKeys.insert(e.key)
            case .intUniform, .intLogUniform: break
            case .fixed, .choice:
                if Self.keyType(e.key) == .real { floatKeys.insert(e.key); continue }
                // A program's own key: floats if its numbers were written as floats.
                let values = e.value.table?["choice"]?.value.array ?? [e.value]
                let numbers = values.filter { $0.number != nil }
                if !numbers.isEmpty, numbers.allSatisfy({ if case .float = $0.kind { true } else { false } }) {
                    floatKeys.insert(e.key)
                }
            }
        }
        return problems.count == before ? SearchSpace(optimizers: optimizers, parameters: parameters, floatKeys: floatKeys) : nil
    }

    /// The domain of one `[search]` key, checking its form, type and admissible values.
    mutating func domain(_ e: DocTable.Entry, _ tn: String) -> ParameterDomain? {
        let key = e.key, v = e.value
        let type = Self.keyType(key)
        if type == .schedule, let st = v.table, st["kind"] != nil {
            return checkValue(v, key, tn).map { .fixed($0) }
        }
        if let a = v.array {
            let hint = type == .boolean ? "{ choice = [true, false] }" : "{ choice = [\(a.map(\.shown).joined(separator: ", "))] }"
            let range = type == .real ? " or a range such as { log_uniform = [low, high] }" : ""
            problem(v, tn, key, "a bare list is a choice only for optimizer; write \(key) = \(hint)\(range)")
            return nil
        }
        guard let dt = v.table else {
            return checkValue(v, key, tn).map { .fixed($0) }
        }
        guard dt.entries.count == 1, let form = dt.entries.first else {
            problem(v, tn, key, dt.entries.isEmpty
                ? "an empty table; write a value or one of { uniform = [a, b] }, { log_uniform = [a, b] }, { int_uniform = [a, b] }, { choice = [...] }"
                : "give exactly one distribution, got \(dt.keys.joined(separator: ", "))")
            return nil
        }
        let dist = form.key
        guard Self.distributions.contains(dist) else {
            var m = "unknown distribution '\(dist)'"
            if let c = closest(dist, in: Self.distributions) { m += "; did you mean '\(c)'?" }
            problem(form.keyPosition.line, tn, key, m + " (known: \(Self.distributions.joined(separator: ", ")))")
            return nil
        }
        if dist == "choice" {
            guard let items = form.value.array else {
                problem(form.value, tn, key, "choice must be a list, e.g. { choice = [32, 64, 128] }, got \(form.value.typeName)")
                return nil
            }
            guard !items.isEmpty else {
                problem(form.value, tn, key, "the choice list is empty; list at least one value")
                return nil
            }
            var out: [JSONValue] = []
            var ok = true
            for item in items {
                if let j = checkValue(item, key, tn) { out.append(j) } else { ok = false }
            }
            return ok ? .choice(out) : nil
        }
        // A range.
        guard type == .real || type == .integer || type == .custom else {
            problem(form.value, tn, key, "\(key) is \(type == .boolean ? "true or false" : type == .schedule ? "a schedule table" : "categorical"); use a fixed value or { choice = [...] }, not \(dist)")
            return nil
        }
        if type == .integer, !dist.hasPrefix("int_") {
            problem(form.value, tn, key, "\(key) takes integers; use { int_uniform = [low, high] }, { int_log_uniform = [low, high] } or { choice = [...] }, not \(dist)")
            return nil
        }
        guard let pair = form.value.array, pair.count == 2, let a = pair[0].number, let b = pair[1].number else {
            problem(form.value, tn, key, "\(dist) needs two numbers [low, high], got \(form.value.shown)")
            return nil
        }
        let sa = pair[0].shown, sb = pair[1].shown
        guard a.isFinite, b.isFinite else {
            problem(form.value, tn, key, "\(dist) bounds must be finite, got [\(sa), \(sb)]")
            return nil
        }
        if dist.hasPrefix("int_") {
            guard let ia = asInt(pair[0]), let ib = asInt(pair[1]), abs(ia) < 1 << 52, abs(ib) < 1 << 52 else {
                problem(form.value, tn, key, "\(dist) bounds must be integers, got [\(sa), \(sb)]\(type == .custom ? "; for a real-valued key use { uniform = [\(sa), \(sb)] }" : "")")
                return nil
            }
            guard ia <= ib else {
                problem(form.value, tn, key, "\(dist) range is inverted (\(sa) > \(sb)); write [low, high]")
                return nil
            }
            if dist == "int_log_uniform", ia < 1 {
                problem(form.value, tn, key, "int_log_uniform needs bounds ≥ 1, got \(sa); use int_uniform for a range that includes 0")
                return nil
            }
            if let (ok, text) = Self.bounds(key), !(ok(a) && ok(b)) {
                problem(form.value, tn, key, "must be \(text); the range [\(sa), \(sb)] goes outside")
                return nil
            }
            return dist == "int_log_uniform" ? .intLogUniform(ia, ib) : .intUniform(ia, ib)
        }
        if a > b {
            problem(form.value, tn, key, "\(dist) range is inverted (\(sa) > \(sb)); write [low, high]")
            return nil
        }
        if a == b {
            problem(form.value, tn, key, "\(dist) range is empty (low = high = \(sa)); write a fixed value instead: \(assignment(key, sa))")
            return nil
        }
        if dist == "log_uniform", a <= 0 {
            problem(form.value, tn, key, "log_uniform needs bounds > 0, got \(sa); use uniform for a range that includes 0")
            return nil
        }
        if let (ok, text) = Self.bounds(key) {
            // The upper bound of a half-open range may touch an open limit (beta1 < 1 with uniform [0.8, 1) never draws 1).
            let bOK = ok(b) || (text == "in [0, 1)" && b == 1)
            if !(ok(a) && bOK) {
                problem(form.value, tn, key, "must be \(text); the range [\(sa), \(sb)] goes outside")
                return nil
            }
        }
        return dist == "uniform" ? .uniform(a, b) : .logUniform(a, b)
    }

    /// A fixed value or one choice of `key`: type and admissible range.
    mutating func checkValue(_ v: DocValue, _ key: String, _ tn: String) -> JSONValue? {
        switch Self.keyType(key) {
        case .optimizer:
            return nil  // handled by validateSearch
        case .custom:
            // A program's own key: any number, string or boolean, passed through as written.
            if let d = v.number, !d.isFinite {
                problem(v, tn, key, "must be finite, got \(v.shown)")
                return nil
            }
            guard v.number != nil || v.string != nil || v.bool != nil else {
                problem(v, tn, key, "must be a number, a string or true/false (or a range or { choice = [...] } of them), got \(v.typeName) \(v.shown)")
                return nil
            }
            return v.json
        case .boolean:
            guard v.bool != nil else {
                problem(v, tn, key, "must be true or false, got \(v.typeName) \(v.shown)")
                return nil
            }
            return v.json
        case .rule:
            guard let name = v.string, HypergradientRule(rawValue: name) != nil else {
                problem(v, tn, key, "must be \"additive\" or \"multiplicative\", got \(v.typeName) \(v.shown)")
                return nil
            }
            return v.json
        case .schedule:
            guard v.table != nil else {
                problem(v, tn, key, "must be a schedule table such as { kind = \"cosine\", total_steps = 2000 }, got \(v.typeName) \(v.shown)")
                return nil
            }
            do {
                _ = try Schedule(json: v.json, context: "schedule")
            } catch {
                let m = (error as? OptimizerError)?.message ?? "\(error)"
                problem(v, tn, key, m.hasPrefix("schedule: ") ? String(m.dropFirst(10)) : m)
                return nil
            }
            return v.json
        case .integer:
            guard let i = asInt(v) else {
                problem(v, tn, key, "must be an integer, got \(v.typeName) \(v.shown)")
                return nil
            }
            if let (ok, text) = Self.bounds(key), !ok(Double(i)) {
                problem(v, tn, key, "must be \(text), got \(v.shown)")
                return nil
            }
            return .number(Double(i))
        case .real:
            guard let d = v.number else {
                problem(v, tn, key, "must be a number, got \(v.typeName) \(v.shown)")
                return nil
            }
            guard d.isFinite else {
                problem(v, tn, key, "must be finite, got \(v.shown)")
                return nil
            }
            if let (ok, text) = Self.bounds(key), !ok(d) {
                problem(v, tn, key, "must be \(text), got \(v.shown)")
                return nil
            }
            return .number(d)
        }
    }
}
