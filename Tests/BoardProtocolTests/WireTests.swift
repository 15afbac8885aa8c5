import BoardCore
import Foundation
import Testing
@testable import BoardProtocol

@Suite("JSON-RPC wire format")
struct WireTests {
    func decode(_ text: String) -> Result<RPCRequest, Wire.DecodeFailure> {
        Wire.decodeRequest(Data(text.utf8))
    }

    func failure(_ text: String) -> Wire.DecodeFailure? {
        if case let .failure(failure) = decode(text) { return failure }
        return nil
    }

    @Test func decodesARequest() throws {
        let request = try decode(#"{"jsonrpc":"2.0","id":7,"method":"plan.get","params":{"plan_id":"plan_1"}}"#).get()
        #expect(request.id == .int(7))
        #expect(request.method == "plan.get")
        #expect(request.params == ["plan_id": "plan_1"])
        #expect(try decode(#"{"jsonrpc":"2.0","id":"abc","method":"ping"}"#).get().id == "abc")
        #expect(try decode(#"{"jsonrpc":"2.0","method":"ping"}"#).get().id == nil, "a notification has no id")
    }

    @Test(arguments: [
        "not json", "{", "", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"", "\u{0}", "[1,2", "{\"a\":1}}",
        String(repeating: "[", count: 100_000),
    ])
    func garbageIsAParseErrorWithNullID(_ text: String) {
        let failure = failure(text)
        #expect(failure?.error.code == -32700)
        #expect(failure?.error.reason == "parse_error")
        #expect(failure?.id == .null)
    }

    @Test func invalidUTF8IsAParseError() {
        let failure = Wire.decodeRequest(Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]))
        guard case let .failure(failure) = failure else {
            Issue.record("invalid UTF-8 decoded")
            return
        }
        #expect(failure.error.code == -32700)
    }

    @Test(arguments: [
        (#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, "batch"),
        (#"42"#, "object"),
        (#"{"id":1,"method":"ping"}"#, "jsonrpc"),
        (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, "jsonrpc"),
        (#"{"jsonrpc":"2.0","id":1}"#, "method"),
        (#"{"jsonrpc":"2.0","id":1,"method":7}"#, "method"),
        (#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#, "id"),
        (#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, "id"),
        (#"{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}"#, "params"),
        (#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}"#, "extra"),
    ])
    func malformedRequestsAreInvalidRequests(_ text: String, _ mentions: String) {
        let failure = failure(text)
        #expect(failure?.error.code == -32600, "\(text)")
        #expect(failure?.error.message.contains(mentions) == true, "\(String(describing: failure?.error.message))")
    }

    @Test func theIDIsEchoedWhenTheRestIsInvalid() {
        #expect(failure(#"{"jsonrpc":"1.0","id":"keep","method":"ping"}"#)?.id == "keep")
    }

    @Test func errorLinesCarryCodeMessageAndReason() throws {
        let line = Wire.errorLine(id: .int(3), error: RPCError(BoardError(.notFound, "no plan with id \"x\"\n")))
        #expect(line.last == UInt8(ascii: "\n"))
        let value = try JSONDecoder().decode(JSONValue.self, from: line)
        #expect(value["jsonrpc"] == "2.0")
        #expect(value["id"] == 3)
        #expect(value["error"]?["code"] == .int(-32001))
        #expect(value["error"]?["message"] == "no plan with id \"x\"\n")
        #expect(value["error"]?["data"]?["reason"] == "not_found")
        let response = try Wire.decodeResponse(line.dropLast())
        guard case let .failure(error) = response.outcome else {
            Issue.record("expected an error")
            return
        }
        #expect(error.reason == "not_found")
    }

    @Test func stableApplicationCodes() {
        let expected: [BoardError.Reason: Int] = [
            .notFound: -32001, .invalidState: -32002, .tooLarge: -32003, .conflict: -32004, .storage: -32005,
            .unavailable: -32006, .invalidConfig: -32007, .internalError: -32603, .invalidArgument: -32602,
        ]
        for reason in BoardError.Reason.allCases {
            #expect(RPCError.code(for: reason) == expected[reason], "\(reason)")
        }
    }

    @Test func successLinesRoundTripThroughTheClientDecoder() throws {
        let line = try Wire.successLine(id: "a", result: PingResult(version: "1.2.3"))
        let response = try Wire.decodeResponse(line.dropLast())
        #expect(response.id == "a")
        let ping = try JSONValueDecoder().decode(PingResult.self, from: try response.outcome.get())
        #expect(ping == PingResult(version: "1.2.3"))
    }

    @Test func repliesThatAreNotJSONRPCAreRefused() {
        for line in [#"{"jsonrpc":"2.0","id":1}"#, #"{"id":1,"result":{}}"#, #"[{"jsonrpc":"2.0","id":1,"result":{}}]"#,
                     #"{"jsonrpc":"2.0","id":1,"result":{},}"#, "pong", #"{"jsonrpc":"2.0","id":1,"error":{"code":"x"}}"#] {
            #expect(throws: (any Error).self, "\(line)") { try Wire.decodeResponse(Data(line.utf8)) }
        }
        let nullError = try? Wire.decodeResponse(Data(#"{"jsonrpc":"2.0","id":1,"result":5,"error":null}"#.utf8))
        #expect(nullError.map { try? $0.outcome.get() } == .some(.int(5)), "a null error member is no error")
    }

    @Test func eventPagesSayWhereTheNextStartsAndOldRepliesFallBackToTheirLength() throws {
        let event = #"{"event_id":"evt_0000000000000002","plan_id":"plan_0000000000000001","task_id":null,"kind":"plan_closed","payload":{},"created_at":"2026-11-26T02:06:10.945Z"}"#
        let decoder = JSONValueDecoder()
        // This boardd: next_before decides, whatever the page's length.
        let cut = try decoder.decode(EventsResult.self, fromJSON: #"{"events":[\#(event)],"next_before":"evt_0000000000000002"}"#)
        #expect(cut.nextPage(limit: 100) == EventID("evt_0000000000000002"))
        let last = try decoder.decode(EventsResult.self, fromJSON: #"{"events":[\#(event)],"next_before":null}"#)
        #expect(last.nextPage(limit: 1) == nil)
        // A boardd from before next_before: a full page may have more after it, a short one is the last.
        let oldFull = try decoder.decode(EventsResult.self, fromJSON: #"{"events":[\#(event)]}"#)
        #expect(!oldFull.reportsNextBefore)
        #expect(oldFull.nextPage(limit: 1) == EventID("evt_0000000000000002"))
        #expect(oldFull.nextPage(limit: 100) == nil)
    }

    @Test func requestLinesAreWhatTheDaemonDecodes() throws {
        let params = PlanCreateParams(goal: "g\n\"x\"", context: "c", agents: ["CFO"], idempotencyKey: "k", maxAttempts: 3)
        let line = Wire.requestLine(id: 9, method: .planCreate, params: params.json)
        let request = try Wire.decodeRequest(line.dropLast()).get()
        #expect(request.method == "plan.create")
        #expect(try PlanCreateParams(params: request.params) == params)
    }

    @Test func planDetailPutsThePlanMembersAtTheTopLevel() throws {
        let now = Timestamp(millisecondsSinceEpoch: 0)
        let plan = Plan(
            planID: PlanID.random(), goal: "g", context: nil, status: .open, idempotencyKey: nil, lastError: nil, createdAt: now,
            updatedAt: now, closedAt: nil)
        let task = BoardTask(
            taskID: .random(), planID: plan.planID, agent: "CFO", description: "d", state: .pending, attempts: 0, maxAttempts: 2,
            createdAt: now, updatedAt: now)
        let value = try JSONValue.parse(try JSONTextEncoder().encode(PlanDetail(plan: plan, tasks: [task], created: true)))
        #expect(value["plan_id"] == .string(plan.planID.rawValue))
        #expect(value["status"] == "open")
        #expect(value["created_at"] == "1970-01-01T00:00:00.000Z")
        #expect(value["task_counts"]?["pending"] == 1)
        #expect(value["closed_at"] == JSONValue.null, "optional members are present as null")
        guard case let .array(tasks)? = value["tasks"] else {
            Issue.record("tasks is not an array")
            return
        }
        #expect(tasks.first?["last_error"] == JSONValue.null)
        #expect(value["tasks"]?.arrayCount == 1)
        #expect(try JSONValueDecoder().decode(PlanDetail.self, from: value) == PlanDetail(plan: plan, tasks: [task], created: true))
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case let .array(items) = self { return items.count }
        return nil
    }
}

@Suite("Params")
struct ParamsTests {
    func invalid(_ body: () throws -> Void) -> RPCError? {
        do {
            try body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return nil
        }
    }

    @Test func planCreateValidatesEveryMember() {
        #expect(invalid { _ = try PlanCreateParams(params: nil) }?.message == "invalid params: goal is required")
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "  "]) }?.message == "invalid params: goal must not be empty")
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": 5]) }?.message == "invalid params: goal must be a string")
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "g", "agents": []]) }?.code == -32602)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "g", "agents": [1]]) }?.code == -32602)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "g", "max_attempts": 0]) }?.code == -32602)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "g", "max_attempts": .double(1e300)]) }?.code == -32602)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "a\u{0}b"]) }?.message.contains("NUL") == true)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": "g", "agnets": ["CFO"]]) }?.message.contains("agnets") == true)
        #expect(invalid { _ = try PlanCreateParams(params: [1, 2]) }?.message.contains("named") == true)
        #expect(invalid { _ = try PlanCreateParams(params: ["goal": .string(String(repeating: "x", count: (1 << 20) + 1))]) }?.reason
            == "too_large")
    }

    @Test func idsMustHaveTheirKind() {
        #expect(invalid { _ = try PlanIDParams(params: ["plan_id": "task_abc"]) }?.message.contains("not a plan id") == true)
        #expect(invalid { _ = try TaskIDParams(params: ["task_id": "task_ABC"]) }?.code == -32602)
        #expect(invalid { _ = try EventsListParams(params: ["plan_id": "plan_1", "limit": 0]) }?.code == -32602)
        #expect(invalid { _ = try PlanListParams(params: ["status": "done"]) }?.message.contains("open") == true)
        #expect(invalid { _ = try PlanListParams(params: ["cursor": "-4"]) }?.code == -32602)
        #expect((try? PlanListParams(params: ["status": "closed", "limit": .double(5)])) == PlanListParams(status: .closed, limit: 5))
    }
}
