import BoardCore
import Foundation
import Testing
@testable import BoardAgents

@Suite("Agents")
struct AgentTests {
    let cfo = AgentDefinition(role: "CFO", codename: "Abacus", title: "Chief Financial Officer", expertise: "money")

    func work(role: String = "CFO") -> AgentWork {
        AgentWork(
            taskID: .random(), planID: .random(), role: role, description: "budget it", goal: "launch a SaaS", context: nil,
            attempt: 1, maxAttempts: 2)
    }

    @Test func theRegistryHasTheEssentialFiveAndFindsRolesAndCodenames() throws {
        let registry = try AgentRegistry()
        #expect(registry.agents.count == 20)
        #expect(registry.agent("Guardian")?.role == "CISO")
        #expect(registry.agents.allSatisfy { !$0.systemPrompt.isEmpty && $0.backend == .builtin })
        #expect(registry.agent("cfo")?.codename == "Abacus")
        #expect(registry.agent("Nexus")?.role == "CTO")
        #expect(registry.ceo.codename == "Odyssey")
    }

    @Test func aRegistryWithoutACEOIsRefused() {
        #expect(throws: BoardError.self) { try AgentRegistry(agents: [cfo], defaultRoles: ["CFO"]) }
    }

    @Test func plannerUsesTheDefaultsOrTheRequestedAgents() throws {
        let planner = Planner(registry: try AgentRegistry())
        let defaults = try planner.plan(GoalBrief(goal: "launch an SMB accounting SaaS in Q2"), requested: nil)
        #expect(defaults.map(\.role) == ["COO", "CFO", "CTO", "CMO"])
        #expect(defaults[1].after == [2], "the CFO's budget waits for the CTO's stack")
        #expect(defaults[3].after == [1], "the launch plan waits for the budget")
        #expect(defaults.allSatisfy { $0.description.contains("launch an SMB accounting SaaS in Q2") })
        #expect(Set(defaults.map(\.description)).count == 4, "each role gets its own brief")
        let picked = try planner.plan(GoalBrief(goal: "g"), requested: ["cfo", "Abacus", "Nexus"])
        #expect(picked.map(\.role) == ["CFO", "CTO"], "duplicates collapse, codenames resolve")
        #expect {
            _ = try planner.plan(GoalBrief(goal: "g"), requested: ["CFOO"])
        } throws: { ($0 as? BoardError)?.message.contains("unknown agent CFOO; known: CCO, CCOM") == true }
        let secure = try planner.plan(GoalBrief(goal: "hire a team and pass a SOC 2 security audit", budget: "$200k"), requested: nil)
        #expect(secure.map(\.role) == ["COO", "CFO", "CTO", "CMO", "CISO", "CHRO"], "rules add the relevant executives")
    }

    @Test func builtinAgentsAreLabelledOffline() async throws {
        let result = try await BuiltinAgent(definition: cfo).perform(work())
        #expect(result.offline)
        #expect(result.backend == "builtin")
        #expect(result.agent == "CFO")
        #expect(result.summary.contains("Offline"))
        #expect(!result.recommendations.isEmpty)
    }

    @Test func commandOutputIsParsedAsStructuredJSONOrText() throws {
        let structured = try CommandAgent.parse(
            #"{"summary":"s","findings":["f"],"risks":["r"],"recommendations":["x"],"confidence":1.7}"#, definition: cfo)
        #expect(structured.summary == "s")
        #expect(structured.findings == ["f"])
        #expect(structured.confidence == 1.0, "clamped")
        #expect(!structured.offline)
        let text = try CommandAgent.parse("First line\nmore detail", definition: cfo)
        #expect(text.summary == "First line")
        #expect(text.raw == "First line\nmore detail")
        #expect {
            _ = try CommandAgent.parse(#"{"escalate":"needs legal review"}"#, definition: cfo)
        } throws: { error in
            guard let failure = error as? AgentFailure else { return false }
            return failure.kind == .escalate && failure.message.contains("needs legal review")
        }
    }

    @Test func commandAgentsGetTheTaskOnStdinAndFailClearly() async throws {
        let echo = CommandAgent(definition: cfo, spec: CommandSpec(argv: ["/bin/cat"]))
        let echoed = try await echo.perform(work())
        let input = try JSONDecoder().decode(JSONValue.self, from: Data((echoed.raw ?? echoed.summary).utf8))
        #expect(input["kind"] == "task")
        #expect(input["agent"] == "CFO")
        #expect(input["goal"] == "launch a SaaS")
        #expect(input["attempt"] == 1)

        let failing = CommandAgent(definition: cfo, spec: CommandSpec(argv: ["/bin/sh", "-c", "echo 'quota exceeded' >&2; exit 3"]))
        await #expect {
            _ = try await failing.perform(work())
        } throws: { error in
            guard let failure = error as? AgentFailure else { return false }
            return failure.kind == .retryable && failure.message.contains("exited with status 3")
                && failure.message.contains("quota exceeded")
        }
        let missing = CommandAgent(definition: cfo, spec: CommandSpec(argv: ["/nonexistent/agent"]))
        await #expect {
            _ = try await missing.perform(work())
        } throws: { ($0 as? AgentFailure)?.kind == .permanent }
        let silent = CommandAgent(definition: cfo, spec: CommandSpec(argv: ["/bin/true"]))
        await #expect {
            _ = try await silent.perform(work())
        } throws: { ($0 as? AgentFailure)?.message.contains("printed nothing") == true }
    }

    @Test func builtinSynthesisCombinesTheContributions() async throws {
        let registry = try AgentRegistry()
        let now = Timestamp(millisecondsSinceEpoch: 0)
        let plan = Plan(
            planID: .random(), goal: "launch an SMB accounting SaaS in Q2", context: nil, status: .synthesizing, idempotencyKey: nil,
            lastError: nil, createdAt: now, updatedAt: now, closedAt: nil)
        var contributions: [Contribution] = []
        for role in ["COO", "CFO", "CTO", "CMO"] {
            let definition = try #require(registry.agent(role))
            let result = try await BuiltinAgent(definition: definition).perform(work(role: role))
            contributions.append(Contribution(taskID: .random(), result: result))
        }
        let finalPlan = try await Synthesizer(ceo: registry.ceo).synthesize(plan: plan, contributions: contributions, now: now)
        #expect(finalPlan.offline)
        #expect(finalPlan.contributors.map(\.agent) == ["COO", "CFO", "CTO", "CMO"])
        #expect(finalPlan.executiveSummary.contains("Abacus"))
        #expect((0...1).contains(finalPlan.confidence))
        #expect(finalPlan.markdown.contains("# Final plan: launch an SMB accounting SaaS in Q2"))
        #expect(!finalPlan.risks.isEmpty)
    }
}

