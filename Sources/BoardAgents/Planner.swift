import BoardCore

/// One task the CEO assigns.
public struct PlannedTask: Sendable, Equatable {
    public var role: String
    public var description: String
    /// Positions of the tasks (in the same plan) this one waits for.
    public var after: [Int]

    public init(role: String, description: String, after: [Int] = []) {
        self.role = role
        self.description = description
        self.after = after
    }
}

/// What a submitter tells the CEO beyond the goal (the prototype's OdysseyGoalRequest fields).
public struct GoalBrief: Sendable, Equatable {
    public var goal: String
    public var context: String?
    public var constraints: String?
    public var deadline: String?
    public var budget: String?

    public init(goal: String, context: String? = nil, constraints: String? = nil, deadline: String? = nil, budget: String? = nil) {
        self.goal = goal
        self.context = context
        self.constraints = constraints
        self.deadline = deadline
        self.budget = budget
    }

    /// Everything but the goal, as one context text for agents and storage.
    /// The context as given when nothing else was (an empty context stays empty, not absent).
    public var combinedContext: String? {
        let extras = [constraints.map { "Constraints: \($0)" }, deadline.map { "Deadline: \($0)" }, budget.map { "Budget: \($0)" }]
            .compactMap { $0 }
        if extras.isEmpty { return context }
        return ([context].compactMap { $0 }.filter { !$0.isEmpty } + extras).joined(separator: "\n")
    }
}

/// The CEO's offline decomposition of a goal: rules over the goal's words pick the minimal
/// relevant executives on top of the configured floor (the prototype's four), with the
/// dependencies the work implies (the budget waits for the technology choice, the launch plan for
/// the budget).
public struct Planner: Sendable {
    public let registry: AgentRegistry

    public init(registry: AgentRegistry) {
        self.registry = registry
    }

    /// Word stems that make an executive relevant. Matched against the goal's lower-cased words.
    static let signals: [(role: String, stems: [String])] = [
        ("CFO", ["budget", "revenue", "pricing", "price", "cost", "fund", "money", "profit", "invest", "cash", "financ", "$", "€", "£"]),
        ("CTO", ["software", "saas", "app", "platform", "api", "cloud", "data", "ai", "tech", "system", "digital", "online"]),
        ("CMO", ["launch", "market", "brand", "customer", "growth", "sales", "campaign", "audience", "user"]),
        ("COO", ["operat", "process", "deliver", "scale", "vendor", "supply", "team", "execut"]),
        ("CISO", ["security", "secure", "privacy", "breach", "gdpr", "soc", "hipaa", "pci", "encrypt", "cyber", "complian"]),
        ("CHRO", ["hire", "hiring", "recruit", "talent", "people", "culture", "staff", "employee", "headcount"]),
        ("CLO", ["legal", "contract", "regulat", "law", "licens", "patent", "trademark", "liabil"]),
        ("CLOG", ["logistic", "shipping", "warehouse", "inventory", "fulfil", "freight"]),
        ("CSUST", ["sustainab", "carbon", "climate", "esg", "emission", "green"]),
        ("CRO", ["research", "study", "survey", "evidence", "analy"]),
        ("CCOM", ["press", "announce", "communicat", "pr", "crisis"]),
        ("CETO", ["ethic", "fairness", "bias", "responsible"]),
        ("CINO", ["innovat", "experiment", "prototype", "emerging"]),
        ("CDO", ["partner", "investor", "government", "stakeholder", "allian"]),
        ("CCO", ["design", "creative", "brand identity", "visual"]),
    ]

    /// Which way dependencies run when both roles take part: the second waits for the first.
    static let handoffs: [(first: String, second: String)] = [
        ("CTO", "CFO"), ("CTO", "CISO"), ("CFO", "CMO"), ("CLO", "CISO"), ("CRO", "CMO"),
    ]

    /// `requested` forces the agents (in order, duplicates removed); otherwise the rules pick them.
    /// An unknown agent is refused, naming the ones that exist.
    public func plan(_ brief: GoalBrief, requested: [String]?) throws(BoardError) -> [PlannedTask] {
        var roles: [String] = []
        if let requested {
            for name in requested {
                guard let agent = registry.agent(name) else {
                    throw BoardError(.invalidArgument, "unknown agent \(name); known: \(registry.agents.map(\.role).joined(separator: ", "))")
                }
                if !roles.contains(agent.role) { roles.append(agent.role) }
            }
        } else {
            roles = relevantRoles(for: brief)
        }
        let positions = Dictionary(uniqueKeysWithValues: roles.enumerated().map { ($1, $0) })
        return roles.map { role in
            let after = Self.handoffs.compactMap { handoff in handoff.second == role ? positions[handoff.first] : nil }
            return PlannedTask(
                role: role, description: BuiltinAnalyst.defaultTaskDescription(role: role, goal: brief.goal), after: after.sorted())
        }
    }

    /// The configured floor, then every other executive whose signals appear in the goal.
    func relevantRoles(for brief: GoalBrief) -> [String] {
        let text = ([brief.goal, brief.context, brief.constraints, brief.budget].compactMap { $0 }.joined(separator: " ")).lowercased()
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "$" && $0 != "€" && $0 != "£" }).map(String.init)
        var roles = registry.defaultRoles
        for (role, stems) in Self.signals where !roles.contains(role) && registry.agent(role) != nil {
            if stems.contains(where: { stem in words.contains { $0.hasPrefix(stem) } || (stem.count == 1 && text.contains(stem)) }) {
                roles.append(role)
            }
        }
        if brief.budget != nil, !roles.contains("CFO"), registry.agent("CFO") != nil { roles.append("CFO") }
        return roles
    }
}
