/// One thing wrong with a task file: where, which field, and what to do about it.
///
/// Rendered as `digits.toml:12: [search] lr: log_uniform range is inverted (1.0 > 1e-4); write [low, high]`
/// (a semantic problem: file, line, field, message) or `digits.toml:3:9: expected '=' after key 'name'`
/// (a syntax problem: file, line, column, message).
public struct TaskProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// The field as the file's format spells it: `[search] lr` (TOML), `search.lr` (JSON);
    /// nil for syntax errors.
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, column: Int? = nil, field: String?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let line {
            s += ":\(line)"
            if field == nil, let column { s += ":\(column)" }
        }
        s += ": "
        if let field { s += "\(field): " }
        return s + message
    }
}

/// Every problem found in a task file, in source order (a syntax error stops parsing, so it
/// comes alone; validation reports all it finds).
public struct TaskFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [TaskProblem]

    public init(_ problems: [TaskProblem]) { self.problems = problems }

    public init(syntax message: String, file: String, at position: SourcePosition) {
        problems = [TaskProblem(file: file, line: position.line, column: position.column, field: nil, message: message)]
    }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
