import BoardCore

/// How an agent does its work.
public enum AgentBackend: Sendable, Equatable {
    /// Offline rules; needs no language model. Its results are labelled offline.
    case builtin
    /// An executable run with argv (never through a shell): the task as JSON on stdin, the result on stdout.
    case command(CommandSpec)
    /// A language model behind an Ollama or OpenAI-compatible server.
    case llm(LLMSpec)
    /// Does nothing and succeeds at once, in process. Made for benchmarks: it measures the
    /// daemon's own cost per task (store, scheduling, control plane) with no agent work in it.
    case noop

    public var name: String {
        switch self {
        case .builtin: "builtin"
        case .command: "command"
        case .noop: "noop"
        case let .llm(spec): spec.flavor.rawValue
        }
    }

    /// The model, for listings (`boardctl agents`).
    public var model: String? {
        if case let .llm(spec) = self { return spec.model }
        return nil
    }
}

public struct CommandSpec: Sendable, Equatable {
    /// argv: the executable (absolute, or found on PATH) and its arguments.
    public var argv: [String]
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(argv: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// Which server an LLM agent talks to, and how.
public struct LLMSpec: Sendable, Equatable {
    public enum Flavor: String, Sendable, CaseIterable {
        /// Ollama's native chat API (`/api/chat`).
        case ollama
        /// OpenAI-compatible chat completions (`/chat/completions`): llama.cpp, vLLM, LM Studio, hosted APIs.
        case openai
    }

    public var flavor: Flavor
    public var baseURL: String
    public var model: String
    public var temperature: Double?
    /// Ollama's `num_ctx`.
    public var contextSize: Int?
    /// Ollama's `keep_alive`, e.g. "10m".
    public var keepAlive: String?
    /// OpenAI: the API key is read from this file…
    public var apiKeyFile: String?
    /// …or from this systemd credential (`LoadCredential=`), never from the configuration itself.
    public var apiKeyCredential: String?
    /// OpenAI: ask for `response_format` with a JSON schema (servers that lack it get instructions instead).
    public var useJSONSchema: Bool
    public var timeoutSeconds: Int

    public init(
        flavor: Flavor, baseURL: String, model: String, temperature: Double? = nil, contextSize: Int? = nil,
        keepAlive: String? = nil, apiKeyFile: String? = nil, apiKeyCredential: String? = nil, useJSONSchema: Bool = true,
        timeoutSeconds: Int = 300
    ) {
        self.flavor = flavor
        self.baseURL = baseURL
        self.model = model
        self.temperature = temperature
        self.contextSize = contextSize
        self.keepAlive = keepAlive
        self.apiKeyFile = apiKeyFile
        self.apiKeyCredential = apiKeyCredential
        self.useJSONSchema = useJSONSchema
        self.timeoutSeconds = timeoutSeconds
    }
}

/// One executive of the board.
public struct AgentDefinition: Sendable, Equatable {
    /// The role, upper-case (`CFO`); what tasks are assigned to.
    public var role: String
    public var codename: String
    public var title: String
    public var expertise: String
    /// What an LLM backend is told about who it is.
    public var systemPrompt: String
    public var backend: AgentBackend

    public init(
        role: String, codename: String, title: String, expertise: String, systemPrompt: String = "", backend: AgentBackend = .builtin
    ) {
        self.role = role
        self.codename = codename
        self.title = title
        self.expertise = expertise
        self.systemPrompt = systemPrompt
        self.backend = backend
    }
}
