import BoardCore

/// One message of a chat conversation.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// One non-streaming chat completion to ask of a language-model server.
public struct ChatRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    /// A JSON schema the answer must follow; `nil` asks for free text.
    public var jsonSchema: JSONValue?
    /// Sampling temperature; `nil` leaves the server's default.
    public var temperature: Double?
    /// Context window in tokens (Ollama `num_ctx`); OpenAI-compatible servers size it themselves and ignore it.
    public var contextSize: Int?
    /// How long Ollama keeps the model loaded afterwards (`keep_alive`, e.g. `"5m"`); ignored by OpenAI-compatible servers.
    public var keepAlive: String?
    /// The whole request: connecting, waiting for the answer and reading it. Past it the call fails
    /// with a transient `LLMError`.
    public var timeout: Duration

    public init(
        model: String, messages: [ChatMessage], jsonSchema: JSONValue? = nil, temperature: Double? = nil,
        contextSize: Int? = nil, keepAlive: String? = nil, timeout: Duration = .seconds(600)
    ) {
        self.model = model
        self.messages = messages
        self.jsonSchema = jsonSchema
        self.temperature = temperature
        self.contextSize = contextSize
        self.keepAlive = keepAlive
        self.timeout = timeout
    }
}

/// What the server answered.
public struct ChatResponse: Sendable, Equatable {
    /// The assistant message text: JSON text when the request gave a schema (not validated here:
    /// servers that are only instructed to follow the schema may not).
    public var content: String
    /// Token counts, when the server reports them.
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// From sending the request to having read the whole answer.
    public var latency: Duration
    /// The model as the server reports it, or the requested one when it does not.
    public var model: String

    public init(content: String, promptTokens: Int?, completionTokens: Int?, latency: Duration, model: String) {
        self.content = content
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latency = latency
        self.model = model
    }
}

/// A language-model backend that answers chat requests.
///
/// Implementations throw `LLMError` for every failure of the server or the network, and
/// `CancellationError` when the calling task is cancelled, after aborting the HTTP request.
public protocol ChatClient: Sendable {
    func chat(_ request: ChatRequest) async throws -> ChatResponse
}
