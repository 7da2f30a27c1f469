import Foundation

/// A TOML 1.0 parser for task files, keeping the position of every key and value.
///
/// Supported: comments; `[table]` and `[a.b]` headers; bare, quoted ("…", '…') and dotted
/// keys; basic strings with every escape (`\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`), literal
/// strings, and their multi-line forms (`"""…"""`, `'''…'''`, with line-ending backslashes);
/// integers (decimal with `_`, `0x`, `0o`, `0b`); floats (fraction, exponent, `inf`, `nan`,
/// signed); booleans; arrays (multi-line, comments inside, trailing comma); inline tables.
///
/// Rejected with a line-numbered error: duplicate keys, a table defined twice, extending an
/// inline table or a table defined elsewhere with dotted keys, arrays of tables (`[[x]]`,
/// which task files do not use), and dates/times (no task-file key takes one). The first
/// syntax error stops the parse.
public struct TOMLParser {
    private let b: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private let file: String

    /// Parses `text`; `file` names the file in error messages.
    public static func parse(_ text: String, file: String = "task.toml") throws(TaskFileError) -> DocTable {
        var p = TOMLParser(bytes: Array(text.utf8), file: file)
        return try p.document()
    }

    private init(bytes: [UInt8], file: String) {
        b = bytes
        self.file = file
    }

    // MARK: Building tables

    /// A table while the document is read; frozen into a `DocTable` at the end.
    private final class Node {
        enum Origin { case root, implicit, header, dotted, inline }
        enum Child {
            case value(DocValue)
            case table(Node)
        }
        var origin: Origin
        var position: SourcePosition
        var keys: [(key: String, position: SourcePosition, child: Child)] = []
        var index: [String: Int] = [:]

        init(_ origin: Origin, at position: SourcePosition) {
            self.origin = origin
            self.position = position
        }

        func child(_ key: String) -> (key: String, position: SourcePosition, child: Child)? {
            index[key].map { keys[$0] }
        }

        func add(_ key: String, _ position: SourcePosition, _ child: Child) {
            index[key] = keys.count
            keys.append((key, position, child))
        }

        func freeze() -> DocTable {
            var t = DocTable(position: position)
            for (key, pos, child) in keys {
                let value: DocValue
                switch child {
                case .value(let v): value = v
                case .table(let n): value = DocValue(.table(n.freeze()), at: n.position)
                }
                t.insert(.init(key: key, keyPosition: pos, value: value))
            }
            return t
        }
    }

    private func fail(_ message: String, at position: SourcePosition? = nil) -> TaskFileError {
        TaskFileError(syntax: message, file: file, at: position ?? here)
    }

    private var here: SourcePosition { SourcePosition(line: line, column: i - lineStart + 1) }

    private func dotted(_ path: [(String, SourcePosition)]) -> String {
        path.map { key in
            key.0.utf8.allSatisfy(Self.isBare) && !key.0.isEmpty ? key.0 : "\"\(key.0)\""
        }.joined(separator: ".")
    }

    /// `[a.b.c]`: walks/creates a and b, defines c.
    private func defineHeader(_ root: Node, _ path: [(String, SourcePosition)]) throws(TaskFileError) -> Node {
        var node = root
        for (k, (key, pos)) in path.enumerated() {
            let last = k == path.count - 1
            let name = dotted(Array(path[...k]))
            if let existing = node.child(key) {
                guard case .table(let t) = existing.child else {
                    if case .value(let v) = existing.child, v.table != nil {
                        throw fail("'\(name)' is an inline table (line \(existing.position.line)); inline tables cannot be extended", at: pos)
                    }
                    throw fail("'\(name)' is already a value (line \(existing.position.line)); it cannot also be a table", at: pos)
                }
                if t.origin == .inline {
                    throw fail("'\(name)' is an inline table (line \(t.position.line)); inline tables cannot be extended", at: pos)
                }
                if last {
                    switch t.origin {
                    case .implicit:
                        t.origin = .header
                        t.position = pos
                    case .header:
                        throw fail("table [\(name)] is defined twice (first at line \(t.position.line))", at: pos)
                    default:
                        throw fail("table [\(name)] was already defined with dotted keys at line \(t.position.line)", at: pos)
                    }
                }
                node = t
            } else {
                let t = Node(last ? .header : .implicit, at: pos)
                node.add(key, pos, .table(t))
                node = t
            }
        }
        return node
    }

