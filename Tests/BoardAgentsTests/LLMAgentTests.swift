import AsyncHTTPClient
import BoardCore
import BoardLLM
import BoardTestSupport
import Foundation
import Testing
@testable import BoardAgents

// LLM agents, the model CEO's planning and its synthesis, in process, against a fake language-model
// server on 127.0.0.1. The limits on waiting only catch hangs; nothing asserts how long anything took.

/// The AgentFailure `operation` throws, or `nil` (with a recorded issue) when it throws something
/// else or nothing.
private func agentFailure<T>(_ operation: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async
    -> AgentFailure?
{
    do {
        _ = try await operation()
        Issue.record("expected an AgentFailure, got a result", sourceLocation: sourceLocation)
    } catch let failure as AgentFailure {
        return failure
    } catch {
        Issue.record("expected an AgentFailure, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// How a fake server of each flavor is addressed and answers.
extension LLMSpec.Flavor: CustomTestStringConvertible {
    public var testDescription: String { rawValue }

    func spec(_ server: FakeLLMServer, model: String = "test-model") -> LLMSpec {
        switch self {
        case .ollama:
            LLMSpec(flavor: .ollama, baseURL: server.baseURL, model: model, temperature: 0.2, contextSize: 4096, keepAlive: "1m",
                    timeoutSeconds: 30)
        case .openai:
            LLMSpec(flavor: .openai, baseURL: server.baseURL + "/v1", model: model, temperature: 0.2, timeoutSeconds: 30)
        }
    }

    var chatPath: String { self == .ollama ? "/api/chat" : "/v1/chat/completions" }

    /// A 200 answer carrying `content`, reporting `promptTokens` and `completionTokens`.
    func answer(_ content: String, model: String = "served-model", promptTokens: Int = 111, completionTokens: Int = 222)
        -> FakeLLMServer.Response
    {
        switch self {
        case .ollama:
            .json(LLMAnswers.ollama(content, model: model, promptTokens: promptTokens, completionTokens: completionTokens))
        case .openai:
            .json(LLMAnswers.openAI(content, model: model, promptTokens: promptTokens, completionTokens: completionTokens))
        }
    }

    /// How the server says it does not know `model`.
    func modelNotFound(_ model: String) -> FakeLLMServer.Response {
        switch self {
        case .ollama:
            .json(["error": .string("model '\(model)' not found")], status: 404)
        case .openai:
            .json(["error": ["message": .string("The model `\(model)` does not exist"), "code": "model_not_found"]], status: 404)
        }
    }
}

private let connections = LLMConnections(httpClient: .shared)
private let fixedNow = Timestamp(millisecondsSinceEpoch: 1_780_000_000_000)

/// The built-in persona of `role`, moved to an LLM backend.
private func persona(_ role: String, on spec: LLMSpec) throws -> AgentDefinition {
    var definition = try #require(try AgentRegistry().agent(role))
    definition.backend = .llm(spec)
    return definition
}

private func work(dependencies: [AgentResult] = []) -> AgentWork {
    AgentWork(
        taskID: .random(), planID: .random(), role: "CFO", description: "Budget the first year, month by month",
        goal: "launch an SMB accounting SaaS in Q2", context: "two founders, €200k", attempt: 1, maxAttempts: 2,
        dependencyResults: dependencies)
}

private let ctoResult = AgentResult(
    agent: "CTO", codename: "Nexus", backend: "ollama", offline: false,
    summary: "Build on managed Postgres in one EU region; a modular monolith first",
    recommendations: ["Use a managed database", "Keep one region", "Automate backups", "Adopt SSO", "Log everything",
                      "SIXTH RECOMMENDATION NOT SENT"],
    confidence: 0.9)

private let goodAnalysis = """
    {"summary": "Runway of 14 months at €14k burn", "findings": ["Hosting is 4% of costs"], \
    "risks": ["Payment fees rise"], "recommendations": ["Price at €29 per seat", "Keep €50k reserve"], \
    "confidence": 0.85, "citations": ["https://example.com/saas-benchmarks"]}
    """

@Suite("LLM agents", .timeLimit(.minutes(1)))
struct LLMAgentTests {
    @Test(arguments: LLMSpec.Flavor.allCases)
    func sendsThePersonaTheGoalTheTaskAndTheDependencyResults(_ flavor: LLMSpec.Flavor) async throws {
        try await FakeLLMServer.run({ _ in flavor.answer(goodAnalysis) }) { server in
            let cfo = try persona("CFO", on: flavor.spec(server))
            _ = try await AgentFactory.make(cfo, connections: connections).perform(work(dependencies: [ctoResult]))

            #expect(server.requests.count == 1)
            let request = try #require(server.requests.first)
            #expect(request.method == .POST)
            #expect(request.path == flavor.chatPath)
            #expect(request.json?["model"] == "test-model")
            #expect(request.json?["stream"] == false)
            #expect(request.schema == AnalysisFormat.schema, "the answer's JSON schema is sent")
            #expect(request.messages.map(\.role) == ["system", "user"])

            let system = try #require(request.message("system"))
            #expect(system.hasPrefix(cfo.systemPrompt), "the persona speaks first: \(system)")
            #expect(system.contains("You are Abacus, the Chief Financial Officer"))
            #expect(system.contains(#""citations": [string]"#), "the answer format is explained")

            let user = try #require(request.message("user"))
            #expect(user.contains("launch an SMB accounting SaaS in Q2"), "the goal: \(user)")
            #expect(user.contains("two founders, €200k"), "the context: \(user)")
            #expect(user.contains("Budget the first year, month by month"), "the task: \(user)")
            #expect(user.contains("Nexus (CTO): Build on managed Postgres in one EU region"), "the dependency's summary: \(user)")
            #expect(user.contains("Use a managed database") && user.contains("Log everything"), "its recommendations: \(user)")
            #expect(!user.contains("SIXTH RECOMMENDATION NOT SENT"), "at most five recommendations per dependency")

            switch flavor {
            case .ollama:
                #expect(request.json?["options"] == ["temperature": .double(0.2), "num_ctx": 4096])
                #expect(request.json?["keep_alive"] == "1m")
            case .openai:
                #expect(request.json?["temperature"] == .double(0.2))
            }
        }
    }

    @Test func withoutDependenciesOrContextThePromptSaysNothingAboutThem() async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(goodAnalysis) }) { server in
            let cfo = try persona("CFO", on: LLMSpec.Flavor.ollama.spec(server))
            var bare = work()
            bare.context = nil
            _ = try await AgentFactory.make(cfo, connections: connections).perform(bare)
            let user = try #require(server.requests.first?.message("user"))
            #expect(!user.contains("Context:"), "\(user)")
            #expect(!user.contains("colleagues"), "\(user)")
        }
    }

    @Test(arguments: LLMSpec.Flavor.allCases)
    func parsesAGoodAnswerIntoAResult(_ flavor: LLMSpec.Flavor) async throws {
        let result = try await FakeLLMServer.run({ _ in flavor.answer(goodAnalysis, promptTokens: 321, completionTokens: 654) }) {
            server in
            try await AgentFactory.make(try persona("CFO", on: flavor.spec(server)), connections: connections).perform(work())
        }
        #expect(result.agent == "CFO")
        #expect(result.codename == "Abacus")
        #expect(result.backend == flavor.rawValue)
        #expect(result.offline == false)
        #expect(result.summary == "Runway of 14 months at €14k burn")
        #expect(result.findings == ["Hosting is 4% of costs"])
        #expect(result.risks == ["Payment fees rise"])
        #expect(result.recommendations == ["Price at €29 per seat", "Keep €50k reserve"])
        #expect(result.confidence == 0.85)
        #expect(result.citations == ["https://example.com/saas-benchmarks"])
        let usage = try #require(result.usage)
        #expect(usage.promptTokens == 321, "the server's counts")
        #expect(usage.completionTokens == 654)
        #expect(usage.model == "served-model", "the model as the server names it")
        #expect(usage.latencyMilliseconds >= 0)
    }

    @Test func aFencedAnswerIsReadAndAnOutOfRangeConfidenceIsClamped() async throws {
        let fenced = "```json\n{\"summary\": \"fenced\", \"confidence\": 1.7}\n```"
        let result = try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(fenced) }) { server in
            try await AgentFactory.make(try persona("CFO", on: LLMSpec.Flavor.ollama.spec(server)), connections: connections)
                .perform(work())
        }
        #expect(result.summary == "fenced")
        #expect(result.confidence == 1)
        #expect(result.findings.isEmpty && result.citations.isEmpty, "missing lists are empty")
    }

    @Test(arguments: LLMSpec.Flavor.allCases)
    func aJunkAnswerIsARetryableFailure(_ flavor: LLMSpec.Flavor) async throws {
        for junk in ["I think the budget should be about €200k.", #"{"no_summary": true}"#, "[1, 2]"] {
            try await FakeLLMServer.run({ _ in flavor.answer(junk) }) { server in
                let agent = AgentFactory.make(try persona("CFO", on: flavor.spec(server)), connections: connections)
                let failure = await agentFailure { try await agent.perform(work()) }
                #expect(failure?.kind == .retryable, "a model may answer better next time")
                #expect(failure?.message.hasPrefix("CFO: test-model at ") == true, "\(failure?.message ?? "")")
                #expect(failure?.message.contains("without the expected JSON") == true)
                #expect(failure?.message.contains(String(junk.prefix(20))) == true, "quotes the answer: \(failure?.message ?? "")")
            }
        }
    }

    @Test(arguments: LLMSpec.Flavor.allCases, [500, 502, 503])
    func aServerErrorIsRetryable(_ flavor: LLMSpec.Flavor, status: Int) async throws {
        try await FakeLLMServer.run({ _ in .json(["error": "overloaded"], status: status) }) { server in
            let agent = AgentFactory.make(try persona("CFO", on: flavor.spec(server)), connections: connections)
            let failure = await agentFailure { try await agent.perform(work()) }
            #expect(failure?.kind == .retryable)
            #expect(failure?.message.hasPrefix("CFO: ") == true)
            #expect(failure?.message.contains("HTTP \(status)") == true, "\(failure?.message ?? "")")
            #expect(failure?.retryAfter == nil)
        }
    }

    @Test(arguments: LLMSpec.Flavor.allCases)
    func anUnknownModelIsPermanentAndNamesTheModel(_ flavor: LLMSpec.Flavor) async throws {
        try await FakeLLMServer.run({ _ in flavor.modelNotFound("no-such-model") }) { server in
            let agent = AgentFactory.make(try persona("CFO", on: flavor.spec(server, model: "no-such-model")), connections: connections)
            let failure = await agentFailure { try await agent.perform(work()) }
            #expect(failure?.kind == .permanent, "retrying cannot conjure a model")
            #expect(failure?.message.contains("model no-such-model") == true, "\(failure?.message ?? "")")
            #expect(failure?.message.contains("HTTP 404") == true)
            #expect(failure?.message.hasPrefix("CFO: ") == true)
        }
    }

    @Test(arguments: LLMSpec.Flavor.allCases)
    func rateLimitingIsRetryableAfterTheServersDelay(_ flavor: LLMSpec.Flavor) async throws {
        try await FakeLLMServer.run({ _ in .init(status: 429, headers: [("Retry-After", "7")], body: "slow down") }) { server in
            let agent = AgentFactory.make(try persona("CFO", on: flavor.spec(server)), connections: connections)
            let failure = await agentFailure { try await agent.perform(work()) }
            #expect(failure?.kind == .retryable)
            #expect(failure?.retryAfter == .seconds(7))
            #expect(failure?.message.contains("HTTP 429") == true)
        }
    }

    @Test func theAPIKeyFileIsSentAsABearerToken() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("board-key-\(UUID().uuidString)").path
        try Data("sk-test-0123456789\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.openai.answer(goodAnalysis) }) { server in
            var spec = LLMSpec.Flavor.openai.spec(server)
            spec.apiKeyFile = path
            _ = try await AgentFactory.make(try persona("CFO", on: spec), connections: connections).perform(work())
            #expect(server.requests.first?.header("Authorization") == "Bearer sk-test-0123456789")

            spec.apiKeyFile = path + ".missing"
            let failure = await agentFailure {
                try await AgentFactory.make(try persona("CFO", on: spec), connections: connections).perform(work())
            }
            #expect(failure?.kind == .permanent)
            #expect(failure?.message.contains("API key") == true, "\(failure?.message ?? "")")
            #expect(server.requests.count == 1, "no request without the key")
        }
    }

    @Test func withoutAnHTTPClientTheAgentFailsPermanently() async throws {
        let spec = LLMSpec(flavor: .ollama, baseURL: "http://127.0.0.1:9", model: "m")
        let failure = await agentFailure {
            try await AgentFactory.make(try persona("CFO", on: spec), connections: .offline).perform(work())
        }
        #expect(failure?.kind == .permanent)
        #expect(failure?.message.contains("no HTTP client") == true)
    }

    @Test func cancellingTheAttemptAbortsTheRequest() async throws {
        try await FakeLLMServer.run({ _ in
            try? await Task.sleep(for: .seconds(3600))  // never answers while the client is there
            return LLMSpec.Flavor.ollama.answer(goodAnalysis)
        }) { server in
            let agent = AgentFactory.make(try persona("CFO", on: LLMSpec.Flavor.ollama.spec(server)), connections: connections)
            let attempt = Task { try await agent.perform(work()) }
            #expect(await server.eventually { $0.requests.count == 1 })
            attempt.cancel()
            let outcome = await attempt.result
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(await server.eventually { $0.connectionsClosed == 1 }, "the server sees the connection closed")
        }
    }
}

