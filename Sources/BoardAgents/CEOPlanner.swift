import BoardCore
import BoardLLM

/// The CEO as a language model splits a goal into tasks for the minimal relevant executives,
/// answering in a JSON schema that is then validated against the board: unknown agents,
/// malformed JSON and dependency cycles get one repair attempt with the validation error, then
/// planning fails clearly.
public struct CEOPlanner: Sendable {
    public let registry: AgentRegistry
    let connections: LLMConnections

    public init(registry: AgentRegistry, connections: LLMConnections) {
        self.registry = registry
        self.connections = connections
    }

    /// True when the CEO is played by a language model (otherwise the offline `Planner` plans).
    public var usesModel: Bool {
        if case .llm = registry.ceo.backend { return true }
        return false
    }

    static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "tasks": [
                "type": "array", "minItems": 1, "maxItems": 20,
                "items": [
                    "type": "object",
                    "properties": [
                        "agent": ["type": "string"],
                        "description": ["type": "string"],
                        "after": ["type": "array", "items": ["type": "integer", "minimum": 0]],
                    ],
                    "required": ["agent", "description", "after"],
                    "additionalProperties": false,
                ],
            ],
        ],
        "required": ["tasks"],
        "additionalProperties": false,
    ]

    public func plan(_ brief: GoalBrief) async throws -> [PlannedTask] {
        try await planWithUsage(brief).tasks
    }

    /// The plan, and the CEO's language-model usage for it (every attempt, the repair included;
    /// `nil` when the CEO is offline).
    public func planWithUsage(_ brief: GoalBrief) async throws -> (tasks: [PlannedTask], usage: Usage?) {
        let ceo = registry.ceo
        guard case let .llm(spec) = ceo.backend else {
            return (try Planner(registry: registry).plan(brief, requested: nil), nil)
        }
        let client = try connections.client(for: spec, role: ceo.role)
        let roster = registry.agents.filter { $0.role != ceo.role }
            .map { "- \($0.role) (\($0.codename), \($0.title)): \($0.expertise)" }.joined(separator: "\n")
        let instructions = """
            Split the company goal into tasks for the smallest set of relevant executives from this roster:
            \(roster)
            Give each task a specific description. A task may wait for others ("after": 0-based positions in \
            your list) when it needs their results, e.g. a budget that depends on the technology choice. \
            Answer with one JSON object and nothing else: {"tasks": [{"agent": ROLE, "description": string, "after": [int]}]}.
            """
        var prompt = "Company goal: \(brief.goal)\n"
        if let context = brief.combinedContext { prompt += context + "\n" }
        let (tasks, usage) = try await LLMAgent.askValidated(
            client, spec: spec, role: ceo.role, messages: [.system(ceo.systemPrompt + "\n\n" + instructions), .user(prompt)],
            schema: Self.schema, answer: "plan", validate: validate)
        return (tasks, usage)
    }

    /// Checks the model's plan against the board and the dependency rules.
    func validate(_ text: String) throws(BoardError) -> [PlannedTask] {
        guard let fields = AnalysisFormat.parse(text), case let .array(items)? = fields["tasks"], !items.isEmpty else {
            throw BoardError(.invalidArgument, "the answer is not a JSON object with a non-empty \"tasks\" array")
        }
        guard items.count <= 20 else { throw BoardError(.invalidArgument, "at most 20 tasks, not \(items.count)") }
        var tasks: [PlannedTask] = []
        for (index, item) in items.enumerated() {
            guard case let .string(name)? = item["agent"], let agent = registry.agent(name) else {
                let known = registry.agents.map(\.role).joined(separator: ", ")
                throw BoardError(.invalidArgument, "task \(index) names an unknown agent \(item["agent"]?.serialized ?? "(none)"); known: \(known)")
            }
            guard case let .string(description)? = item["description"], !description.allSatisfy(\.isWhitespace) else {
                throw BoardError(.invalidArgument, "task \(index) has no description")
            }
            var after: [Int] = []
            if case let .array(positions)? = item["after"] {
                for position in positions {
                    guard case let .int(value) = position else { throw BoardError(.invalidArgument, "task \(index): after must hold integers") }
                    after.append(Int(value))
                }
            }
            tasks.append(PlannedTask(role: agent.role, description: description, after: after))
        }
        _ = try TaskGraph.order(names: tasks.map(\.role), after: tasks.map(\.after))
        return tasks
    }
}
