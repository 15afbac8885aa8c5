import BoardCore

/// Succeeds at once without doing anything (backend `noop`). It exists so that benchmarks can
/// measure what the daemon itself costs per task; its results say so, and are marked offline so
/// that the confidence policy accepts them as they are.
public struct NoopAgent: Agent {
    public let definition: AgentDefinition
    public var isInstant: Bool { true }

    public init(definition: AgentDefinition) {
        self.definition = definition
    }

    public func perform(_ work: AgentWork) async throws -> AgentResult {
        try Task.checkCancellation()
        return AgentResult(
            agent: definition.role, codename: definition.codename, backend: "noop", offline: true,
            summary: "no-op: nothing was done (backend noop, for benchmarks)", confidence: 1)
    }
}
