// The real boardd with every executive on a language model: a fake Ollama server in this process
// plays the CEO (planning and synthesis) and the specialists, and boardctl drives the daemon.

import BoardCore
import BoardTestSupport
import Foundation
import Synchronization
import Testing

/// A fake Ollama that plays the whole board, answering each request by what it asks for:
/// - a schema with `tasks` is the CEO planning: CTO, then CFO after it;
/// - a schema with `executive_summary` is the CEO's synthesis: it quotes the summaries it was given;
/// - anything else is a specialist's task: a summary naming the executive of the system prompt.
final class BoardModel: Sendable {
    struct Settings: Sendable {
        /// Answer planning requests with junk instead of a plan.
        var junkPlans = false
        /// Hold planning requests until this is false again.
        var holdPlanning = false
        /// Never answer planning requests (until the client goes away).
        var hangPlanning = false
        /// Never answer task requests (until the client goes away).
        var hangTasks = false
        /// Never answer synthesis requests (until the client goes away).
        var hangSynthesis = false
        /// The confidence of every task answer.
        var taskConfidence = 0.9
    }

    enum Kind: Sendable { case planning, synthesis, task }

    private let settings: Mutex<Settings>
    /// The kinds of the requests whose client went away before they were answered.
    private let abandonedKinds = Mutex<[Kind]>([])

    init(_ settings: Settings = Settings()) {
        self.settings = Mutex(settings)
    }

    func update(_ change: @Sendable (inout Settings) -> Void) {
        settings.withLock { change(&$0) }
    }

    var current: Settings { settings.withLock { $0 } }

    /// How many requests of `kind` the client abandoned (the fake server cancels the answer when
    /// the connection closes): the proof that the daemon stopped waiting, not just moved on.
    func abandoned(_ kind: Kind) -> Int { abandonedKinds.withLock { $0.filter { $0 == kind }.count } }

    static func kind(of request: FakeLLMServer.Request) -> Kind {
        if request.schemaHasProperty("tasks") { return .planning }
        if request.schemaHasProperty("executive_summary") { return .synthesis }
        return .task
    }

    /// The executive a task request speaks to: "You are Abacus, the Chief Financial Officer…" → Abacus.
    static func codename(of request: FakeLLMServer.Request) -> String? {
        guard let system = request.message("system"), let start = system.range(of: "You are ") else { return nil }
        let name = system[start.upperBound...].prefix { $0 != "," }
        return name.isEmpty ? nil : String(name)
    }

    static func summary(of codename: String) -> String { "\(codename) finds the goal feasible (fake model)" }

    /// The requests of one kind (and, for tasks, one executive), oldest first.
    static func requests(_ server: FakeLLMServer, _ kind: Kind, codename: String? = nil) -> [FakeLLMServer.Request] {
        server.requests.filter { Self.kind(of: $0) == kind && (codename == nil || Self.codename(of: $0) == codename) }
    }

    var handler: FakeLLMServer.Handler {
        { [self] request in await self.answer(request) }
    }