    /// `a.b.c = value` inside `table`.
    private func assign(_ table: Node, _ path: [(String, SourcePosition)], _ value: DocValue) throws(TaskFileError) {
        var node = table
        for (k, (key, pos)) in path.enumerated() {
            let name = dotted(Array(path[...k]))
            if k == path.count - 1 {
                if let existing = node.child(key) {
                    throw fail("duplicate key '\(name)' (first defined at line \(existing.position.line))", at: pos)
                }
                node.add(key, pos, .value(value))
                return
            }
            if let existing = node.child(key) {
                guard case .table(let t) = existing.child else {
                    if case .value(let v) = existing.child, v.table != nil {
                        throw fail("'\(name)' is an inline table (line \(existing.position.line)); inline tables cannot be extended", at: pos)
                    }
                    throw fail("'\(name)' is already a value (line \(existing.position.line)); it cannot also be a table", at: pos)
                }
                guard t.origin == .dotted else {
                    throw fail("table '\(name)' is defined at line \(t.position.line); it cannot be extended with dotted keys here", at: pos)
                }
                node = t
            } else {
                let t = Node(.dotted, at: pos)
                node.add(key, pos, .table(t))
                node = t
            }
        }
    }

    // MARK: Document

    private mutating func document() throws(TaskFileError) -> DocTable {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3; lineStart = 3 }
        let root = Node(.root, at: SourcePosition(line: 1, column: 1))
        var current = root
        while true {
            skipSpaces()
            guard let c = peek() else { break }
            switch c {
            case UInt8(ascii: "#"): try comment()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): try newline()
            case UInt8(ascii: "["):
                if peek(1) == UInt8(ascii: "[") {
                    throw fail("arrays of tables ([[…]]) are not used in task files; use a table or an array of inline tables")
                }
                i += 1
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard peek() == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                i += 1
                current = try defineHeader(root, path)
                try endOfLine()
            default:
                try keyValue(into: current)
                try endOfLine()
            }
        }
        return root.freeze()
    }

    private mutating func keyValue(into table: Node) throws(TaskFileError) {
        let path = try key()
        skipSpaces()
        guard peek() == UInt8(ascii: "=") else {
            if peek() == nil || isNewline(peek()!) {
                throw fail("expected '=' after key '\(dotted(path))'")
            }
            throw fail("expected '=' after key '\(dotted(path))', found '\(char(peek()!))'")
        }
        i += 1
        skipSpaces()
        let v = try value()
        try assign(table, path, v)
    }

    // MARK: Lexing helpers

    private func peek(_ k: Int = 0) -> UInt8? { i + k < b.count ? b[i + k] : nil }

    private func char(_ c: UInt8) -> String {
        c < 0x80 ? String(UnicodeScalar(c)) : "\\u{\(String(c, radix: 16))}"
    }

    private func isNewline(_ c: UInt8) -> Bool { c == 0x0A || c == 0x0D }

    static func isBare(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == 0x20 || c == 0x09 { i += 1 }
    }

    private mutating func newline() throws(TaskFileError) {
        if peek() == 0x0D {
            guard peek(1) == 0x0A else { throw fail("a carriage return must be followed by a line feed") }
            i += 1
        }
        i += 1
        line += 1
        lineStart = i
    }

    private mutating func comment() throws(TaskFileError) {
        while let c = peek(), !isNewline(c) {
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("control character in a comment") }
            i += 1
        }
    }

    /// Spaces, then an optional comment, then a newline or the end.
    private mutating func endOfLine() throws(TaskFileError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") { try comment() }
        guard let c = peek() else { return }
        guard isNewline(c) else { throw fail("expected the end of the line, found '\(char(c))'") }
        try newline()
    }

    /// Whitespace, newlines and comments (inside arrays).
    private mutating func skipBlank() throws(TaskFileError) {
        while let c = peek() {
            if c == 0x20 || c == 0x09 { i += 1 } else if isNewline(c) { try newline() } else if c == UInt8(ascii: "#") {
                try comment()
            } else { break }
        }
    }

    // MARK: Keys

    private mutating func key() throws(TaskFileError) -> [(String, SourcePosition)] {
        var parts: [(String, SourcePosition)] = []
        while true {
            skipSpaces()
            let pos = here
            switch peek() {
            case UInt8(ascii: "\"")?:
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    throw fail("a key cannot be a multi-line string")
                }
                parts.append((try basicString(), pos))
            case UInt8(ascii: "'")?:
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    throw fail("a key cannot be a multi-line string")
                }
                parts.append((try literalString(), pos))
            default:
                let start = i
                while let c = peek(), Self.isBare(c) { i += 1 }
                guard i > start else {
                    if let c = peek(), !isNewline(c) { throw fail("expected a key, found '\(char(c))'") }
                    throw fail("expected a key")
                }
                parts.append((String(decoding: b[start..<i], as: UTF8.self), pos))
            }
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else { return parts }
            i += 1
        }
    }

    // MARK: Values

    private mutating func value() throws(TaskFileError) -> DocValue {
        let pos = here
        let start = i
        guard let c = peek() else { throw fail("expected a value after '='") }
        func made(_ kind: DocValue.Kind) -> DocValue {
            DocValue(kind, at: pos, text: String(decoding: b[start..<i], as: UTF8.self))
        }
        switch c {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                return made(.string(try multilineString(literal: false)))
            }
            return made(.string(try basicString()))
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                return made(.string(try multilineString(literal: true)))
            }
            return made(.string(try literalString()))
        case UInt8(ascii: "["):
            return DocValue(.array(try array()), at: pos)
        case UInt8(ascii: "{"):
            return DocValue(.table(try inlineTable()), at: pos)
        default:
            if isNewline(c) || c == UInt8(ascii: "#") { throw fail("expected a value after '='") }
            return try scalar(pos)
        }
    }

    private mutating func scalar(_ pos: SourcePosition) throws(TaskFileError) -> DocValue {
        let start = i
        while let c = peek(), Self.isBare(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") {
            i += 1
        }
        // "1979-05-27 07:32:00": a space-separated date-time continues after the space.
        let token = String(decoding: b[start..<i], as: UTF8.self)
        guard !token.isEmpty else { throw fail("expected a value, found '\(char(b[i]))'") }
        func v(_ kind: DocValue.Kind) -> DocValue { DocValue(kind, at: pos, text: token) }
        switch token {
        case "true": return v(.bool(true))
        case "false": return v(.bool(false))
        case "inf", "+inf": return v(.float(.infinity))
        case "-inf": return v(.float(-.infinity))
        case "nan", "+nan", "-nan": return v(.float(.nan))
        default: break
        }
        let u = Array(token.utf8)
        let isDigit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        if token.contains(":") || (u.count >= 5 && u[0..<4].allSatisfy(isDigit) && u[4] == UInt8(ascii: "-")) {
            throw fail("dates and times ('\(token)') are not supported in task files; write the value as a string", at: pos)
        }
        if token.hasPrefix("0x") || token.hasPrefix("0o") || token.hasPrefix("0b") {
            let radix = token.hasPrefix("0x") ? 16 : token.hasPrefix("0o") ? 8 : 2
            let digits = String(token.dropFirst(2))
            guard let clean = underscoresRemoved(digits), let n = Int(clean, radix: radix) else {
                throw fail("'\(token)' is not a valid integer", at: pos)
            }
            return v(.integer(n))
        }
        let first = u[0]
        guard isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else {
            if first == UInt8(ascii: "T") || first == UInt8(ascii: "F") || first == UInt8(ascii: "N") || first == UInt8(ascii: "I") {
                throw fail("'\(token)' is not a TOML value (booleans are lowercase: true, false; inf and nan too)", at: pos)
            }
            throw fail("'\(token)' is not a value; strings need quotes: \"\(token)\"", at: pos)
        }
        let isFloat = u.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        guard let clean = underscoresRemoved(token) else {
            throw fail("'\(token)': an underscore must be between two digits", at: pos)
        }
        // Leading zeros are not allowed in the integer part.
        var body = Substring(clean)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        let intPart = body.prefix { $0.isASCII && $0.isNumber }
        if intPart.isEmpty { throw fail("'\(token)' is not a number", at: pos) }
        if intPart.count > 1, intPart.first == "0" { throw fail("'\(token)': leading zeros are not allowed", at: pos) }
        if isFloat {
            let rest = body.dropFirst(intPart.count)
            var r = rest[...]
            if r.first == "." {
                r = r.dropFirst()
                let frac = r.prefix { $0.isASCII && $0.isNumber }
                guard !frac.isEmpty else { throw fail("'\(token)': a decimal point must be followed by digits", at: pos) }
                r = r.dropFirst(frac.count)
            }
            if r.first == "e" || r.first == "E" {
                r = r.dropFirst()
                if r.first == "+" || r.first == "-" { r = r.dropFirst() }
                let exp = r.prefix { $0.isASCII && $0.isNumber }
                guard !exp.isEmpty else { throw fail("'\(token)': an exponent needs digits", at: pos) }
                r = r.dropFirst(exp.count)
            }
            guard r.isEmpty, let d = Double(clean) else { throw fail("'\(token)' is not a valid float", at: pos) }
            return v(.float(d))
        }
        guard body.count == intPart.count else { throw fail("'\(token)' is not a valid number", at: pos) }
        guard let n = Int(clean) else { throw fail("'\(token)' does not fit in a 64-bit integer", at: pos) }
        return v(.integer(n))
    }

    /// The token without underscores, or nil if an underscore is not between two digits.
    private func underscoresRemoved(_ s: String) -> String? {
        let u = Array(s.utf8)
        for (k, c) in u.enumerated() where c == UInt8(ascii: "_") {
            guard k > 0, k < u.count - 1, Self.isHexDigit(u[k - 1]), Self.isHexDigit(u[k + 1]) else { return nil }
        }
        return s.replacingOccurrences(of: "_", with: "")
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    private mutating func array() throws(TaskFileError) -> [DocValue] {
        let open = here
        i += 1
        var items: [DocValue] = []
        while true {
            try skipBlank()
            guard let c = peek() else { throw fail("array opened at line \(open.line) is never closed with ']'") }
            if c == UInt8(ascii: "]") { i += 1; return items }
            items.append(try value())
            try skipBlank()
            guard let d = peek() else { throw fail("array opened at line \(open.line) is never closed with ']'") }
            if d == UInt8(ascii: ",") { i += 1; continue }
            if d == UInt8(ascii: "]") { i += 1; return items }
            throw fail("expected ',' or ']' in the array, found '\(char(d))'")
        }
    }

    private mutating func inlineTable() throws(TaskFileError) -> DocTable {
        let open = here
        i += 1
        let node = Node(.inline, at: open)
        skipSpaces()
        if peek() == UInt8(ascii: "}") { i += 1; return node.freeze() }
        while true {
            skipSpaces()
            if let c = peek(), isNewline(c) {
                throw fail("an inline table must be on one line (opened at line \(open.line)); use a [table] for more")
            }
            if peek() == UInt8(ascii: "}") { throw fail("no trailing comma is allowed in an inline table") }
            try keyValue(into: node)
            skipSpaces()
            guard let c = peek() else { throw fail("inline table opened at \(open.line):\(open.column) is never closed with '}'") }
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == UInt8(ascii: "}") { i += 1; return node.freeze() }
            if isNewline(c) {
                throw fail("an inline table must be on one line (opened at line \(open.line)); use a [table] for more")
            }
            throw fail("expected ',' or '}' in the inline table, found '\(char(c))'")
        }
    }

    // MARK: Strings

    private mutating func basicString() throws(TaskFileError) -> String {
        let open = here
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek(), !isNewline(c) else {
                throw fail("string opened at column \(open.column) is not closed on its line", at: open)
            }
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
                continue
            }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("control character in a string; escape it") }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func literalString() throws(TaskFileError) -> String {
        let open = here
        i += 1
        let start = i
        while true {
            guard let c = peek(), !isNewline(c) else {
                throw fail("string opened at column \(open.column) is not closed on its line", at: open)
            }
            if c == UInt8(ascii: "'") { break }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("control character in a literal string") }
            i += 1
        }
        defer { i += 1 }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    private mutating func escape(into out: inout [UInt8]) throws(TaskFileError) {
        let pos = here
        i += 1
        guard let e = peek() else { throw fail("unfinished escape sequence", at: pos) }
        i += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard i + n <= b.count, let code = UInt32(String(decoding: b[i..<(i + n)], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw fail("\\\(char(e)) needs \(n) hex digits naming a Unicode scalar value", at: pos) }
            i += n
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw fail("unknown escape '\\\(char(e))' (use \\\\ for a backslash, or a 'literal string')", at: pos)
        }
    }

    private mutating func multilineString(literal: Bool) throws(TaskFileError) -> String {
        let open = here
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        i += 3
        if peek() == 0x0A || (peek() == 0x0D && peek(1) == 0x0A) { try newline() }
        var out: [UInt8] = []
        while true {
            guard let c = peek() else {
                throw fail("multi-line string opened at line \(open.line) is never closed", at: open)
            }
            if c == quote, peek(1) == quote, peek(2) == quote {
                // Up to two quotes may directly precede the closing delimiter.
                var extra = 0
                while extra < 2, peek(3 + extra) == quote { extra += 1 }
                out.append(contentsOf: Array(repeating: quote, count: extra))
                i += 3 + extra
                break
            }
            if isNewline(c) {
                if c == 0x0D { out.append(0x0D) }
                try newline()
                out.append(0x0A)
                continue
            }
            if !literal, c == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and the whitespace that follows.
                var k = i + 1
                while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
                if k < b.count, isNewline(b[k]) {
                    i = k
                    while let d = peek(), d == 0x20 || d == 0x09 || isNewline(d) {
                        if isNewline(d) { try newline() } else { i += 1 }
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("control character in a string") }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