// MARK: - CEO planning

/// A board whose every agent (the CEO included) is served by `server` through Ollama.
private func llmBoard(_ server: FakeLLMServer, model: String = "ceo-model") throws -> AgentRegistry {
    try AgentRegistry.parse(
        agents: nil, planning: nil,
        backends: ["default": "ollama", "ollama": ["url": .string(server.baseURL), "model": .string(model), "timeout_s": 30]])
}

private func plan(_ tasks: [(agent: String, description: String, after: [Int])]) -> String {
    let value: JSONValue = [
        "tasks": .array(tasks.map { ["agent": .string($0.agent), "description": .string($0.description), "after": .array($0.after.map { .int(Int64($0)) })] }),
    ]
    return value.serialized
}

private let validPlan = plan([("CTO", "Choose the stack", []), ("Abacus", "Budget the stack", [0]), ("cmo", "Plan the launch", [1])])

@Suite("CEO planning with a model", .timeLimit(.minutes(1)))
struct CEOPlannerTests {
    @Test func aValidPlanBecomesPlannedTasksWithDependencies() async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(validPlan) }) { server in
            let planner = CEOPlanner(registry: try llmBoard(server), connections: connections)
            #expect(planner.usesModel)
            let tasks = try await planner.plan(GoalBrief(goal: "launch an SMB accounting SaaS in Q2", budget: "€200k"))
            #expect(tasks == [
                PlannedTask(role: "CTO", description: "Choose the stack", after: []),
                PlannedTask(role: "CFO", description: "Budget the stack", after: [0]),
                PlannedTask(role: "CMO", description: "Plan the launch", after: [1]),
            ], "codenames and lower-case roles resolve to roles")

            #expect(server.requests.count == 1)
            let request = try #require(server.requests.first)
            #expect(request.json?["model"] == "ceo-model")
            #expect(request.schema == CEOPlanner.schema)
            #expect(request.schemaHasProperty("tasks"))
            let system = try #require(request.message("system"))
            #expect(system.contains("You are Odyssey, the Chief Executive Officer"), "the CEO's persona: \(system)")
            #expect(system.contains("- CFO (Abacus, Chief Financial Officer)"), "the roster: \(system)")
            #expect(!system.contains("- CEO (Odyssey"), "the CEO does not assign itself")
            let user = try #require(request.message("user"))
            #expect(user.contains("launch an SMB accounting SaaS in Q2") && user.contains("Budget: €200k"), "\(user)")
        }
    }

    @Test func anUnknownAgentGetsOneRepairWithTheValidationError() async throws {
        let wrong = plan([("CTO", "Choose the stack", []), ("CFOO", "Budget it", [0])])
        try await FakeLLMServer.run({ request in
            // The repair request carries the first answer and the complaint: four messages.
            LLMSpec.Flavor.ollama.answer(request.messages.count == 2 ? wrong : validPlan)
        }) { server in
            let planner = CEOPlanner(registry: try llmBoard(server), connections: connections)
            let (tasks, usage) = try await planner.planWithUsage(GoalBrief(goal: "launch a SaaS"))
            #expect(tasks.map(\.role) == ["CTO", "CFO", "CMO"])
            #expect(usage?.promptTokens == 222 && usage?.completionTokens == 444, "the plan and its repair")
            #expect(tasks.map(\.after) == [[], [0], [1]])

            #expect(server.requests.count == 2)
            let repair = try #require(server.requests.last)
            #expect(repair.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(repair.messages[0] == server.requests[0].messages[0], "the same instructions")
            #expect(repair.messages[1] == server.requests[0].messages[1], "the same goal")
            #expect(repair.messages[2].content == wrong, "the model sees its own answer")
            let complaint = repair.messages[3].content
            #expect(complaint.contains("invalid"), "\(complaint)")
            #expect(complaint.contains(#"unknown agent "CFOO""#), "the validation error: \(complaint)")
            #expect(complaint.contains("known: ") && complaint.contains("CFO"), "the valid roles: \(complaint)")
            #expect(repair.schema == CEOPlanner.schema)
        }
    }

    @Test(arguments: [
        "not json at all",
        #"{"tasks": []}"#,
        #"{"tasks": [{"agent": "CTO", "description": "   ", "after": []}]}"#,
        #"{"tasks": [{"agent": "CTO", "description": "x", "after": ["first"]}]}"#,
    ])
    func anInvalidPlanTwiceFails(_ answer: String) async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(answer) }) { server in
            let planner = CEOPlanner(registry: try llmBoard(server), connections: connections)
            let failure = await agentFailure { try await planner.plan(GoalBrief(goal: "launch a SaaS")) }
            #expect(failure?.message.contains("invalid plan twice") == true, "\(failure?.message ?? "")")
            #expect(failure?.message.hasPrefix("CEO: ceo-model at ") == true, "names the CEO, model and server")
            #expect(server.requests.count == 2, "one repair, no more")
        }
    }

    @Test func aCyclicPlanIsRefused() async throws {
        let cyclic = plan([("CTO", "Choose the stack", [1]), ("CFO", "Budget the stack", [0])])
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(cyclic) }) { server in
            let planner = CEOPlanner(registry: try llmBoard(server), connections: connections)
            let failure = await agentFailure { try await planner.plan(GoalBrief(goal: "launch a SaaS")) }
            #expect(failure?.message.contains("invalid plan twice") == true)
            #expect(failure?.message.contains("cycle") == true, "\(failure?.message ?? "")")
            let complaint = try #require(server.requests.last?.messages.last?.content)
            #expect(complaint.contains("cycle"), "the repair request explains the cycle: \(complaint)")
        }
        // The validation on its own: self-dependencies and positions outside the plan too.
        let planner = CEOPlanner(registry: try AgentRegistry(), connections: .offline)
        #expect(throws: BoardError.self) { try planner.validate(cyclic) }
        #expect(throws: BoardError.self) { try planner.validate(plan([("CTO", "x", [0])])) }
        #expect(throws: BoardError.self) { try planner.validate(plan([("CTO", "x", [5])])) }
        #expect(throws: BoardError.self) { try planner.validate(plan(Array(repeating: (agent: "CTO", description: "x", after: [Int]()), count: 21))) }
    }

    @Test func theRepairRequestNumbersTasksAsTheModelDid() throws {
        // The instructions say "after" holds 0-based positions in the model's list, and an unknown
        // agent is reported that way ("task 0 names…"). Dependency errors must use the same
        // numbering, or the repair request points the model at the wrong task.
        let planner = CEOPlanner(registry: try AgentRegistry(), connections: .offline)
        let unknown = planner.validateError(plan([("CTOO", "x", [])]))
        #expect(unknown?.contains("task 0 names an unknown agent") == true, "\(unknown ?? "")")
        let outOfRange = planner.validateError(plan([("CTO", "x", []), ("CFO", "y", [2])]))
        #expect(outOfRange?.contains("task 1 (CFO) depends on task 2") == true, "\(outOfRange ?? "")")
        let selfDependent = planner.validateError(plan([("CTO", "x", []), ("CFO", "y", [1])]))
        #expect(selfDependent?.contains("task 1 (CFO) depends on itself") == true, "\(selfDependent ?? "")")
        let cycle = planner.validateError(plan([("CTO", "x", [1]), ("CFO", "y", [0])]))
        #expect(cycle?.contains("CTO (task 0)") == true && cycle?.contains("CFO (task 1)") == true, "\(cycle ?? "")")
    }

    @Test func aServerErrorWhilePlanningIsAFailureNotARepair() async throws {
        try await FakeLLMServer.run({ _ in .json(["error": "model 'ceo-model' not found"], status: 404) }) { server in
            let planner = CEOPlanner(registry: try llmBoard(server), connections: connections)
            let failure = await agentFailure { try await planner.plan(GoalBrief(goal: "launch a SaaS")) }
            #expect(failure?.kind == .permanent)
            #expect(failure?.message.contains("model ceo-model") == true, "\(failure?.message ?? "")")
            #expect(server.requests.count == 1)
        }
    }

    @Test func anOfflineCEOPlansWithTheRules() async throws {
        let planner = CEOPlanner(registry: try AgentRegistry(), connections: .offline)
        #expect(!planner.usesModel)
        let tasks = try await planner.plan(GoalBrief(goal: "launch an SMB accounting SaaS in Q2"))
        #expect(tasks.map(\.role) == ["COO", "CFO", "CTO", "CMO"])
    }
}