    private func answer(_ request: FakeLLMServer.Request) async -> FakeLLMServer.Response {
        switch Self.kind(of: request) {
        case .planning:
            while current.holdPlanning, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            if current.hangPlanning { return await hang(.planning) }
            if current.junkPlans { return Self.ok("Sure! The CTO should pick a stack, then the CFO budgets it.") }
            let plan: JSONValue = [
                "tasks": [
                    ["agent": "CTO", "description": "Choose the technology stack", "after": []],
                    ["agent": "CFO", "description": "Budget the chosen stack", "after": [0]],
                ],
            ]
            return Self.ok(plan.serialized)
        case .synthesis:
            if current.hangSynthesis { return await hang(.synthesis) }
            // The prompt gives each analysis as "## Codename (ROLE), confidence x" and its summary on the next line.
            let lines = (request.message("user") ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            var quoted: [String] = []
            for (index, line) in lines.enumerated() where line.hasPrefix("## ") && index + 1 < lines.count {
                quoted.append(String(lines[index + 1]))
            }
            let answer: JSONValue = [
                "executive_summary": .string("The board agrees: " + quoted.joined(separator: " / ")),
                "strategy": ["Choose the stack", "Budget it"], "risks": ["Fake risk"], "recommendations": ["Proceed"],
                "confidence": .double(0.85),
            ]
            return Self.ok(answer.serialized)
        case .task:
            if current.hangTasks { return await hang(.task) }
            let codename = Self.codename(of: request) ?? "someone"
            let answer: JSONValue = [
                "summary": .string(Self.summary(of: codename)), "findings": ["A finding"], "risks": ["A risk"],
                "recommendations": .array([.string("\(codename) recommends proceeding")]),
                "confidence": .double(current.taskConfidence), "citations": .array([.string("https://fake.example/\(codename)")]),
            ]
            return Self.ok(answer.serialized)
        }
    }

    private static func ok(_ content: String) -> FakeLLMServer.Response {
        .json(LLMAnswers.ollama(content, model: "fake-model", promptTokens: 40, completionTokens: 60))
    }

    /// Waits until the request is cancelled (the fake server cancels it when the client closes the
    /// connection), records that, and answers with something nobody will read.
    private func hang(_ kind: Kind) async -> FakeLLMServer.Response {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        abandonedKinds.withLock { $0.append(kind) }
        return .init(status: 503, body: "abandoned")
    }
}

/// A daemon configuration whose every agent, the CEO included, runs on the fake Ollama at `server`.
func llmConfig(_ server: FakeLLMServer, scheduler: [String: JSONValue] = [:]) -> JSONValue {
    testConfig(scheduler: scheduler, extra: [
        "backends": ["default": "ollama", "ollama": ["url": .string(server.baseURL), "model": "fake-model", "timeout_s": 120]],
    ])
}

/// boardctl in a task of its own (only Sendable values cross), for commands that wait.
func boardctlInBackground(_ sandbox: Sandbox, socket: String, _ arguments: [String]) throws -> Task<CommandResult, any Error> {
    let executable = try Binaries.boardctl
    var environment = ProcessInfo.processInfo.environment
    environment["BOARD_SOCKET"] = socket
    let scratch = sandbox.root
    let sendableEnvironment = environment
    return Task { try await runProcess(executable, arguments, environment: sendableEnvironment, scratch: scratch, timeout: .seconds(90)) }
}

extension Array where Element == JSONValue {
    /// The events of `kind`.
    func of(_ kind: String) -> [JSONValue] { filter { $0["kind"]?.stringValue == kind } }
}

@Suite("LLM board (fake Ollama)", .timeLimit(.minutes(3)))
struct LLMBoardTests {
    @Test func theCEOPlansTheSpecialistsWorkInOrderAndTheCEOSynthesizes() async throws {
        let model = BoardModel(.init(holdPlanning: true))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                let goal = "launch an SMB accounting SaaS in Q2"
                let waiting = try boardctlInBackground(
                    sandbox, socket: socket, ["plan", "create", goal, "--context", "two founders", "--wait", "--timeout", "60", "--json"])

                // While the CEO is still thinking, the plan is `planning` and has no tasks.
                let planID = try await eventually("a planning plan") { () -> String? in
                    let plans = try daemon.call("plan.list", ["status": "planning"])["plans"]?.arrayValue ?? []
                    return plans.first?["plan_id"]?.stringValue
                }
                #expect(await server.eventually { BoardModel.requests($0, .planning).count == 1 })
                let planning = try await sandbox.boardctl(socket: socket, ["plan", "show", planID])
                #expect(planning.status == 0, "\(planning)")
                #expect(planning.stdout.contains("(the CEO is planning the tasks)"), "\(planning)")
                #expect(try daemon.plan(planID)["tasks"]?.arrayValue?.isEmpty == true)
                model.update { $0.holdPlanning = false }

                let created = try await waiting.value
                #expect(created.status == 0, "\(created)")
                let final = try created.json()
                #expect(final["plan_id"]?.stringValue == planID)
                #expect(final["offline"] == false)
                #expect(final["synthesized_by"] == "Odyssey (CEO)")
                let summary = final["executive_summary"]?.stringValue ?? ""
                #expect(summary.contains(BoardModel.summary(of: "Nexus")), "the CTO's answer reaches the final plan: \(summary)")
                #expect(summary.contains(BoardModel.summary(of: "Abacus")), "the CFO's answer reaches the final plan: \(summary)")
                #expect(final["references"] == ["https://fake.example/Nexus", "https://fake.example/Abacus"])
                #expect(final["contributors"]?.arrayValue?.compactMap { $0["agent"]?.stringValue } == ["CTO", "CFO"])
                // The CEO's own tokens: the synthesis in the final plan, the planning in its event.
                #expect(final["usage"]?["model"] == "fake-model", "\(final)")
                #expect((final["usage"]?["prompt_tokens"]?.intValue ?? 0) > 0, "\(final)")
                let trail = try await sandbox.boardctl(socket: socket, ["events", planID, "--all", "--json"])
                let plannedEvent = (try trail.json()["events"]?.arrayValue ?? []).first { $0["kind"] == "plan_planned" }
                #expect(plannedEvent?["payload"]?["usage"]?["model"] == "fake-model", "\(String(describing: plannedEvent))")
                #expect((plannedEvent?["payload"]?["usage"]?["completion_tokens"]?.intValue ?? 0) > 0, "\(String(describing: plannedEvent))")

                // The plan as the CEO made it: CTO, then CFO after the CTO; LLM results with usage.
                let shown = try await sandbox.boardctl(socket: socket, ["plan", "show", planID, "--json"])
                #expect(shown.status == 0, "\(shown)")
                let detail = try shown.json()
                #expect(detail["status"] == "closed")
                let tasks = detail["tasks"]?.arrayValue ?? []
                #expect(tasks.compactMap { $0["agent"]?.stringValue } == ["CTO", "CFO"])
                #expect(tasks.allSatisfy { $0["state"] == "completed" }, "\(tasks)")
                let ctoID = try #require(detail.taskIDsByAgent["CTO"])
                #expect(tasks.last?["depends_on"] == [.string(ctoID)])
                for task in tasks {
                    #expect(task["result"]?["offline"] == false)
                    #expect(task["result"]?["backend"] == "ollama")
                    #expect(task["result"]?["usage"]?["model"] == "fake-model")
                }
                let usage = try #require(detail["usage"])
                #expect((usage["prompt_tokens"]?.intValue ?? 0) > 0, "\(usage)")
                #expect((usage["completion_tokens"]?.intValue ?? 0) > 0, "\(usage)")
                #expect(usage["answers"]?.intValue == 2, "\(usage)")

                // What the model was asked: one plan, one request per specialist, one synthesis.
                #expect(BoardModel.requests(server, .planning).count == 1)
                #expect(BoardModel.requests(server, .synthesis).count == 1)
                #expect(server.requests.count == 4)
                #expect(server.requests.allSatisfy { $0.path == "/api/chat" && $0.json?["model"] == "fake-model" })
                let planningUser = BoardModel.requests(server, .planning).first?.message("user") ?? ""
                #expect(planningUser.contains(goal) && planningUser.contains("two founders"), "\(planningUser)")
                let ctoRequests = BoardModel.requests(server, .task, codename: "Nexus")
                let cfoRequests = BoardModel.requests(server, .task, codename: "Abacus")
                #expect(ctoRequests.count == 1 && cfoRequests.count == 1)
                let cfoUser = cfoRequests.first?.message("user") ?? ""
                #expect(cfoUser.contains("Nexus (CTO): " + BoardModel.summary(of: "Nexus")), "the CFO builds on the CTO: \(cfoUser)")
                #expect(cfoUser.contains("Nexus recommends proceeding"), "\(cfoUser)")
                #expect(cfoUser.contains("Budget the chosen stack") && cfoUser.contains(goal), "\(cfoUser)")
                let ctoUser = ctoRequests.first?.message("user") ?? ""
                #expect(!ctoUser.contains("colleagues"), "the CTO depends on no one: \(ctoUser)")
                let order = server.requests.map { BoardModel.kind(of: $0) == .task ? BoardModel.codename(of: $0) ?? "?" : "\(BoardModel.kind(of: $0))" }
                #expect(order == ["planning", "Nexus", "Abacus", "synthesis"], "\(order)")

                // The audit trail: created planning, planned into open, synthesized, closed.
                let events = try daemon.events(planID)
                #expect(events.first?["kind"] == "plan_created")
                #expect(events.first?["payload"]?["planning"] == true)
                let planned = try #require(events.of("plan_planned").first, "\(events.compactMap { $0["kind"]?.stringValue })")
                #expect(planned["payload"]?["from"] == "planning")
                #expect(planned["payload"]?["to"] == "open")
                let kinds = events.compactMap { $0["kind"]?.stringValue }
                let planIndex = try #require(kinds.firstIndex(of: "plan_planned"))
                let firstStart = try #require(kinds.firstIndex(of: "task_started"))
                #expect(planIndex < firstStart, "\(kinds)")
                #expect(kinds.last == "plan_closed", "\(kinds)")
            }
        }
    }

    @Test func cancellingAPlanAbortsTheRunningModelCall() async throws {
        let model = BoardModel(.init(hangTasks: true))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                // Explicit agents: no model planning.
                let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "price the product", "--agent", "CFO", "--json"])
                #expect(created.status == 0, "\(created)")
                #expect(try created.json()["status"] == "open")
                let planID = try #require(try created.json()["plan_id"]?.stringValue)
                let taskID = try #require(try created.json().taskIDsByAgent["CFO"])

                _ = try await daemon.waitForTaskState(taskID, "in_progress")
                #expect(await server.eventually { $0.requests.count == 1 }, "the CFO's request reached the model")
                #expect(server.connectionsClosed == 0)

                let cancelled = try await sandbox.boardctl(socket: socket, ["plan", "cancel", planID])
                #expect(cancelled.status == 0, "\(cancelled)")
                #expect(await server.eventually { $0.connectionsClosed >= 1 }, "the daemon hung up on the model")
                #expect(await server.eventually { _ in model.abandoned(.task) == 1 })
                _ = try await daemon.waitForTaskState(taskID, "cancelled")
                #expect(try daemon.plan(planID)["status"] == "cancelled")
                try await eventually("no running attempts") { () -> Bool? in
                    try daemon.call("daemon.status")["running"]?.intValue == 0 ? true : nil
                }
                #expect(try daemon.eventKinds(planID, task: taskID).contains("task_cancelled"))
                #expect(server.requests.count == 1, "no retry, no synthesis")
                #expect(try daemon.call("ping")["pong"] == true)
            }
        }
    }

    @Test func aModerateAnswerGetsExactlyOneMorePass() async throws {
        let model = BoardModel(.init(taskConfidence: 0.6))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                // Three attempts allowed: only one extra pass is taken all the same.
                let created = try await sandbox.boardctl(
                    socket: socket, ["plan", "create", "price the product", "--agent", "CFO", "--max-attempts", "3", "--json"])
                #expect(created.status == 0, "\(created)")
                let planID = try #require(try created.json()["plan_id"]?.stringValue)
                let taskID = try #require(try created.json().taskIDsByAgent["CFO"])

                let waited = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "60"])
                #expect(waited.status == 0, "\(waited)")
                let task = try daemon.task(taskID)
                #expect(task["state"] == "completed")
                #expect(task["extra_passes"]?.intValue == 1)
                #expect(task["attempts"]?.intValue == 2)
                #expect(task["result"]?["confidence"]?.doubleValue == 0.6)
                #expect(BoardModel.requests(server, .task, codename: "Abacus").count == 2, "the first answer and one more pass")

                let events = try daemon.events(planID, task: taskID)
                let retries = events.of("task_retry")
                #expect(retries.count == 1, "\(events)")
                let reason = retries.first?["payload"]?["reason"]?.stringValue ?? ""
                #expect(reason.contains("moderate confidence"), "\(reason)")
                #expect(events.of("task_completed").count == 1)
            }
        }
    }

    @Test func anUncertainAnswerIsRetriedThenEscalatedOnTheLastAttempt() async throws {
        let model = BoardModel(.init(taskConfidence: 0.3))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath

                // One attempt: the uncertain answer is the last one, so a person must look at it.
                let single = try await sandbox.boardctl(
                    socket: socket, ["plan", "create", "price the product", "--agent", "CFO", "--max-attempts", "1", "--json"])
                #expect(single.status == 0, "\(single)")
                let singlePlan = try #require(try single.json()["plan_id"]?.stringValue)
                let cfoTask = try #require(try single.json().taskIDsByAgent["CFO"])
                let waited = try await sandbox.boardctl(socket: socket, ["plan", "wait", singlePlan, "--timeout", "60"])
                #expect(waited.status == 2, "blocked, not closed: \(waited)")
                let escalated = try daemon.task(cfoTask)
                #expect(escalated["state"] == "escalated")
                let lastError = escalated["last_error"]?.stringValue ?? ""
                #expect(lastError.contains("needs human review"), "\(lastError)")
                #expect(lastError.contains("0.3"), "\(lastError)")
                #expect(escalated["result"] == .null, "an uncertain answer is not kept as the result")
                #expect(BoardModel.requests(server, .task, codename: "Abacus").count == 1)
                #expect(try daemon.plan(singlePlan)["status"] == "blocked")
                #expect(try daemon.eventKinds(singlePlan, task: cfoTask).contains("task_escalated"))

                // Two attempts: retried once ("uncertain output"), then escalated.
                let double = try await sandbox.boardctl(
                    socket: socket, ["plan", "create", "choose the stack", "--agent", "CTO", "--max-attempts", "2", "--json"])
                #expect(double.status == 0, "\(double)")
                let doublePlan = try #require(try double.json()["plan_id"]?.stringValue)
                let ctoTask = try #require(try double.json().taskIDsByAgent["CTO"])
                _ = try await daemon.waitForTaskState(ctoTask, "escalated")
                #expect(BoardModel.requests(server, .task, codename: "Nexus").count == 2)
                let events = try daemon.events(doublePlan, task: ctoTask)
                let reason = events.of("task_retry").first?["payload"]?["reason"]?.stringValue
                    ?? events.of("task_retry").first?["payload"]?["error"]?.stringValue ?? ""
                #expect(events.of("task_retry").count == 1, "\(events)")
                #expect(reason.contains("uncertain output"), "\(events.of("task_retry"))")
                #expect(BoardModel.requests(server, .synthesis).isEmpty, "nothing to synthesize")
            }
        }
    }

    @Test func aFailedPlanningIsRetriedWithRetrySynthesis() async throws {
        let model = BoardModel(.init(junkPlans: true))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "launch a SaaS", "--json"])
                #expect(created.status == 0, "\(created)")
                #expect(try created.json()["status"] == "planning")
                let planID = try #require(try created.json()["plan_id"]?.stringValue)

                let failed = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "60"])
                #expect(failed.status == 2, "\(failed)")
                let plan = try daemon.plan(planID)
                #expect(plan["status"] == "failed")
                let lastError = plan["last_error"]?.stringValue ?? ""
                #expect(lastError.hasPrefix("planning failed"), "\(lastError)")
                #expect(lastError.contains("invalid plan twice"), "\(lastError)")
                #expect(plan["tasks"]?.arrayValue?.isEmpty == true)
                let attempts = BoardModel.requests(server, .planning)
                #expect(attempts.count == 2, "a plan and one repair")
                #expect(attempts.last?.messages.count == 4, "the repair carries the junk and the complaint")
                #expect(try daemon.eventKinds(planID).contains("plan_failed"))

                // The model behaves now; a person asks again.
                model.update { $0.junkPlans = false }
                let retried = try await sandbox.boardctl(socket: socket, ["plan", "retry-synthesis", planID, "--json"])
                #expect(retried.status == 0, "\(retried)")
                #expect(try retried.json()["status"] == "planning", "a plan without tasks is planned again")
                let closed = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "60"])
                #expect(closed.status == 0, "\(closed)")
                #expect(closed.stdout.contains(BoardModel.summary(of: "Abacus")), "\(closed)")
                #expect(BoardModel.requests(server, .planning).count == 3)

                let kinds = try daemon.eventKinds(planID)
                let failedAt = try #require(kinds.firstIndex(of: "plan_failed"), "\(kinds)")
                let replanning = try #require(kinds.firstIndex(of: "plan_planning"), "\(kinds)")
                let planned = try #require(kinds.firstIndex(of: "plan_planned"), "\(kinds)")
                #expect(failedAt < replanning && replanning < planned, "\(kinds)")
                #expect(kinds.last == "plan_closed", "\(kinds)")
                #expect(try daemon.plan(planID)["last_error"] == .null, "cleared by the successful retry")
            }
        }
    }

    @Test func cancellingAPlanWhileTheCEOIsPlanningAbortsThePlanningCall() async throws {
        let model = BoardModel(.init(hangPlanning: true))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "launch a SaaS", "--json"])
                #expect(created.status == 0, "\(created)")
                let planID = try #require(try created.json()["plan_id"]?.stringValue)
                #expect(await server.eventually { BoardModel.requests($0, .planning).count == 1 })

                let cancelled = try await sandbox.boardctl(socket: socket, ["plan", "cancel", planID])
                #expect(cancelled.status == 0, "\(cancelled)")
                #expect(try daemon.plan(planID)["status"] == "cancelled")
                #expect(await server.eventually { _ in model.abandoned(.planning) == 1 }, "the daemon hung up on the CEO")
                #expect(server.connectionsClosed >= 1)
                #expect(try daemon.plan(planID)["status"] == "cancelled")
                #expect(try daemon.plan(planID)["tasks"]?.arrayValue?.isEmpty == true)
                #expect(!(try daemon.eventKinds(planID).contains("plan_planned")))
                #expect(server.requests.count == 1, "no repair request after the cancel")
            }
        }
    }

    @Test func cancellingAPlanWhileTheCEOSynthesizesAbortsTheSynthesisCall() async throws {
        let model = BoardModel(.init(hangSynthesis: true))
        try await FakeLLMServer.run(model.handler) { server in
            try await withSandbox { sandbox in
                let daemon = try await sandbox.startDaemon(config: llmConfig(server))
                let socket = daemon.socketPath
                let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "price the product", "--agent", "CFO", "--json"])
                #expect(created.status == 0, "\(created)")
                let planID = try #require(try created.json()["plan_id"]?.stringValue)
                let taskID = try #require(try created.json().taskIDsByAgent["CFO"])
                _ = try await daemon.waitForPlanStatus(planID, "synthesizing")
                #expect(await server.eventually { BoardModel.requests($0, .synthesis).count == 1 })

                let cancelled = try await sandbox.boardctl(socket: socket, ["plan", "cancel", planID])
                #expect(cancelled.status == 0, "\(cancelled)")
                #expect(await server.eventually { _ in model.abandoned(.synthesis) == 1 }, "the daemon hung up on the CEO")
                #expect(try daemon.plan(planID)["status"] == "cancelled")
                #expect(try daemon.task(taskID)["state"] == "completed", "the finished work is kept")
                let result = try await sandbox.boardctl(socket: socket, ["plan", "result", planID])
                #expect(result.status == 1, "no final plan: \(result)")
                #expect(BoardModel.requests(server, .synthesis).count == 1, "no repair request after the cancel")
            }
        }
    }
}
