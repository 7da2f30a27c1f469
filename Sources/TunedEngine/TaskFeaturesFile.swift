/// Reading a task-features file (TOML or JSON, flat; docs/META.md) into a `TaskDescription`.
///
/// Every problem is reported, each naming file, line and key and saying what to write:
/// `features.toml:4: parameter_count: must be an integer ≥ 1, got -3`. Unknown keys are errors
/// (with the closest known key suggested); missing keys are not.
public enum TaskFeaturesFile {
    public static let taskTypes = ["classification", "regression", "optimization"]

    /// Parses and validates features-file text; `file` names it in messages.
    public static func parse(_ text: String, file: String) throws(TaskFileError) -> TaskDescription {
        let root: DocTable
        switch TaskFile.Format.detect(file: file, text: text) {
        case .toml:
            root = try TOMLParser.parse(text, file: file)
        case .json:
            let v = try JSONDocumentParser.parse(text, file: file)
            guard let t = v.table else {
                throw TaskFileError([
                    TaskProblem(
                        file: file, line: v.line, field: nil,
                        message: "a JSON features file must be an object, not \(v.typeName)")
                ])
            }
            root = t
        }
        let (d, problems) = validate(root, file: file)
        if !problems.isEmpty {
            throw TaskFileError(problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        return d
    }

    /// Validates a features table — a features file's root, or a task file's `[features]` —
    /// and returns the description and every problem. `field` names a key in messages
    /// (`[features] depth` in a task file).
    public static func validate(
        _ root: DocTable, file: String, field: (String) -> String = { $0 }
    ) -> (TaskDescription, [TaskProblem]) {
        var problems: [TaskProblem] = []
        var d = TaskDescription()
        func problem(_ e: DocTable.Entry, _ message: String) {
            problems.append(TaskProblem(file: file, line: e.value.line, field: field(e.key), message: message))
        }
        // Sizes travel as JSON numbers (doubles) to the daemon: at most 10¹⁵, exact there.
        func int(_ e: DocTable.Entry, min: Int) -> Int? {
            var value = e.value.integer
            if value == nil, let x = e.value.number, x == x.rounded(), abs(x) <= 1e15 { value = Int(x) }
            guard let i = value, i >= min, i <= 1_000_000_000_000_000 else {
                problem(e, "must be an integer in [\(min), 10^15], got \(e.value.shown)")
                return nil
            }
            return i
        }
        func number(_ e: DocTable.Entry, _ ok: (Double) -> Bool, _ what: String) -> Double? {
            guard let x = e.value.number, x.isFinite, ok(x) else {
                problem(e, "must be \(what), got \(e.value.shown)")
                return nil
            }
            return x
        }
        for e in root.entries {
            guard let key = TaskDescription.CodingKeys(rawValue: e.key) else {
                let hint = closest(e.key, in: TaskDescription.keys).map { "; did you mean '\($0)'?" } ?? ""
                problem(
                    e, "unknown key\(hint) (known keys: \(TaskDescription.keys.joined(separator: ", ")))")
                continue
            }
            switch key {
            case .modelKind:
                if let s = e.value.string, TaskDescription.modelKinds.contains(s) { d.modelKind = s } else {
                    let hint = e.value.string.flatMap { closest($0, in: TaskDescription.modelKinds) }.map { "did you mean \"\($0)\"? " } ?? ""
                    problem(
                        e, "\(hint)must be one of \(TaskDescription.modelKinds.map { "\"\($0)\"" }.joined(separator: ", ")) "
                            + "(the kinds the policy's features tell apart; leave model_kind out for another kind), got \(e.value.shown)")
                }
            case .taskType:
                if let s = e.value.string, taskTypes.contains(s) { d.taskType = s } else {
                    problem(e, "must be one of \(taskTypes.map { "\"\($0)\"" }.joined(separator: ", ")), got \(e.value.shown)")
                }
            case .parameterCount: d.parameterCount = int(e, min: 1)
            case .depth: d.depth = int(e, min: 1)
            case .widestLayer: d.widestLayer = int(e, min: 1)
            case .datasetSize: d.datasetSize = int(e, min: 1)
            case .inputSize: d.inputSize = int(e, min: 1)
            case .outputSize: d.outputSize = int(e, min: 1)
            case .batchSize: d.batchSize = int(e, min: 1)
            case .stepBudget: d.stepBudget = int(e, min: 1)
            case .matrixParameterFraction:
                d.matrixParameterFraction = number(e, { $0 >= 0 && $0 <= 1 }, "a number in [0, 1]")
            case .optimizerMemoryBytesPerParameter:
                d.optimizerMemoryBytesPerParameter = number(e, { $0 >= 0 }, "a number ≥ 0 (bytes per parameter)")
            case .gradientNoiseScale:
                d.gradientNoiseScale = number(e, { $0 > 0 && $0 <= 1e15 }, "a number in (0, 10^15] (examples)")
            }
        }
        if let b = d.batchSize, let n = d.datasetSize, b > n, let e = root[TaskDescription.CodingKeys.batchSize.rawValue] {
            problem(e, "batch size \(b) exceeds dataset_size \(n); use at most \(n)")
        }
        if let w = d.widestLayer, let p = d.parameterCount, w > p, let e = root[TaskDescription.CodingKeys.widestLayer.rawValue] {
            problem(e, "widest layer \(w) exceeds parameter_count \(p); check both")
        }
        return (d, problems)
    }

    /// The known key nearest to `word` by edit distance, if it is close (≤ 3 edits).
    static func closest(_ word: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let keep = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = keep
                }
            }
            return a.isEmpty ? b.count : row[b.count]
        }
        let w = Array(word.lowercased())
        let scored = candidates.map { ($0, distance(w, Array($0))) }.min { $0.1 < $1.1 }
        return scored.flatMap { $0.1 <= 3 ? $0.0 : nil }
    }
}
