import BoardCore
import Testing
@testable import BoardAgents

@Suite("No-op agents (benchmarks)")
struct NoopAgentTests {
    @Test func aNoopAgentIsConfiguredAndSucceedsAtOnceSayingSo() async throws {
        let registry = try AgentRegistry.parse(agents: ["CFO": ["backend": "noop"], "CEO": ["backend": "noop"]], planning: nil)
        let cfo = try #require(registry.agent("CFO"))
        #expect(cfo.backend == .noop)
        #expect(cfo.codename == "Abacus", "only the backend changes")
        let agent = AgentFactory.make(cfo)
        #expect(agent.isInstant)
        #expect(!AgentFactory.make(try #require(registry.agent("CTO"))).isInstant, "builtin agents keep their timeout")
        let work = AgentWork(
            taskID: .random(), planID: .random(), role: "CFO", description: "x", goal: "g", context: nil, attempt: 1, maxAttempts: 1)
        let result = try await agent.perform(work)
        #expect(result.backend == "noop")
        #expect(result.offline)
        #expect(result.summary.contains("no-op"))

        // A no-op CEO still closes a plan with a final plan naming every contributor.
        let plan = Plan(
            planID: .random(), goal: "g", context: nil, status: .synthesizing, idempotencyKey: nil, lastError: nil,
            createdAt: Timestamp(millisecondsSinceEpoch: 0), updatedAt: Timestamp(millisecondsSinceEpoch: 0), closedAt: nil)
        let final = try await Synthesizer(ceo: registry.ceo).synthesize(
            plan: plan, contributions: [Contribution(taskID: work.taskID, result: result)], now: Timestamp(millisecondsSinceEpoch: 1))
        #expect(final.contributors.map(\.agent) == ["CFO"])
        #expect(final.executiveSummary.contains("no-op"))
        #expect(final.confidence == 1)
    }

    @Test func aNoopAgentTakesNoCommand() {
        #expect(throws: BoardError.self) {
            try AgentRegistry.parse(agents: ["CFO": ["backend": "noop", "command": ["/bin/true"]]], planning: nil)
        }
    }
}
