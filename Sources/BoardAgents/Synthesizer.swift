import BoardCore
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

    public init(ceo: AgentDefinition) {
        self.ceo = ceo
    }

    /// Throws `AgentFailure` when the CEO's backend fails; the plan then becomes `failed`, retryable.
    public func synthesize(plan: Plan, contributions: [Contribution], now: Timestamp) async throws -> FinalPlan {
        let contributors = contributions.map {
            FinalPlan.Contributor(agent: $0.result.agent, codename: $0.result.codename, taskID: $0.taskID, confidence: $0.result.confidence)
        }
        switch ceo.backend {
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
                createdAt: now)
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
                recommendations: strings("recommendations"), confidence: min(max(confidence, 0), 1), createdAt: now)
        }
    }
}
