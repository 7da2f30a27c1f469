/// A JSON (RFC 8259) parser that keeps the position of every key and value, so that a JSON
/// task file's errors name the line as well as the field path. Duplicate keys are an error
/// (RFC 8259 leaves them undefined; a task file with two `lr`s is a mistake). Numbers
/// without a fraction or exponent are integers, as in TOML.
public struct JSONDocumentParser {
    private let b: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private let file: String
    private var depth = 0

    public static func parse(_ text: String, file: String = "task.json") throws(TaskFileError) -> DocValue {
        var p = JSONDocumentParser(b: Array(text.utf8), file: file)
        if p.b.starts(with: [0xEF, 0xBB, 0xBF]) { p.i = 3; p.lineStart = 3 }
        p.skip()
        let v = try p.value()
        p.skip()
        if p.i < p.b.count { throw p.fail("unexpected '\(p.char(p.b[p.i]))' after the end of the JSON document") }
        return v
    }

    private init(b: [UInt8], file: String) {
        self.b = b
        self.file = file
    }

    private var here: SourcePosition { SourcePosition(line: line, column: i - lineStart + 1) }

    private func fail(_ message: String, at position: SourcePosition? = nil) -> TaskFileError {
        TaskFileError(syntax: message, file: file, at: position ?? here)
    }

    private func char(_ c: UInt8) -> String { c < 0x80 ? String(UnicodeScalar(c)) : "\\u{\(String(c, radix: 16))}" }

    private func peek() -> UInt8? { i < b.count ? b[i] : nil }

    private mutating func skip() {
        while let c = peek() {
            if c == 0x0A { i += 1; line += 1; lineStart = i } else if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 } else { break }
        }
    }

    private mutating func value() throws(TaskFileError) -> DocValue {
        let pos = here
        guard let c = peek() else { throw fail("unexpected end of the document; expected a value") }
        switch c {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth < 200 else { throw fail("nesting deeper than 200 levels") }
            return DocValue(.table(try object()), at: pos)
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth < 200 else { throw fail("nesting deeper than 200 levels") }
            return DocValue(.array(try array()), at: pos)
        case UInt8(ascii: "\""):
            let start = i
            let s = try string()
            return DocValue(.string(s), at: pos, text: String(decoding: b[start..<i], as: UTF8.self))
        default:
            let start = i
            while let d = peek(), (d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x7A) || d == 0x2B || d == 0x2D || d == 0x2E || (d >= 0x41 && d <= 0x5A) {
                i += 1
            }
            let token = String(decoding: b[start..<i], as: UTF8.self)
            if token.isEmpty { throw fail("expected a value, found '\(char(c))'") }
            switch token {
            case "true": return DocValue(.bool(true), at: pos, text: token)
            case "false": return DocValue(.bool(false), at: pos, text: token)
            case "null": return DocValue(.null, at: pos, text: token)
            default: break
            }
            guard Self.isJSONNumber(token) else { throw fail("'\(token)' is not a JSON value", at: pos) }
            if token.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                guard let d = Double(token) else { throw fail("'\(token)' is not a number", at: pos) }
                return DocValue(.float(d), at: pos, text: token)
            }
            guard let n = Int(token) else { throw fail("'\(token)' does not fit in a 64-bit integer", at: pos) }
            return DocValue(.integer(n), at: pos, text: token)
        }
    }

    /// RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    static func isJSONNumber(_ s: String) -> Bool {
        var u = Array(s.utf8)[...]
        let digit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        if u.first == 0x2D { u = u.dropFirst() }
        guard let f = u.first, digit(f) else { return false }
        if f == 0x30 { u = u.dropFirst() } else { while let c = u.first, digit(c) { u = u.dropFirst() } }
        if u.first == 0x2E {
            u = u.dropFirst()
            guard let c = u.first, digit(c) else { return false }
            while let c = u.first, digit(c) { u = u.dropFirst() }
        }
        if u.first == 0x65 || u.first == 0x45 {
            u = u.dropFirst()
            if u.first == 0x2B || u.first == 0x2D { u = u.dropFirst() }
            guard let c = u.first, digit(c) else { return false }
            while let c = u.first, digit(c) { u = u.dropFirst() }
        }
        return u.isEmpty
    }

    private mutating func object() throws(TaskFileError) -> DocTable {
        var t = DocTable(position: here)
        i += 1
        skip()
        if peek() == UInt8(ascii: "}") { i += 1; return t }
        while true {
            skip()
            let kpos = here
            guard peek() == UInt8(ascii: "\"") else {
                if peek() == UInt8(ascii: "}") { throw fail("no trailing comma is allowed before '}'") }
                throw fail("expected a quoted key")
            }
            let key = try string()
            skip()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
            i += 1
            skip()
            let v = try value()
            if let first = t.insert(.init(key: key, keyPosition: kpos, value: v)) {
                throw fail("duplicate key \"\(key)\" (first defined at line \(first.keyPosition.line))", at: kpos)
            }
            skip()
            guard let c = peek() else { throw fail("object opened at line \(t.position.line) is never closed with '}'") }
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return t }
            i -= 1
            throw fail("expected ',' or '}' in the object, found '\(char(c))'")
        }
    }

    private mutating func array() throws(TaskFileError) -> [DocValue] {
        let open = here
        i += 1
        skip()
        var items: [DocValue] = []
        if peek() == UInt8(ascii: "]") { i += 1; return items }
        while true {
            skip()
            if peek() == UInt8(ascii: "]") { throw fail("no trailing comma is allowed before ']'") }
            items.append(try value())
            skip()
            guard let c = peek() else { throw fail("array opened at line \(open.line) is never closed with ']'") }
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return items }
            i -= 1
            throw fail("expected ',' or ']' in the array, found '\(char(c))'")
        }
    }

    private mutating func string() throws(TaskFileError) -> String {
        let open = here
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw fail("string opened at \(open.line):\(open.column) is never closed", at: open) }
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { i -= 1; throw fail("control character in a string; escape it") }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard let e = peek() else { throw fail("unfinished escape sequence") }
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard peek() == UInt8(ascii: "\\"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate \\u\(String(code, radix: 16))")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("\\u escape is not a Unicode scalar value") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("unknown escape '\\\(char(e))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws(TaskFileError) -> UInt32 {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw fail("\\u needs 4 hex digits")
        }
        i += 4
        return v
    }
}