@Suite("Orphaned agents")
struct OrphanAgentsTests {
    @Test func readsTheClaimFromAnEnvironmentBlock() {
        let block = Data("A=1\u{0}BOARD_CLAIM=boardd-1-ab task_1\u{0}B=2\u{0}".utf8)
        #expect(OrphanAgents.value(of: "BOARD_CLAIM", in: block) == "boardd-1-ab task_1")
        #expect(OrphanAgents.value(of: "MISSING", in: block) == nil)
    }

    @Test func killsOnlyTheProcessesOfTheGivenClaims() async throws {
        let task = TaskID.random()
        let claim = OrphanAgents.claim(owner: "boardd-test-\(UInt32.random(in: 0...UInt32.max))", task: task)
        func start(_ claim: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = ["30"]
            process.environment = ["BOARD_CLAIM": claim]
            try process.run()
            return process
        }
        let orphan = try start(claim)
        let bystander = try start(claim + "-other")
        defer { bystander.terminate() }
        // /proc/PID/environ is readable once exec has happened; poll briefly for it.
        var killed: [pid_t] = []
        for _ in 0..<200 where killed.isEmpty {
            killed = OrphanAgents.terminate(claims: [claim])
            if killed.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(killed == [orphan.processIdentifier])
        orphan.waitUntilExit()
        #expect(orphan.terminationReason == .uncaughtSignal)
        #expect(bystander.isRunning)
    }
}

@Suite("Goal briefs")
struct GoalBriefTests {
    @Test func anEmptyContextStaysEmptyAndExtrasAreLabelled() {
        #expect(GoalBrief(goal: "g", context: "").combinedContext == "")
        #expect(GoalBrief(goal: "g").combinedContext == nil)
        #expect(GoalBrief(goal: "g", context: "two founders", deadline: "Q2", budget: "$1M").combinedContext
            == "two founders\nDeadline: Q2\nBudget: $1M")
        #expect(GoalBrief(goal: "g", context: "", constraints: "no ads").combinedContext == "Constraints: no ads")
    }
}
