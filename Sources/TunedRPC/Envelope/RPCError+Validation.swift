/// One problem of a file that does not validate, as `validation failed` (-32001) carries it in
/// `data.problems`: where (file, line, column of a syntax error), which field, what to fix.
public struct ValidationProblem: Sendable, Hashable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, column: Int? = nil, field: String?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `FILE:LINE: field: message` (`FILE:LINE:COLUMN: message` for a syntax error).
    public var text: String {
        var s = file
        if let line {
            s += ":\(line)"
            if field == nil, let column { s += ":\(column)" }
        }
        s += ": "
        if let field { s += field + ": " }
        return s + message
    }

    var value: RPCValue {
        var o: [String: RPCValue] = ["file": .string(file), "message": .string(message)]
        o["line"] = line.map { .int(Int64($0)) }
        o["column"] = column.map { .int(Int64($0)) }
        o["field"] = field.map(RPCValue.string)
        return .object(o)
    }

    init?(_ value: RPCValue) {
        guard case .object(let o) = value, case .string(let file)? = o["file"], case .string(let message)? = o["message"] else { return nil }
        func int(_ key: String) -> Int? { if case .int(let i)? = o[key] { Int(exactly: i) } else { nil } }
        var field: String?
        if case .string(let f)? = o["field"] { field = f }
        self.init(file: file, line: int("line"), column: int("column"), field: field, message: message)
    }
}

extension RPCError {
    /// A file with one or more problems: the message has one line per problem, those with a
    /// line first (in the order given), then those without (a missing table); `data.problems`
    /// has each as `{file, line, column, field, message}` in that order; `data.file`,
    /// `data.line`, `data.field` are those of the first, as for a single problem — so the
    /// message still starts `FILE:LINE:` whenever a problem has a line.
    public static func validationFailed(problems given: [ValidationProblem]) -> RPCError {
        let problems = given.filter { $0.line != nil } + given.filter { $0.line == nil }
        guard let first = problems.first else {
            return .validationFailed("invalid file", file: nil, line: nil, field: nil)
        }
        var e = RPCError.validationFailed(first.message, file: first.file, line: first.line, field: first.field)
        e.message = problems.map(\.text).joined(separator: "\n")
        if case .object(var data)? = e.data {
            data["problems"] = .array(problems.map(\.value))
            e.data = .object(data)
        }
        return e
    }

    /// The problems of a `validation failed` error (`data.problems`); nil for other errors and
    /// for a daemon that sent no list (its `message` is then the one problem).
    public var validationProblems: [ValidationProblem]? {
        guard knownCode == .validationFailed else { return nil }
        guard case .object(let data)? = data else { return nil }
        if case .array(let list)? = data["problems"] {
            let problems = list.compactMap(ValidationProblem.init)
            if problems.count == list.count, !problems.isEmpty { return problems }
        }
        return nil
    }
}
