import Testing

@testable import TunedRPC

@Suite struct ValueTests {
    @Test(arguments: [
        ("0", RPCValue.int(0)), ("-12", .int(-12)), ("9223372036854775807", .int(.max)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)), ("1.5e3", .double(1500)),
        ("-0.25", .double(-0.25)),
        (#""a\"\\\/\b\f\n\r\t\u0041\u00e9""#, .string("a\"\\/\u{8}\u{c}\n\r\tAé")), (#""\ud83d\ude00""#, .string("😀")),
        (" [ 1 , { \"k\" : null } , true ] ", .array([1, ["k": nil], true])), ("{}", .object([:])), ("[]", .array([])),
    ])
    func parsesJSON(_ text: String, _ expected: RPCValue) throws {
        #expect(try RPCValue.parse(text) == expected)
    }

    @Test func serialisationRoundTripsAndSortsKeys() throws {
        let v: RPCValue = ["b": [1, 2.5, "x\ny\u{1}"], "a": nil, "c": ["z": true, "é": -0.001]]
        let text = v.jsonText
        #expect(text == #"{"a":null,"b":[1,2.5,"x\ny\u0001"],"c":{"z":true,"é":-0.001}}"#)
        #expect(try RPCValue.parse(text) == v)
    }

    @Test func depthLimitIsExact() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try RPCValue.parse(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let e = try #require(throws: RPCParseError.self) { try RPCValue.parse(deep) }
        #expect(e.reason.contains("64"))
    }

    @Test func numbersCompareByValue() {
        #expect(RPCValue.int(1) == .double(1))
        #expect(RPCValue.double(.nan) == .double(.nan))
        #expect(RPCValue.int(1) != .string("1"))
    }

    @Test func nonFiniteDoublesSerialiseAsTheCodersStrings() {
        #expect(
            RPCValue.array([.double(.nan), .double(.infinity), .double(-.infinity)]).jsonText
                == #"["NaN","Infinity","-Infinity"]"#)
    }
}
