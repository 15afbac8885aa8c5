import BoardCore

/// One task the CEO assigns.
public struct PlannedTask: Sendable, Equatable {
    public var role: String
    public var description: String
}

/// The CEO's decomposition of a goal into tasks for specialists.
public struct Planner: Sendable {
    public let registry: AgentRegistry

    public init(registry: AgentRegistry) {
        self.registry = registry
    }

    /// `requested` forces the agents (in order, duplicates removed); otherwise the configured defaults.
    /// An unknown agent is refused, naming the ones that exist.
    public func plan(goal: String, context: String?, requested: [String]?) throws(BoardError) -> [PlannedTask] {
        var roles: [String] = []
        for name in requested ?? registry.defaultRoles {
            guard let agent = registry.agent(name) else {
                throw BoardError(.invalidArgument, "unknown agent \(name); known: \(registry.agents.map(\.role).joined(separator: ", "))")
            }
            if !roles.contains(agent.role) { roles.append(agent.role) }
        }
        return roles.map { role in
            PlannedTask(role: role, description: BuiltinAnalyst.defaultTaskDescription(role: role, goal: goal))
        }
    }
}
