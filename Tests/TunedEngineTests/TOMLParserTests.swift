import Foundation
import Testing
import TunedOptim

@testable import TunedEngine

struct TOMLCase: Sendable, CustomStringConvertible {
    var name: String
    var text: String
    var expected: JSONValue
    var description: String { name }
}

struct TOMLErrorCase: Sendable, CustomStringConvertible {
    var name: String
    var text: String
    var line: Int
    var column: Int
    var mentions: String
    var description: String { name }
}

@Suite struct TOMLParserTests {
    static let valid: [TOMLCase] = [
        TOMLCase(name: "comments and blank lines", text: "# top\n\na = 1 # trailing\n\n# end", expected: .object(["a": .number(1)])),
        TOMLCase(name: "tables and nested headers", text: "[a]\nx = 1\n[a.b]\ny = 2\n[c]\n", expected: .object([
            "a": .object(["x": .number(1), "b": .object(["y": .number(2)])]), "c": .object([:]),
        ])),
        TOMLCase(name: "implicit parent defined later", text: "[a.b]\ny = 2\n[a]\nx = 1", expected: .object([
            "a": .object(["x": .number(1), "b": .object(["y": .number(2)])]),
        ])),
        TOMLCase(name: "bare, quoted and dotted keys", text: "bare-key_1 = 1\n\"quoted key\" = 2\n'lit.key' = 3\na . b.c = 4\na.d = 5",
            expected: .object([
                "bare-key_1": .number(1), "quoted key": .number(2), "lit.key": .number(3),
                "a": .object(["b": .object(["c": .number(4)]), "d": .number(5)]),
            ])),
        TOMLCase(name: "basic string escapes", text: #"s = "tab\tnl\nq\"bs\\u\u00e9U\U0001F600""#,
            expected: .object(["s": .string("tab\tnl\nq\"bs\\u\u{e9}U\u{1F600}")])),
        TOMLCase(name: "literal string keeps backslashes", text: #"p = 'C:\data\x.csv'"#, expected: .object(["p": .string(#"C:\data\x.csv"#)])),
        TOMLCase(name: "multi-line basic string", text: "s = \"\"\"\nline1\nline2 \\\n    joined\"\"\"", expected: .object(["s": .string("line1\nline2 joined")])),
        TOMLCase(name: "multi-line literal string", text: "s = '''\nraw \\n\n'''", expected: .object(["s": .string("raw \\n\n")])),
        TOMLCase(name: "integers", text: "a = 42\nb = -17\nc = +3\nd = 1_000_000\ne = 0xff\nf = 0o17\ng = 0b101\nh = 0",
            expected: .object([
                "a": .number(42), "b": .number(-17), "c": .number(3), "d": .number(1_000_000), "e": .number(255),
                "f": .number(15), "g": .number(5), "h": .number(0),
            ])),
        TOMLCase(name: "floats", text: "a = 1.5\nb = -0.25\nc = 1e-4\nd = 6.02E+23\ne = 1_000.5\nf = inf\ng = -inf\nh = 3e2",
            expected: .object([
                "a": .number(1.5), "b": .number(-0.25), "c": .number(1e-4), "d": .number(6.02e23), "e": .number(1000.5),
                "f": .number(.infinity), "g": .number(-.infinity), "h": .number(300),
            ])),
        TOMLCase(name: "booleans", text: "t = true\nf = false", expected: .object(["t": .bool(true), "f": .bool(false)])),
        TOMLCase(name: "arrays, multi-line with comments and trailing comma", text: "a = [\n  1, # one\n  2,\n  [\"x\", 'y'],\n]\ne = []",
            expected: .object([
                "a": .array([.number(1), .number(2), .array([.string("x"), .string("y")])]), "e": .array([]),
            ])),
        TOMLCase(name: "inline tables", text: "lr = { log_uniform = [1e-4, 1.0] }\nhd = { beta = 1e-4, x.y = true }\ne = {}",
            expected: .object([
                "lr": .object(["log_uniform": .array([.number(1e-4), .number(1)])]),
                "hd": .object(["beta": .number(1e-4), "x": .object(["y": .bool(true)])]), "e": .object([:]),
            ])),
        TOMLCase(name: "CRLF line endings", text: "a = 1\r\n[b]\r\nc = \"x\"\r\n", expected: .object(["a": .number(1), "b": .object(["c": .string("x")])])),
        TOMLCase(name: "whitespace around header and key", text: "[ a . b ]\n  k   =   'v'  ", expected: .object(["a": .object(["b": .object(["k": .string("v")])])])),
    ]

    @Test(arguments: valid)
    func parsesValidDocument(_ c: TOMLCase) throws {
        let doc = try TOMLParser.parse(c.text)
        #expect(doc.json == .object(c.expected.objectValue!))
    }

    @Test func nanParsesAsNaN() throws {
        let doc = try TOMLParser.parse("a = nan\nb = -nan")
        #expect(doc["a"]?.value.number?.isNaN == true)
        #expect(doc["b"]?.value.number?.isNaN == true)
    }

    @Test func integersAndFloatsStayDistinct() throws {
        let doc = try TOMLParser.parse("i = 3\nf = 3.0")
        #expect(doc["i"]?.value.integer == 3)
        #expect(doc["f"]?.value.kind == .float(3))
    }

    @Test func everyKeyAndValueCarriesItsPosition() throws {
        let doc = try TOMLParser.parse("name = \"x\"\n\n[search]\n  lr = { log_uniform = [1e-4, 1.0] }\nopt = [\n  \"sgd\",\n  \"adamw\"]\n")
        let search = try #require(doc["search"]?.value.table)
        #expect(doc["name"]?.keyPosition == SourcePosition(line: 1, column: 1))
        #expect(doc["name"]?.value.position == SourcePosition(line: 1, column: 8))
        #expect(search.position == SourcePosition(line: 3, column: 2))
        let lr = try #require(search["lr"])
        #expect(lr.keyPosition == SourcePosition(line: 4, column: 3))
        let bounds = try #require(lr.value.table?["log_uniform"]?.value.array)
        #expect(bounds[1].position == SourcePosition(line: 4, column: 31))
        #expect(bounds[1].text == "1.0")
        let opt = try #require(search["opt"]?.value.array)
        #expect(opt.map(\.line) == [6, 7])
    }

    static let invalid: [TOMLErrorCase] = [
        TOMLErrorCase(name: "missing equals", text: "a 1", line: 1, column: 3, mentions: "expected '=' after key 'a'"),
        TOMLErrorCase(name: "missing value", text: "a =\n", line: 1, column: 4, mentions: "expected a value"),
        TOMLErrorCase(name: "duplicate key", text: "a = 1\nb = 2\na = 3", line: 3, column: 1, mentions: "duplicate key 'a' (first defined at line 1)"),
        TOMLErrorCase(name: "duplicate dotted key", text: "a.b = 1\na.b = 2", line: 2, column: 3, mentions: "duplicate key 'a.b'"),
        TOMLErrorCase(name: "table defined twice", text: "[a]\nx = 1\n\n[a]\n", line: 4, column: 2, mentions: "table [a] is defined twice (first at line 1)"),
        TOMLErrorCase(name: "value then table", text: "a = 1\n[a]", line: 2, column: 2, mentions: "'a' is already a value (line 1)"),
        TOMLErrorCase(name: "extend inline table", text: "a = { x = 1 }\n[a.b]", line: 2, column: 2, mentions: "inline tables cannot be extended"),
        TOMLErrorCase(name: "dotted key into inline table", text: "a = { x = 1 }\na.y = 2", line: 2, column: 1, mentions: "inline tables cannot be extended"),
        TOMLErrorCase(name: "array of tables", text: "x = 1\n[[runs]]", line: 2, column: 1, mentions: "arrays of tables"),
        TOMLErrorCase(name: "date", text: "\nd = 1979-05-27", line: 2, column: 5, mentions: "dates and times"),
        TOMLErrorCase(name: "time", text: "t = 07:32:00", line: 1, column: 5, mentions: "dates and times"),
        TOMLErrorCase(name: "unquoted string", text: "kind = mlp", line: 1, column: 8, mentions: "strings need quotes: \"mlp\""),
        TOMLErrorCase(name: "capitalised boolean", text: "x = True", line: 1, column: 5, mentions: "booleans are lowercase"),
        TOMLErrorCase(name: "leading zero", text: "x = 012", line: 1, column: 5, mentions: "leading zeros"),
        TOMLErrorCase(name: "bad underscore", text: "x = 1__0", line: 1, column: 5, mentions: "underscore must be between two digits"),
        TOMLErrorCase(name: "trailing dot", text: "x = 1.", line: 1, column: 5, mentions: "decimal point must be followed by digits"),
        TOMLErrorCase(name: "bad exponent", text: "x = 1e", line: 1, column: 5, mentions: "an exponent needs digits"),
        TOMLErrorCase(name: "integer overflow", text: "x = 99999999999999999999", line: 1, column: 5, mentions: "does not fit in a 64-bit integer"),
        TOMLErrorCase(name: "unclosed string", text: "a = 1\nb = \"abc\nc = 2", line: 2, column: 5, mentions: "not closed on its line"),
        TOMLErrorCase(name: "unknown escape", text: #"s = "a\qb""#, line: 1, column: 7, mentions: "unknown escape '\\q'"),
        TOMLErrorCase(name: "unclosed multi-line string", text: "s = \"\"\"\nabc\n", line: 1, column: 5, mentions: "never closed"),
        TOMLErrorCase(name: "unclosed array", text: "a = [1,\n2\n", line: 3, column: 1, mentions: "array opened at line 1 is never closed"),
        TOMLErrorCase(name: "missing comma in array", text: "a = [1 2]", line: 1, column: 8, mentions: "expected ',' or ']'"),
        TOMLErrorCase(name: "multi-line inline table", text: "a = { x = 1,\n y = 2 }", line: 1, column: 13, mentions: "inline table must be on one line"),
        TOMLErrorCase(name: "trailing comma in inline table", text: "a = { x = 1, }", line: 1, column: 14, mentions: "no trailing comma"),
        TOMLErrorCase(name: "garbage after value", text: "a = 1 2", line: 1, column: 7, mentions: "expected the end of the line, found '2'"),
        TOMLErrorCase(name: "unclosed header", text: "[a\nx = 1", line: 1, column: 3, mentions: "expected ']'"),
        TOMLErrorCase(name: "dotted key into header table", text: "[a.b]\nx = 1\n[c]\n[a]\nb.y = 2", line: 5, column: 1, mentions: "cannot be extended with dotted keys"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidDocumentWithPosition(_ c: TOMLErrorCase) {
        do {
            _ = try TOMLParser.parse(c.text, file: "bad.toml")
            Issue.record("\(c.name): parsed")
        } catch {
            #expect(error.problems.count == 1)
            let p = error.problems[0]
            #expect(p.file == "bad.toml")
            #expect(p.line == c.line, "\(error)")
            #expect(p.column == c.column, "\(error)")
            #expect(p.message.contains(c.mentions), "\(error)")
            #expect(error.description.hasPrefix("bad.toml:\(c.line):\(c.column): "))
        }
    }
}

@Suite struct JSONDocumentParserTests {
    @Test func parsesWithPositionsAndIntegers() throws {
        let v = try JSONDocumentParser.parse("{\n  \"a\": 1,\n  \"b\": [1.5, \"x\\u00e9\", true, null],\n  \"c\": {\"d\": -2e-3}\n}")
        let t = try #require(v.table)
        #expect(t["a"]?.value.integer == 1)
        #expect(t["b"]?.keyPosition == SourcePosition(line: 3, column: 3))
        #expect(t["b"]?.value.array?[1].string == "x\u{e9}")
        #expect(v.json == .object(["a": .number(1), "b": .array([.number(1.5), .string("x\u{e9}"), .bool(true), .null]), "c": .object(["d": .number(-2e-3)])]))
    }

    @Test(arguments: [
        ("{\"a\": 1, \"a\": 2}", 1, "duplicate key \"a\""),
        ("{\n\"a\": 01}", 2, "'01' is not a JSON value"),
        ("{\"a\": [1,]}", 1, "no trailing comma"),
        ("{\"a\": 1}\n x", 2, "after the end"),
        ("{\n\n\"a\" 1}", 3, "expected ':'"),
        ("{\"a\": \"b}", 1, "never closed"),
    ])
    func rejectsWithLine(_ text: String, _ line: Int, _ mentions: String) {
        do {
            _ = try JSONDocumentParser.parse(text, file: "t.json")
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.problems.first?.line == line, "\(error)")
            #expect(error.description.contains(mentions), "\(error)")
        }
    }
}
