import BoardCore

/// The configured board: who exists, and how each one works.
public struct AgentRegistry: Sendable, Equatable {
    /// The CEO plans and synthesizes; every board has one.
    public static let ceoRole = "CEO"

    /// The board as shipped: the prototype's twenty executives, all offline, so the board works
    /// with no language model at all.
    public static let essentials: [AgentDefinition] = Personas.all

    /// The specialists the CEO assigns when a plan names none (the prototype's four).
    public static let defaultPlanningRoles = ["COO", "CFO", "CTO", "CMO"]

    public private(set) var agents: [AgentDefinition]
    public private(set) var defaultRoles: [String]
    /// The `backends` section it was built with (kept so the configuration can be printed back).
    public internal(set) var backendDefaults = BackendDefaults()

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
    /// Parses the `backends`, `agents` and `planning` parts of the configuration.
    ///
    /// `agents` is keyed by role: `{"CFO": {"backend": "ollama", "model": …}, …}`. Roles not
    /// mentioned keep their built-in definition, and mentioned roles keep every field left out,
    /// so a config may override one field of one agent. An agent without a `backend` uses
    /// `backends.default`.
    public static func parse(agents value: JSONValue?, planning: JSONValue?, backends: JSONValue? = nil) throws(BoardError)
        -> AgentRegistry
    {
        let defaults = try BackendDefaults.parse(backends)
        var byRole: [String: AgentDefinition] = [:]
        for agent in essentials {
            var agent = agent
            agent.backend = try defaults.backend(named: defaults.defaultName, for: agent.role, overrides: nil)
            byRole[agent.role] = agent
        }
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
                let backendName = try fields.string("backend")
                let argv = try fields.stringArray("command")
                let environment = try fields.stringMap("environment") ?? [:]
                let directory = try fields.string("working_directory")
                let llm = try LLMOverrides.parse(&fields)
                let systemPrompt = try fields.string("system_prompt")
                try fields.finish()
                guard let codename else { throw BoardError(.invalidConfig, "agents.\(key).codename is required for a new agent") }
                let backend: AgentBackend
                switch backendName ?? (argv != nil ? "command" : defaults.defaultName) {
                case "builtin":
                    if argv != nil { throw BoardError(.invalidConfig, "agents.\(key).command is only for backend \"command\"") }
                    backend = .builtin
                case "noop":
                    if argv != nil { throw BoardError(.invalidConfig, "agents.\(key).command is only for backend \"command\"") }
                    backend = .noop
                case "command":
                    guard let argv, !argv.isEmpty else {
                        throw BoardError(.invalidConfig, "agents.\(key).command must be a non-empty array (argv) for backend \"command\"")
                    }
                    backend = .command(CommandSpec(argv: argv, environment: environment, workingDirectory: directory))
                case let name:
                    if argv != nil { throw BoardError(.invalidConfig, "agents.\(key).command is only for backend \"command\"") }
                    backend = try defaults.backend(named: name, for: key, overrides: llm)
                }
                if case .llm = backend {} else if !llm.isEmpty {
                    throw BoardError(.invalidConfig, "agents.\(key): model, temperature and context_size are only for LLM backends")
                }
                let prompt = systemPrompt ?? base?.systemPrompt
                    ?? "You are \(codename), the \(title) on an AI executive board. Your expertise: \(expertise)."
                byRole[role] = AgentDefinition(
                    role: role, codename: codename, title: title, expertise: expertise, systemPrompt: prompt, backend: backend)
            }
        }
        var defaultRoles = defaultPlanningRoles
        if let planning {
            var reader = try ConfigReader(planning, path: "planning")
            if let roles = try reader.stringArray("default_agents") { defaultRoles = roles.map { $0.uppercased() } }
            try reader.finish()
        }
        var registry = try AgentRegistry(agents: Array(byRole.values), defaultRoles: defaultRoles)
        registry.backendDefaults = defaults
        return registry
    }
}

/// Per-agent overrides of an LLM backend's defaults.
struct LLMOverrides: Equatable {
    var model: String?
    var temperature: Double?
    var contextSize: Int?

    var isEmpty: Bool { self == LLMOverrides() }

    static func parse(_ fields: inout ConfigReader) throws(BoardError) -> LLMOverrides {
        LLMOverrides(
            model: try fields.string("model"), temperature: try fields.double("temperature", in: 0...2),
            contextSize: try fields.int("context_size", in: 256...1_048_576))
    }
}

/// The `backends` section: which backend agents use by default, and each LLM server's settings.
public struct BackendDefaults: Sendable, Equatable {
    public internal(set) var defaultName = "builtin"
    public internal(set) var servers: [LLMSpec.Flavor: LLMSpec] = [
        .ollama: LLMSpec(flavor: .ollama, baseURL: "http://127.0.0.1:11434", model: "llama3.1:8b", keepAlive: "10m"),
        .openai: LLMSpec(flavor: .openai, baseURL: "http://127.0.0.1:8080/v1", model: "default"),
    ]

    static func parse(_ value: JSONValue?) throws(BoardError) -> BackendDefaults {
        var result = BackendDefaults()
        guard let value else { return result }
        var reader = try ConfigReader(value, path: "backends")
        if let name = try reader.string("default") {
            guard name == "builtin" || LLMSpec.Flavor(rawValue: name) != nil else {
                throw BoardError(.invalidConfig, "backends.default must be one of builtin, ollama, openai (got \(name))")
            }
            result.defaultName = name
        }
        for flavor in LLMSpec.Flavor.allCases {
            guard var fields = try reader.object(flavor.rawValue), var spec = result.servers[flavor] else { continue }
            spec.baseURL = try fields.string(flavor == .ollama ? "url" : "base_url") ?? spec.baseURL
            guard spec.baseURL.hasPrefix("http://") || spec.baseURL.hasPrefix("https://") else {
                throw BoardError(.invalidConfig, "backends.\(flavor.rawValue) URL must start with http:// or https://")
            }
            let overrides = try LLMOverrides.parse(&fields)
            spec.model = overrides.model ?? spec.model
            spec.temperature = overrides.temperature ?? spec.temperature
            spec.contextSize = overrides.contextSize ?? spec.contextSize
            spec.timeoutSeconds = try fields.int("timeout_s", in: 1...86_400) ?? spec.timeoutSeconds
            if flavor == .ollama {
                spec.keepAlive = try fields.string("keep_alive") ?? spec.keepAlive
            } else {
                spec.apiKeyFile = try fields.string("api_key_file")
                spec.apiKeyCredential = try fields.string("api_key_credential")
                spec.useJSONSchema = try fields.bool("json_schema") ?? spec.useJSONSchema
            }
            try fields.finish()
            result.servers[flavor] = spec
        }
        try reader.finish()
        return result
    }

    func backend(named name: String, for key: String, overrides: LLMOverrides?) throws(BoardError) -> AgentBackend {
        if name == "builtin" { return .builtin }
        guard let flavor = LLMSpec.Flavor(rawValue: name), var spec = servers[flavor] else {
            throw BoardError(.invalidConfig, "agents.\(key).backend must be one of builtin, command, noop, ollama, openai (got \(name))")
        }
        if let overrides {
            spec.model = overrides.model ?? spec.model
            spec.temperature = overrides.temperature ?? spec.temperature
            spec.contextSize = overrides.contextSize ?? spec.contextSize
        }
        return .llm(spec)
    }
}
