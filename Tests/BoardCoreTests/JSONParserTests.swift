import Foundation
import PropertyBased
import Testing
@testable import BoardCore

/// The hand-written parser must agree with Foundation's `JSONDecoder` (decoding `JSONValue`) on
/// every text both accept, and refuse what a strict control protocol must refuse.
@Suite("JSON parser")
struct JSONParserTests {
    func foundation(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        #"  {"a" : [1, -2, 3.5, -0.25e-3, 1E2, 0, -0, true, false, null, "x"] , "b":{}} "#,
        #"[]"#, #"{}"#, #"[[[[]]]]"#, #""""#, #"0"#, #"-0.0"#, #"1.0"#, #"1e2"#, #"123456789012345678"#,
        #"9223372036854775807"#, #"-9223372036854775808"#, #"9223372036854775808"#, #"12345678901234567890123"#,
        #"1111111111111111111.11"#, #"0.1"#, #"1e-400"#, #"2.5e+3"#,
        #""\"\\\/\b\f\n\r\t""#, #""\u0041\u00e9\u4e2d\ud83d\ude00\u0000""#, "\"é中😀 raw\"",
        #"{"nested":{"deeper":[{"k":"v"}]}}"#, "\t\n\r [1]\n",
    ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try JSONValue.parse(text)
        #expect(ours == foundation(text), "\(text)")
    }

    @Test(arguments: [
        ("", "end"), ("   ", "end"), ("nul", "literal"), ("tru", "literal"), ("[1,]", "unexpected character"),
        ("[1 2]", "expected ',' or ']'"), (#"{"a":1,}"#, "member name"), (#"{"a" 1}"#, "':'"), (#"{a:1}"#, "member name"),
        (#"{"a":1"#, "unterminated object"), ("[1", "unterminated array"), (#""abc"#, "unterminated string"),
        (#""a\"#, "unterminated string"), (#""\x""#, "invalid escape"), (#""\u12""#, "four hex digits"),
        (#""\ud800""#, "high surrogate"), (#""\ud800\u0041""#, "high surrogate"), (#""\udc00""#, "low surrogate"),
        ("\"a\u{1}b\"", "control character"), ("\"a\nb\"", "control character"), ("01", "leading zero"),
        ("-", "digits"), ("1.", "digits after"), ("1e", "exponent"), ("1e+", "exponent"), (".5", "unexpected character"),
        ("+1", "unexpected character"), ("1e400", "out of range"), ("-1e400", "out of range"), ("NaN", "unexpected character"),
        ("[1] [2]", "after the JSON value"), ("{} x", "after the JSON value"), (#"{"a":1,"a":2}"#, "duplicate member name"),
        ("\u{0}", "unexpected character"), ("'x'", "unexpected character"),
    ])
    func refusesWithAReason(_ text: String, _ mentions: String) {
        #expect(throws: JSONParseError.self, "\(text)") { _ = try JSONValue.parse(text) }
        do {
            _ = try JSONValue.parse(text)
        } catch {
            #expect(error.reason.contains(mentions), "\(text): \(error)")
        }
    }

    @Test func invalidUTF8IsRefusedInsideAndOutsideStrings() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0xEF, 0xBB, 0xBF, 0x31],
                               [0x22, 0x5C, 0x6E, 0xF0, 0x9F, 0x22]]
        {
            #expect(throws: JSONParseError.self, "\(bytes)") { _ = try JSONValue.parse(bytes) }
        }
    }

    @Test func errorsSayWhere() {
        do {
            _ = try JSONValue.parse(#"{"a":[1,2,x]}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 10)
            #expect(error.description == "unexpected character 'x' at byte 10")
        }
    }

    @Test func nestingIsBoundedWithoutExhaustingTheStack() throws {
        let deepest = String(repeating: "[", count: JSONValue.maxParseDepth) + String(repeating: "]", count: JSONValue.maxParseDepth)
        _ = try JSONValue.parse(deepest)
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(tooDeep) }
        let objects = String(repeating: #"{"a":"#, count: 100_000)
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(objects) }
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(String(repeating: "[", count: 1_000_000)) }
    }

    @Test func numbersTakeTheCanonicalForm() throws {
        #expect(try JSONValue.parse("1.0") == .int(1))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(try JSONValue.parse("1e18") == .int(1_000_000_000_000_000_000))
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse("0.5") == .double(0.5))
        #expect(try JSONValue.parse("-123456789012345678") == .int(-123_456_789_012_345_678))
    }

    // MARK: - Properties

    static let strings = [
        "", "plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "\u{0}nul", "\u{1F}unit", "é中😀", "/slash/",
        "'; DROP TABLE plans; --", "$(rm -rf /) `id` | & ;", "\u{7F}del", "\u{FEFF}bom", "\u{10FFFF}", "crlf\r\n", "e\u{301}\"\u{301}",
    ]

    /// A value built from a list of codes, so that the property library's shrinking works on plain integers.
    static func value(_ codes: inout IndexingIterator<[Int]>, depth: Int) -> JSONValue {
        guard let code = codes.next() else { return .null }
        switch code % 8 {
        case 0: return .null
        case 1: return .bool(code % 2 == 0)
        case 2: return .int(Int64(code) * (code % 3 == 0 ? -1 : 1) * (code % 5 == 0 ? 1_000_000_007_000 : 1))
        case 3:
            // In the canonical form: an integral number an Int64 holds is `.int`.
            let number = Double(code) / 7 * (code % 3 == 0 ? -1e-5 : 1e5)
            return Int64(exactly: number).map(JSONValue.int) ?? .double(number)
        case 4: return .string(strings[code % strings.count] + String(code))
        case 5 where depth < 6: return .array((0..<(code % 5)).map { _ in value(&codes, depth: depth + 1) })
        case 6 where depth < 6:
            var fields: [String: JSONValue] = [:]
            for index in 0..<(code % 5) { fields["\(strings[(code + index) % strings.count])\(index)"] = value(&codes, depth: depth + 1) }
            return .object(fields)
        default: return .string(String(code))
        }
    }

    @Test func serializedValuesParseBackToThemselvesAndAgreeWithFoundation() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...100_000).array(of: 1...60)) { codes in
            var iterator = codes.makeIterator()
            let original = Self.value(&iterator, depth: 0)
            let text = original.serialized
            let parsed = try? JSONValue.parse(text)
            #expect(parsed == original, "\(text)")
            #expect(parsed == foundation(text), "\(text)")
            // Foundation's encoder writes numbers and escapes its own way; the parser reads them too.
            let encoded = String(decoding: (try? JSONEncoder().encode(original)) ?? Data(), as: UTF8.self)
            #expect((try? JSONValue.parse(encoded)) == original, "\(encoded)")
        }
    }

    @Test func anyByteStringEitherParsesLikeFoundationOrIsRefused() async {
        let alphabet = Array(#"{}[]":,.-+eE0123456789 tfnrulasx\/"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        await propertyCheck(count: 2000, input: Gen.int(in: 0..<alphabet.count).array(of: 0...24)) { indices in
            let bytes = indices.map { alphabet[$0] }
            let ours = try? JSONValue.parse(bytes)
            let theirs = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            if let ours {
                #expect(ours == theirs, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }
}