extension CEOPlanner {
    /// The validation error's message for `text`, or `nil` when it validates.
    func validateError(_ text: String) -> String? {
        do {
            _ = try validate(text)
            return nil
        } catch {
            return error.message
        }
    }
}

// MARK: - Synthesis

private let synthesisAnswer = """
    {"executive_summary": "Launch in Q2 on managed Postgres with €29 seats", "strategy": ["Build", "Price", "Launch"], \
    "risks": ["Payment fees"], "recommendations": ["Hire a designer"], "confidence": 0.77}
    """

private func contributions() -> [Contribution] {
    [
        Contribution(taskID: .random(), result: AgentResult(
            agent: "CTO", codename: "Nexus", backend: "ollama", offline: false, summary: "Managed Postgres, modular monolith",
            findings: ["One region suffices"], recommendations: ["Automate backups"], confidence: 0.9,
            citations: ["https://a.example", "https://b.example"])),
        Contribution(taskID: .random(), result: AgentResult(
            agent: "CFO", codename: "Abacus", backend: "ollama", offline: false, summary: "€29 per seat; 14 months of runway",
            risks: ["Payment fees rise"], confidence: 0.7, citations: ["https://b.example", "https://c.example"])),
    ]
}

private func synthesisPlan() -> BoardCore.Plan {
    BoardCore.Plan(
        planID: .random(), goal: "launch an SMB accounting SaaS in Q2", context: "two founders", status: .synthesizing,
        idempotencyKey: nil, lastError: nil, createdAt: fixedNow, updatedAt: fixedNow, closedAt: nil)
}

