import BoardCore
import Foundation
import Testing

/// The benchmarks' `noop` backend through the real daemon: the same lifecycle, events and final
/// plan as any agent, so a benchmark figure measures the daemon's real path.
@Suite("noop agents through the daemon", .timeLimit(.minutes(2)))
struct NoopAgentEndToEndTests {
    @Test func aPlanOfNoopTasksRunsItsWholeLifecycle() async throws {
        try await withSandbox { sandbox in
            let noop: JSONValue = ["backend": "noop"]
            let daemon = try await sandbox.startDaemon(config: testConfig(extra: [
                "agents": ["CFO": noop, "CTO": noop, "CEO": noop],
            ]))
            let created = try daemon.call("plan.create", [
                "goal": "measure the daemon", "tasks": [["agent": "CFO"], ["agent": "CTO", "after": [0]]],
            ])
            let planID = try #require(created["plan_id"]?.stringValue)
            let plan = try await daemon.waitForPlanStatus(planID, "closed")
            let tasks = try #require(plan["tasks"]?.arrayValue)
            #expect(tasks.map { $0["state"]?.stringValue } == ["completed", "completed"])
            #expect(tasks.allSatisfy { $0["result"]?["backend"] == "noop" && $0["attempts"] == 1 })
            // The dependent task started only after its dependency completed.
            let kinds = try daemon.eventKinds(planID)
            let cfo = try #require(tasks[0]["task_id"]?.stringValue)
            let cto = try #require(tasks[1]["task_id"]?.stringValue)
            #expect(try daemon.eventKinds(planID, task: cfo) == ["task_created", "task_started", "task_completed"])
            #expect(try daemon.eventKinds(planID, task: cto) == ["task_created", "task_started", "task_completed"])
            let events = try daemon.events(planID)
            let cfoCompleted = try #require(events.firstIndex { $0["task_id"]?.stringValue == cfo && $0["kind"] == "task_completed" })
            let ctoStarted = try #require(events.firstIndex { $0["task_id"]?.stringValue == cto && $0["kind"] == "task_started" })
            #expect(cfoCompleted < ctoStarted)
            #expect(kinds.last == "plan_closed")
            let result = try daemon.call("plan.result", ["plan_id": .string(planID)])
            #expect(result["contributors"]?.arrayValue?.count == 2, "\(result.serialized.prefix(600))")
        }
    }
}
