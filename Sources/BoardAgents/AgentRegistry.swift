import BoardCore

/// The configured board: who exists, and how each one works.
public struct AgentRegistry: Sendable, Equatable {
    /// The CEO plans and synthesizes; every board has one.
    public static let ceoRole = "CEO"

    /// The essential five, all offline: the board works with no language model at all.
    public static let essentials: [AgentDefinition] = [
        AgentDefinition(role: "CEO", codename: "Odyssey", title: "Chief Executive Officer",
                        expertise: "strategy, prioritization, cross-functional alignment"),
        AgentDefinition(role: "COO", codename: "Momentum", title: "Chief Operating Officer",
                        expertise: "operations, processes, delivery, vendors"),
        AgentDefinition(role: "CFO", codename: "Abacus", title: "Chief Financial Officer",
                        expertise: "budgets, unit economics, pricing, runway"),
        AgentDefinition(role: "CTO", codename: "Nexus", title: "Chief Technology Officer",
                        expertise: "architecture, build vs buy, security, engineering"),
        AgentDefinition(role: "CMO", codename: "Muse", title: "Chief Marketing Officer",
                        expertise: "segments, positioning, channels, launch"),
    ]

    /// The specialists the CEO assigns when a plan names none (the prototype's four).
    public static let defaultPlanningRoles = ["COO", "CFO", "CTO", "CMO"]

    public private(set) var agents: [AgentDefinition]
    public private(set) var defaultRoles: [String]

    public init(agents: [AgentDefinition] = essentials, defaultRoles: [String] = defaultPlanningRoles) throws(BoardError) {
        var seen: Set<String> = []
        for agent in agents where !seen.insert(agent.role).inserted {
            throw BoardError(.invalidConfig, "agents.\(agent.role) is defined twice")
        }
        guard seen.contains(Self.ceoRole) else {
            throw BoardError(.invalidConfig, "agents must include the CEO (it plans and synthesizes)")
        }
        for role in defaultRoles where !seen.contains(role) {
            throw BoardError(.invalidConfig, "planning.default_agents names \(role), which is not an agent")
        }
        guard !defaultRoles.isEmpty else {
            throw BoardError(.invalidConfig, "planning.default_agents must name at least one agent")
        }
        self.agents = agents.sorted { $0.role < $1.role }
        self.defaultRoles = defaultRoles
    }

    /// Looks a role up case-insensitively (`cfo` finds `CFO`), or by codename (`Abacus`).
    public func agent(_ name: String) -> AgentDefinition? {
        let upper = name.uppercased()
        return agents.first { $0.role == upper } ?? agents.first { $0.codename.lowercased() == name.lowercased() }
    }

    public var ceo: AgentDefinition {
        // The initializer guarantees a CEO.
        agents.first { $0.role == Self.ceoRole } ?? Self.essentials[0]
    }

    /// Parses the `agents` object of the configuration: `{"CFO": {"codename": …, "backend": …}, …}`.
    /// Roles not mentioned keep their built-in definition, so a config may override one field of one agent.
    public static func parse(agents value: JSONValue?, planning: JSONValue?) throws(BoardError) -> AgentRegistry {
        var byRole: [String: AgentDefinition] = [:]
        for agent in essentials { byRole[agent.role] = agent }
        if let value {
            // Every key is a role and is consumed below, so no unknown-key check applies at this level.
            let reader = try ConfigReader(value, path: "agents")
            for key in reader.keys {
                let role = key.uppercased()
                guard role.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !role.isEmpty, role.count <= 32 else {
                    throw BoardError(.invalidConfig, "agents.\(key) is not a valid role name (letters, digits, _)")
                }
                var fields = try ConfigReader(value[key] ?? .null, path: "agents.\(key)")
                let base = byRole[role]
                let codename = try fields.string("codename") ?? base?.codename
                let title = try fields.string("title") ?? base?.title ?? role
                let expertise = try fields.string("expertise") ?? base?.expertise ?? ""
                let backendName = try fields.string("backend") ?? "builtin"
                let argv = try fields.stringArray("command")
                let environment = try fields.stringMap("environment") ?? [:]
                let directory = try fields.string("working_directory")
                try fields.finish()
                guard let codename else { throw BoardError(.invalidConfig, "agents.\(key).codename is required for a new agent") }
                let backend: AgentBackend
                switch backendName {
                case "builtin":
                    if argv != nil { throw BoardError(.invalidConfig, "agents.\(key).command is only for backend \"command\"") }
                    backend = .builtin
                case "command":
                    guard let argv, !argv.isEmpty else {
                        throw BoardError(.invalidConfig, "agents.\(key).command must be a non-empty array (argv) for backend \"command\"")
                    }
                    backend = .command(CommandSpec(argv: argv, environment: environment, workingDirectory: directory))
                default:
                    throw BoardError(.invalidConfig, "agents.\(key).backend must be one of builtin, command (got \(backendName))")
                }
                byRole[role] = AgentDefinition(role: role, codename: codename, title: title, expertise: expertise, backend: backend)
            }
        }
        var defaultRoles = defaultPlanningRoles
        if let planning {
            var reader = try ConfigReader(planning, path: "planning")
            if let roles = try reader.stringArray("default_agents") { defaultRoles = roles.map { $0.uppercased() } }
            try reader.finish()
        }
        return try AgentRegistry(agents: Array(byRole.values), defaultRoles: defaultRoles)
    }
}