@Suite("Synthesis with a model", .timeLimit(.minutes(1)))
struct LLMSynthesisTests {
    @Test func aValidAnswerBecomesTheFinalPlan() async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(synthesisAnswer) }) { server in
            let synthesizer = Synthesizer(ceo: try llmBoard(server).ceo, connections: connections)
            let plan = synthesisPlan()
            let given = contributions()
            let final = try await synthesizer.synthesize(plan: plan, contributions: given, now: fixedNow)

            #expect(final.planID == plan.planID)
            #expect(final.offline == false)
            #expect(final.synthesizedBy == "Odyssey (CEO)")
            #expect(final.executiveSummary == "Launch in Q2 on managed Postgres with €29 seats")
            #expect(final.strategy == ["Build", "Price", "Launch"])
            #expect(final.risks == ["Payment fees"])
            #expect(final.recommendations == ["Hire a designer"])
            #expect(final.confidence == 0.77)
            #expect(final.references == ["https://a.example", "https://b.example", "https://c.example"],
                    "the contributors' citations, each once, in order")
            #expect(final.contributors.map(\.agent) == ["CTO", "CFO"])
            #expect(final.contributors.map(\.taskID) == given.map(\.taskID))
            #expect(final.usage?.promptTokens == 111 && final.usage?.completionTokens == 222, "the CEO's own tokens: \(String(describing: final.usage))")
            #expect(final.usage?.model == "served-model")

            #expect(server.requests.count == 1)
            let request = try #require(server.requests.first)
            #expect(request.schemaHasProperty("executive_summary"))
            #expect(request.schema == Synthesizer.schema)
            let user = try #require(request.message("user"))
            #expect(user.contains("launch an SMB accounting SaaS in Q2") && user.contains("two founders"), "\(user)")
            #expect(user.contains("Nexus (CTO)") && user.contains("Managed Postgres, modular monolith"), "\(user)")
            #expect(user.contains("Abacus (CFO)") && user.contains("€29 per seat; 14 months of runway"), "\(user)")
            #expect(user.contains("Automate backups") && user.contains("Payment fees rise"), "findings, risks, recommendations: \(user)")
        }
    }

    @Test(arguments: ["Here is the plan: launch it.", #"{"executive_summary": ""}"#])
    func junkThenAValidAnswerSucceedsOnRepair(_ junk: String) async throws {
        try await FakeLLMServer.run({ request in
            LLMSpec.Flavor.ollama.answer(request.messages.count == 2 ? junk : synthesisAnswer)
        }) { server in
            let synthesizer = Synthesizer(ceo: try llmBoard(server).ceo, connections: connections)
            let final = try await synthesizer.synthesize(plan: synthesisPlan(), contributions: contributions(), now: fixedNow)
            #expect(final.executiveSummary == "Launch in Q2 on managed Postgres with €29 seats")
            #expect(final.offline == false)
            #expect(server.requests.count == 2)
            #expect(final.usage?.promptTokens == 222 && final.usage?.completionTokens == 444, "both calls count")
            let repair = try #require(server.requests.last)
            #expect(repair.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(repair.messages[2].content == junk)
            #expect(repair.messages[3].content.contains("invalid"), "\(repair.messages[3].content)")
        }
    }

    @Test func junkTwiceFailsTheSynthesis() async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer("no JSON here, sorry") }) { server in
            let synthesizer = Synthesizer(ceo: try llmBoard(server).ceo, connections: connections)
            let failure = await agentFailure {
                try await synthesizer.synthesize(plan: synthesisPlan(), contributions: contributions(), now: fixedNow)
            }
            #expect(failure?.kind == .retryable, "the plan becomes failed and can be retried")
            #expect(failure?.message.contains("invalid synthesis twice") == true, "\(failure?.message ?? "")")
            #expect(failure?.message.contains("no JSON here, sorry") == true, "quotes the answer")
            #expect(server.requests.count == 2)
        }
    }

    @Test func theSynthesisInstructionsAreOneCleanParagraph() async throws {
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(synthesisAnswer) }) { server in
            let synthesizer = Synthesizer(ceo: try llmBoard(server).ceo, connections: connections)
            _ = try await synthesizer.synthesize(plan: synthesisPlan(), contributions: contributions(), now: fixedNow)
            let system = try #require(server.requests.first?.message("system"))
            #expect(system.contains(#"{"executive_summary": string"#))
            // No runs of spaces left over from the source's line continuations.
            #expect(!system.contains("  "), "\(system)")
        }
    }

    @Test func aMissingConfidenceIsTheContributorsMean() async throws {
        let answer = #"{"executive_summary": "Go", "strategy": [], "risks": [], "recommendations": []}"#
        try await FakeLLMServer.run({ _ in LLMSpec.Flavor.ollama.answer(answer) }) { server in
            let synthesizer = Synthesizer(ceo: try llmBoard(server).ceo, connections: connections)
            let final = try await synthesizer.synthesize(plan: synthesisPlan(), contributions: contributions(), now: fixedNow)
            #expect(abs(final.confidence - 0.8) < 1e-9, "mean of 0.9 and 0.7")
        }
    }
}
