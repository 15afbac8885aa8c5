import BoardCore
import Foundation
import Testing

/// Goals are stored and returned byte for byte, whatever they contain.
@Suite("goals round-trip byte-exact", .timeLimit(.minutes(2)))
struct GoalRoundTripTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var goal: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "SQL metacharacters", goal: "'; DROP TABLE plans; -- \" OR 1=1 -- %_ [x] \\' \\\\ ;;"),
        Case(name: "shell metacharacters", goal: "$(rm -rf /) `whoami` ${HOME} | tee /x && echo; > /dev/null 2>&1 & *?~ !! #"),
        Case(name: "newlines and control characters", goal: "line one\nline two\r\nline three\ttabbed\u{0B}\u{0C}\u{1B}[31mred\u{7F} end\n"),
        Case(name: "unicode", goal: "Ünïcødé 🚀👩‍👩‍👧 日本語 עברית العربية e\u{0301} vs \u{00E9} \u{FEFF}\u{200B} 𝔘𝔫𝔦"),
        Case(name: "JSON-looking", goal: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"plan.cancel\"}\n\\u0000 \\n /* */ </script>"),
        Case(name: "200 KB", goal: String(
            String(repeating: "Grow ARR 3× in Q2 — 'quotes' \"dq\" $(x) 日本\n", count: 4_000).utf8.prefix(200 * 1024))!),
    ]

    @Test(arguments: cases)
    func goalIsStoredAndReturnedByteExact(_ testCase: Case) async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let context = "context: " + testCase.goal.prefix(100)
            let created = try daemon.call(
                "plan.create", ["goal": .string(testCase.goal), "context": .string(context), "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            #expect(Array(created["goal"]?.stringValue?.utf8 ?? "".utf8) == Array(testCase.goal.utf8))

            let plan = try daemon.plan(planID)
            let stored = try #require(plan["goal"]?.stringValue)
            #expect(stored.utf8.count == testCase.goal.utf8.count)
            #expect(Array(stored.utf8) == Array(testCase.goal.utf8), "goal differs after the round trip")
            #expect(Array((plan["context"]?.stringValue ?? "").utf8) == Array(context.utf8))

            let listed = try daemon.call("plan.list")["plans"]?.arrayValue?.first { $0["plan_id"]?.stringValue == planID }
            #expect(Array((listed?["goal"]?.stringValue ?? "").utf8) == Array(testCase.goal.utf8))

            // And through the synthesis into the final plan.
            _ = try await daemon.waitForPlanStatus(planID, "closed")
            let result = try daemon.call("plan.result", ["plan_id": .string(planID)])
            #expect(Array((result["goal"]?.stringValue ?? "").utf8) == Array(testCase.goal.utf8))
        }
    }

    /// A NUL character is valid in a JSON string. The daemon may refuse it (SQLite text stops at
    /// NUL), but it must never store a silently truncated goal.
    @Test func goalWithNULCharacterIsRefusedOrKeptWhole() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let goal = "before\u{0000}after"
            do {
                let created = try daemon.call("plan.create", ["goal": .string(goal), "agents": ["CFO"]])
                let planID = try #require(created["plan_id"]?.stringValue)
                let stored = try daemon.plan(planID)["goal"]?.stringValue ?? ""
                #expect(Array(stored.utf8) == Array(goal.utf8), "stored goal: \(stored.debugDescription)")
            } catch let failure as RPCFailure {
                #expect(failure.code == -32602, "\(failure)")
                #expect(failure.reason == "invalid_params", "\(failure)")
                #expect(failure.message.contains("NUL"), "\(failure)")
                #expect(try daemon.call("plan.list")["plans"] == [], "a refused plan must not be stored")
            }
        }
    }
}
