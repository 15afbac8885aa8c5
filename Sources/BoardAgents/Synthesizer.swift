import BoardCore
import BoardLLM
import Foundation

/// A completed task, as the CEO sees it when writing the final plan.
public struct Contribution: Sendable, Equatable {
    public var taskID: TaskID
    public var result: AgentResult

    public init(taskID: TaskID, result: AgentResult) {
        self.taskID = taskID
        self.result = result
    }
}

/// The CEO writes the final plan from the specialists' results.
public struct Synthesizer: Sendable {
    public let ceo: AgentDefinition
    let connections: LLMConnections

    public init(ceo: AgentDefinition, connections: LLMConnections = .offline) {
        self.ceo = ceo
        self.connections = connections
    }

    /// Throws `AgentFailure` when the CEO's backend fails; the plan then becomes `failed`, retryable.
    public func synthesize(plan: Plan, contributions: [Contribution], now: Timestamp) async throws -> FinalPlan {
        let contributors = contributions.map {
            FinalPlan.Contributor(agent: $0.result.agent, codename: $0.result.codename, taskID: $0.taskID, confidence: $0.result.confidence)
        }
        let references = Self.references(contributions)
        switch ceo.backend {
        case let .llm(spec):
            return try await synthesizeWithModel(
                spec, plan: plan, contributions: contributions, contributors: contributors, references: references, now: now)
        case .noop:
            // A no-op CEO (benchmarks) still closes the plan with a final plan, but writes nothing
            // of its own into it: the benchmark measures the daemon, not the offline analyst.
            try Task.checkCancellation()
            let confidence = contributions.compactMap(\.result.confidence).reduce(0, +) / Double(max(1, contributions.count))
            return FinalPlan(
                planID: plan.planID, goal: plan.goal, synthesizedBy: "\(ceo.codename) (\(ceo.role))", offline: true,
                executiveSummary: "no-op synthesis of \(contributions.count) result(s) (backend noop, for benchmarks)",
                strategy: [], contributors: contributors, risks: [], recommendations: [], confidence: confidence,
                references: references, createdAt: now)
        case .builtin:
            try Task.checkCancellation()
            let analyses = contributions.map { contribution in
                (role: contribution.result.agent, codename: contribution.result.codename,
                 analysis: BuiltinAnalysis(
                    summary: contribution.result.summary, findings: contribution.result.findings, risks: contribution.result.risks,
                    recommendations: contribution.result.recommendations, confidence: contribution.result.confidence ?? 0.5))
            }
            let synthesis = BuiltinAnalyst.synthesize(goal: plan.goal, context: plan.context, contributions: analyses)
            return FinalPlan(
                planID: plan.planID, goal: plan.goal, synthesizedBy: "\(ceo.codename) (\(ceo.role))", offline: true,
                executiveSummary: synthesis.executiveSummary, strategy: synthesis.strategy, contributors: contributors,
                risks: synthesis.risks, recommendations: synthesis.recommendations, confidence: synthesis.confidence,
                references: references, createdAt: now)
        case let .command(spec):
            let input: JSONValue = [
                "kind": "synthesis",
                "plan_id": .string(plan.planID.rawValue),
                "goal": .string(plan.goal),
                "context": plan.context.map(JSONValue.string) ?? .null,
                "results": .array(contributions.map { contribution in
                    [
                        "task_id": .string(contribution.taskID.rawValue),
                        "agent": .string(contribution.result.agent),
                        "codename": .string(contribution.result.codename),
                        "summary": .string(contribution.result.summary),
                        "findings": .array(contribution.result.findings.map(JSONValue.string)),
                        "risks": .array(contribution.result.risks.map(JSONValue.string)),
                        "recommendations": .array(contribution.result.recommendations.map(JSONValue.string)),
                        "confidence": contribution.result.confidence.map(JSONValue.double) ?? .null,
                    ]
                }),
            ]
            let text = try await CommandAgent.run(spec, input: input, role: ceo.role)
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), case let .object(fields) = value,
                  case let .string(summary)? = fields["executive_summary"]
            else {
                throw AgentFailure(.retryable, "\(ceo.role): synthesis output is not a JSON object with executive_summary")
            }
            func strings(_ key: String) -> [String] {
                guard case let .array(items)? = fields[key] else { return [] }
                return items.compactMap(\.stringValue)
            }
            var confidence = contributions.compactMap(\.result.confidence).reduce(0, +) / Double(max(1, contributions.count))
            switch fields["confidence"] {
            case let .double(number)?: confidence = number
            case let .int(number)?: confidence = Double(number)
            default: break
            }
            return FinalPlan(
                planID: plan.planID, goal: plan.goal, synthesizedBy: "\(ceo.codename) (\(ceo.role))", offline: false,
                executiveSummary: summary, strategy: strings("strategy"), contributors: contributors, risks: strings("risks"),
                recommendations: strings("recommendations"), confidence: min(max(confidence, 0), 1),
                references: references + strings("references"), createdAt: now)
        }
    }

    /// Every citation the contributors gave, once, in order.
    static func references(_ contributions: [Contribution]) -> [String] {
        var seen: Set<String> = []
        return contributions.flatMap(\.result.citations).filter { seen.insert($0).inserted }
    }

    static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "executive_summary": ["type": "string"],
            "strategy": ["type": "array", "items": ["type": "string"]],
            "risks": ["type": "array", "items": ["type": "string"]],
            "recommendations": ["type": "array", "items": ["type": "string"]],
            "confidence": ["type": "number", "minimum": 0, "maximum": 1],
        ],
        "required": ["executive_summary", "strategy", "risks", "recommendations", "confidence"],
        "additionalProperties": false,
    ]

    /// The CEO as a language model; output that does not validate gets one repair attempt with the
    /// validation error, then the synthesis fails (the plan becomes `failed`, retryable).
    private func synthesizeWithModel(
        _ spec: LLMSpec, plan: Plan, contributions: [Contribution], contributors: [FinalPlan.Contributor], references: [String],
        now: Timestamp
    ) async throws -> FinalPlan {
        let client = try connections.client(for: spec, role: ceo.role)
        var prompt = "Company goal: \(plan.goal)\n"
        if let context = plan.context, !context.isEmpty { prompt += "Context: \(context)\n" }
        prompt += "\nThe board's analyses:\n"
        for contribution in contributions {
            let result = contribution.result
            prompt += "\n## \(result.codename) (\(result.agent))\(result.confidence.map { ", confidence \($0)" } ?? "")\n\(result.summary)\n"
            for (title, items) in [("Findings", result.findings), ("Risks", result.risks), ("Recommendations", result.recommendations)]
            where !items.isEmpty {
                prompt += "\(title):\n" + items.map { "- \($0)\n" }.joined()
            }
        }
        let instructions = """
            Synthesize the board's analyses into one final plan. Answer with one JSON object and nothing else: \
            {"executive_summary": string, "strategy": [string] (ordered phases), "risks": [string] (cross-functional), \
            "recommendations": [string] (actionable), "confidence": number between 0 and 1}.
            """
        let (answer, usage) = try await LLMAgent.askValidated(
            client, spec: spec, role: ceo.role, messages: [.system(ceo.systemPrompt + "\n\n" + instructions), .user(prompt)],
            schema: Self.schema, answer: "synthesis"
        ) { text throws(BoardError) in
            guard let fields = AnalysisFormat.parse(text) else { throw BoardError(.invalidArgument, "it is not a JSON object") }
            guard case let .string(summary)? = fields["executive_summary"], !summary.isEmpty else {
                throw BoardError(.invalidArgument, "it has no non-empty executive_summary")
            }
            return (fields: fields, summary: summary)
        }
        let fields = answer.fields
        let confidence = AnalysisFormat.number(fields["confidence"])
            ?? contributions.compactMap(\.result.confidence).reduce(0, +) / Double(max(1, contributions.count))
        return FinalPlan(
            planID: plan.planID, goal: plan.goal, synthesizedBy: "\(ceo.codename) (\(ceo.role))", offline: false,
            executiveSummary: answer.summary, strategy: AnalysisFormat.strings(fields["strategy"]), contributors: contributors,
            risks: AnalysisFormat.strings(fields["risks"]), recommendations: AnalysisFormat.strings(fields["recommendations"]),
            confidence: confidence, references: references, usage: usage, createdAt: now)
    }
}
