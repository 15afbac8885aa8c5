import BoardCore

/// The offline executive: deterministic persona-based analysis, no language model.
public struct BuiltinAgent: Agent {
    public let definition: AgentDefinition

    public init(definition: AgentDefinition) {
        self.definition = definition
    }

    public func perform(_ work: AgentWork) async throws -> AgentResult {
        try Task.checkCancellation()
        let analysis = BuiltinAnalyst.analyze(
            role: definition.role, codename: definition.codename, goal: work.goal, context: work.context, task: work.description)
        return AgentResult(
            agent: definition.role, codename: definition.codename, backend: "builtin", offline: true,
            summary: analysis.summary, findings: analysis.findings, risks: analysis.risks,
            recommendations: analysis.recommendations, confidence: analysis.confidence)
    }
}
