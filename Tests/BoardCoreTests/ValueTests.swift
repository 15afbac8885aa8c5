import Foundation
import Testing
@testable import BoardCore

@Suite("Values")
struct ValueTests {
    @Test func timestampsRenderAsUTCISO8601() {
        #expect(Timestamp(millisecondsSinceEpoch: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: 1_709_210_096_789).iso8601 == "2024-02-29T12:34:56.789Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }

    @Test func timestampsRoundTripAndSortAsText() {
        var previous: Timestamp?
        for millis in stride(from: Int64(-86_400_000), to: 4_102_444_800_000, by: 86_399_997 * 37) {
            let time = Timestamp(millisecondsSinceEpoch: millis)
            #expect(Timestamp(iso8601: time.iso8601) == time)
            if let previous { #expect(previous.iso8601 < time.iso8601) }
            previous = time
        }
        #expect(Timestamp(iso8601: "2026-11-26T01:52:07Z")?.iso8601 == "2026-11-26T01:52:07.000Z")
        #expect(Timestamp(iso8601: "2026-11-26T01:52:07.5Z")?.iso8601 == "2026-11-26T01:52:07.500Z")
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-26 01:52:07Z", "2026-11-26T01:52:07+01:00"] {
            #expect(Timestamp(iso8601: bad) == nil, "\(bad)")
        }
    }

    @Test func identifiersKeepThePrototypeStyle() {
        let id = PlanID.random()
        #expect(id.rawValue.hasPrefix("plan_"))
        #expect(id.rawValue.count == 21)
        #expect(PlanID(id.rawValue) == id)
        #expect(TaskID(id.rawValue) == nil, "a plan id is not a task id")
        for bad in ["plan_", "plan_ABC", "plan_a b", "plan_x;drop", "task_1", String(repeating: "a", count: 300)] {
            #expect(PlanID(bad) == nil, "\(bad)")
        }
        #expect(EventID.random().rawValue.hasPrefix("evt_"))
    }

    @Test func jsonValuesSerializeCanonically() throws {
        let value: JSONValue = ["b": [1, true, nil], "a": "quote \" and \\ and \n and \u{01} and é"]
        #expect(value.serialized == #"{"a":"quote \" and \\ and \n and \u0001 and é","b":[1,true,null]}"#)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized.utf8))
        #expect(decoded == value)
        #expect(JSONValue.double(.nan).serialized == "null")
        #expect(JSONValue.double(0.25).serialized == "0.25")
    }

    /// fuzz/findings entry 3: numbers must survive decode → serialize → decode unchanged.
    @Test(arguments: [
        "1111111111111111111.11", "-1111111111111111111.11", "1111111111111111111.1", "2.0", "-0.0",
        "1e18", "9223372036854775807", "-9223372036854775808", "1e19", "1.5e300", "0.1", "123456789012345.5",
    ])
    func numbersRoundTripThroughTheirSerialization(text: String) throws {
        let once = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let twice = try JSONDecoder().decode(JSONValue.self, from: Data(once.serialized.utf8))
        #expect(twice == once, "\(text) → \(once) → \(once.serialized) → \(twice)")
        #expect(twice.serialized == once.serialized)
    }

    @Test func confidencePhrasesFollowThePrototypeBands() {
        #expect(Confidence.phrase(0.8) == "high confidence")
        #expect(Confidence.phrase(0.79) == "moderate confidence")
        #expect(Confidence.phrase(0.5) == "moderate confidence")
        #expect(Confidence.phrase(0.49) == "uncertain")
    }

    @Test func configReaderNamesTheKeyAndRefusesUnknownOnes() throws {
        var reader = try ConfigReader(["scheduler": ["concurrency": 0, "extra": 1]])
        var scheduler = try #require(try reader.object("scheduler"))
        #expect {
            try scheduler.int("concurrency", in: 1...10)
        } throws: { ($0 as? BoardError)?.message == "scheduler.concurrency must be an integer from 1 to 10" }
        #expect {
            try scheduler.finish()
        } throws: { ($0 as? BoardError)?.message == "scheduler.extra is not a known setting" }
    }
}
