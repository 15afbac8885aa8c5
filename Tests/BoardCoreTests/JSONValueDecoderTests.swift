import Foundation
import PropertyBased
import Testing
@testable import BoardCore

/// Stored JSON is written by `JSONTextEncoder` and read by `JSONValueDecoder`; both must agree
/// with each other and with Foundation's coders on every record the store keeps.
@Suite("JSON value decoder")
struct JSONValueDecoderTests {
    static let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_123)

    static let fullResult = AgentResult(
        agent: "CFO", codename: "Ledger", backend: "command", offline: false, summary: "Runway \"18 months\"\nok",
        findings: ["a", "b\\c"], risks: ["r"], recommendations: [], confidence: 0.73, raw: "raw\ttext é😀",
        citations: ["https://example.com/x?y=1"],
        usage: Usage(model: "m", promptTokens: 12, completionTokens: nil, latencyMilliseconds: 1234))

    func roundTrip<T: Codable & Equatable>(_ value: T) throws {
        let text = try JSONTextEncoder().encode(value)
        #expect(try JSONValueDecoder().decode(T.self, fromJSON: text) == value, "\(text)")
        #expect(try JSONDecoder().decode(T.self, from: Data(text.utf8)) == value, "Foundation reads it too: \(text)")
        let foundationText = try JSONEncoder().encode(value)
        #expect(try JSONValueDecoder().decode(T.self, fromJSON: String(decoding: foundationText, as: UTF8.self)) == value,
                "and reads what Foundation wrote")
    }

    @Test func storedRecordsRoundTrip() throws {
        try roundTrip(Self.fullResult)
        try roundTrip(AgentResult(agent: "CTO", codename: "Forge", backend: "builtin", offline: true, summary: ""))
        let planID = PlanID.random()
        let taskID = TaskID.random()
        try roundTrip(FinalPlan(
            planID: planID, goal: "g", synthesizedBy: "Odyssey", offline: true, executiveSummary: "s", strategy: ["1", "2"],
            contributors: [.init(agent: "CFO", codename: "Ledger", taskID: taskID, confidence: nil),
                           .init(agent: "CTO", codename: "Forge", taskID: .random(), confidence: 0.5)],
            risks: [], recommendations: ["x"], confidence: 0.81, references: ["ref"], createdAt: Self.now))
        var task = BoardTask(
            taskID: taskID, planID: planID, agent: "CFO", description: "d", state: .completed, attempts: 2, maxAttempts: 3,
            createdAt: Self.now, updatedAt: Self.now)
        task.result = Self.fullResult
        task.dependsOn = [.random(), .random()]
        task.leaseExpiresAt = Self.now
        try roundTrip(task)
        try roundTrip([taskID, .random()])
        try roundTrip(BoardEvent(
            eventID: EventID.random(), planID: planID, taskID: nil, kind: .taskCompleted,
            payload: ["attempt": 2, "nested": ["x": [.double(1.5), "y", nil]]], createdAt: Self.now))
    }

    @Test func failuresAreFoundationsKinds() {
        let decoder = JSONValueDecoder()
        func kind(_ text: String) -> String {
            do {
                _ = try decoder.decode(AgentResult.self, fromJSON: text)
                return "decoded"
            } catch let DecodingError.keyNotFound(key, _) {
                return "keyNotFound \(key.stringValue)"
            } catch let DecodingError.typeMismatch(type, _) {
                return "typeMismatch \(type)"
            } catch let DecodingError.valueNotFound(type, _) {
                return "valueNotFound \(type)"
            } catch DecodingError.dataCorrupted {
                return "dataCorrupted"
            } catch {
                return "other \(error)"
            }
        }
        let base = #""agent":"A","codename":"C","backend":"b","offline":true"#
        #expect(kind("{\(base),\"summary\":\"s\"}") == "decoded")
        #expect(kind("{\(base)}") == "keyNotFound summary")
        #expect(kind("{\(base),\"summary\":1}") == "typeMismatch String")
        #expect(kind("{\(base),\"summary\":null}") == "valueNotFound String")
        #expect(kind("{\(base),\"summary\":\"s\",\"confidence\":null}") == "decoded", "an optional may be null")
        #expect(kind("{\(base),\"summary\":\"s\",\"confidence\":\"high\"}") == "typeMismatch Double")
        #expect(kind("{\(base),\"summary\":\"s\",\"findings\":[1]}") == "typeMismatch String")
        #expect(kind("[]") == "typeMismatch Dictionary<String, JSONValue>")
        #expect(kind("{\(base),") == "dataCorrupted")
        #expect(kind("{\(base),\"summary\":\"s\",\"usage\":{\"model\":\"m\",\"latency_ms\":1.5}}") != "decoded")
    }

    @Test func numbersConvertOnlyWhenExact() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(Double.self, fromJSON: "2") == 2)
        #expect(try decoder.decode(Int.self, fromJSON: "2.0") == 2)
        #expect(try decoder.decode(Int8.self, fromJSON: "-128") == -128)
        #expect(throws: DecodingError.self) { try decoder.decode(Int8.self, fromJSON: "128") }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, fromJSON: "2.5") }
        #expect(throws: DecodingError.self) { try decoder.decode(UInt.self, fromJSON: "-1") }
        #expect(throws: DecodingError.self) { try decoder.decode(String.self, fromJSON: "1") }
        #expect(throws: DecodingError.self) { try decoder.decode(Bool.self, fromJSON: "\"true\"") }
        #expect(try decoder.decode([Int?].self, fromJSON: "[1,null,3]") == [1, nil, 3])
        #expect(try decoder.decode([String: [Double]].self, fromJSON: #"{"a":[1,2.5]}"#) == ["a": [1, 2.5]])
    }

    @Test func anyJSONValueDecodesAsItself() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...100_000).array(of: 1...60)) { codes in
            var iterator = codes.makeIterator()
            let value = JSONParserTests.value(&iterator, depth: 0)
            #expect((try? JSONValueDecoder().decode(JSONValue.self, from: value)) == value)
            #expect((try? JSONValueDecoder().decode([JSONValue].self, from: .array([value, value]))) == [value, value])
            // Through JSONValue's own Decodable conformance, not the shortcut.
            #expect((try? JSONValueDecoder().decode(Wrapped.self, from: ["v": value]))?.v == value)
        }
    }

    struct Wrapped: Decodable {
        var v: JSONValue
        enum CodingKeys: String, CodingKey { case v }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            v = try JSONValue(from: container.superDecoder(forKey: .v))
        }
    }
}
