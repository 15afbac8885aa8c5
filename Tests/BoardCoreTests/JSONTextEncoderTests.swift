import Foundation
import PropertyBased
import Testing
@testable import BoardCore

/// The one-pass encoder must write what Foundation's `JSONEncoder` writes: the same values, with
/// members in encoding order (Foundation's is a hash order).
@Suite("JSON text encoder")
struct JSONTextEncoderTests {
    static let foundation: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    func both(_ value: some Encodable) throws -> (ours: String, theirs: String) {
        (try JSONTextEncoder().encode(value), String(decoding: try Self.foundation.encode(value), as: UTF8.self))
    }

    struct Leaf: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double
        var flag: Bool
        var missing: String?
        var present: Int64?
        var small: UInt8
        var big: UInt64
        var tags: [String]
        var grid: [[Int]]
        var table: [String: Int]
    }

    /// Hand-written coding with nested containers, a super-encoder and a second request for the
    /// same keyed container, the shapes a one-pass writer can get wrong.
    struct Awkward: Encodable {
        enum Keys: String, CodingKey { case first, nested, list, after, parent }
        enum Inner: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("one", forKey: .first)
            var nested = container.nestedContainer(keyedBy: Inner.self, forKey: .nested)
            try nested.encode(1, forKey: .a)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(true)
            var deeper = list.nestedContainer(keyedBy: Inner.self)
            try deeper.encodeNil(forKey: .b)
            try list.encode(2.5)
            var again = encoder.container(keyedBy: Keys.self)
            try again.encode([1, 2], forKey: .after)
            let parent = container.superEncoder(forKey: .parent)
            var single = parent.singleValueContainer()
            try single.encode("from super")
        }
    }

    /// Writing into a container after a later one was opened cannot be done in one pass.
    struct LateWrite: Encodable {
        enum Keys: String, CodingKey { case nested, list }
        enum Inner: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var nested = container.nestedContainer(keyedBy: Inner.self, forKey: .nested)
            try nested.encode(1, forKey: .a)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(true)
            try nested.encode("late", forKey: .b)
        }
    }

    func parsed(_ text: String) -> JSONValue? { try? JSONValue.parse(text) }

    @Test func recordShapesWriteFoundationsValuesInDeclarationOrder() throws {
        let leaf = Leaf(
            name: "quote \" slash / back \\ nl \n tab \t é 😀 \u{1}", count: -42, ratio: 0.1, flag: true, missing: nil,
            present: .max, small: 255, big: .max, tags: ["a", ""], grid: [[1], [], [2, 3]], table: ["only": 1])
        let (ours, theirs) = try both(leaf)
        #expect(parsed(ours) == parsed(theirs))
        #expect(ours.hasPrefix(#"{"name":"quote \" slash / back \\ nl \n tab \t é 😀 \u0001","count":-42,"ratio":0.1,"#))
        #expect(try JSONDecoder().decode(Leaf.self, from: Data(ours.utf8)) == leaf)
        let list = try both([leaf, leaf])
        #expect(parsed(list.ours) == parsed(list.theirs))
        let nested = try both(["x": [leaf]])
        #expect(parsed(nested.ours) == parsed(nested.theirs))
    }

    @Test func numbersKeepTheirValue() throws {
        for number in [0.0, -0.0, 1.0, 1e20, 1e-5, 0.1, 1.0 / 3, -2.5e-300, 1.7976931348623157e308, .leastNonzeroMagnitude, 123_456_789.125] {
            let text = try JSONTextEncoder().encode(number)
            #expect(Double(text) == number || (number == 0 && Double(text) == 0), "\(number) → \(text)")
            #expect(try JSONValue.parse(text) == (try JSONValue.parse(String(decoding: Self.foundation.encode(number), as: UTF8.self))))
        }
        #expect(try JSONTextEncoder().encode(Float(0.5)) == "0.5")
        #expect(try JSONTextEncoder().encode(Int8.min) == "-128")
    }

    @Test func nonFiniteNumbersAreRefusedLikeFoundationDoes() {
        for number in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { _ = try JSONTextEncoder().encode(number) }
            #expect(throws: EncodingError.self) { _ = try JSONTextEncoder().encode(["x": number]) }
            #expect(throws: EncodingError.self) { _ = try JSONTextEncoder().encode(JSONValue.array([.double(number)])) }
            #expect(throws: EncodingError.self) { _ = try JSONTextEncoder().encode(JSONValue.double(number)) }
        }
    }

    @Test func awkwardContainerUseWritesTheSameValue() throws {
        let (ours, theirs) = try both(Awkward())
        #expect(try JSONValue.parse(ours) == (try JSONValue.parse(theirs)), "\(ours) vs \(theirs)")
    }

    @Test func aLateWriteThrowsInsteadOfWritingMalformedText() throws {
        #expect(throws: EncodingError.self) { _ = try JSONTextEncoder().encode(LateWrite()) }
        var text = "prefix:"
        #expect(throws: EncodingError.self) { try JSONTextEncoder().encode([LateWrite()], appendingTo: &text) }
        #expect(text == "prefix:", "a failed encoding leaves the text it was given")
    }

    @Test func anEmptyValueIsAnEmptyObject() throws {
        struct Nothing: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
        #expect(try JSONTextEncoder().encode([Nothing()]) == "[{}]")
    }

    @Test func appendsAfterAPrefix() throws {
        var text = #"{"result":"#
        try JSONTextEncoder().encode(["a": 1], appendingTo: &text)
        #expect(text == #"{"result":{"a":1}"#)
    }

    @Test func anyJSONValueMeansTheSameToFoundation() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...100_000).array(of: 1...60)) { codes in
            var iterator = codes.makeIterator()
            let value = JSONParserTests.value(&iterator, depth: 0)
            let ours = try? JSONTextEncoder().encode(value)
            #expect(ours == value.serialized)
            #expect(ours.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) } == value)
            // Wrapped in Codable containers, so the generic path runs too.
            let wrapped = try? both(["v": [value]])
            #expect(wrapped.map { (try? JSONValue.parse($0.ours)) == (try? JSONValue.parse($0.theirs)) } == true)
        }
    }
}
