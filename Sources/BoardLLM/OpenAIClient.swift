import AsyncHTTPClient
import BoardCore

/// The OpenAI chat completions API, as spoken by OpenAI and by local servers (llama.cpp, vLLM,
/// LM Studio, LocalAI): `POST {base}/chat/completions` with `base` like `http://host:8080/v1`.
///
/// A schema goes in `response_format` (`json_schema`, strict) when the server supports it
/// (`useJSONSchema`); otherwise the schema is written into the system message with an instruction
/// to answer with JSON only, which most models follow but no server enforces. `contextSize` and
/// `keepAlive` are Ollama settings and are not sent. Token counts come from `usage`.
public struct OpenAIClient: ChatClient {
    let endpoint: Endpoint
    let apiKey: String?
    let useJSONSchema: Bool
    let httpClient: HTTPClient

    /// - Parameters:
    ///   - baseURL: up to and including the API version, e.g. `http://127.0.0.1:8080/v1`.
    ///   - apiKey: sent as `Authorization: Bearer …` when present; see `APIKey.load`.
    ///   - useJSONSchema: whether the server accepts `response_format` of type `json_schema`.
    ///   - httpClient: shared by every client of the daemon, which owns and shuts it down.
    public init(baseURL: String, apiKey: String?, useJSONSchema: Bool, httpClient: HTTPClient) {
        self.endpoint = Endpoint(server: "OpenAI-compatible server", baseURL: baseURL, secret: apiKey)
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.useJSONSchema = useJSONSchema
        self.httpClient = httpClient
    }

    public func chat(_ request: ChatRequest) async throws -> ChatResponse {
        let headers = apiKey.map { [("Authorization", "Bearer \($0)")] } ?? []
        let answer = try await Transport.post(
            httpClient, to: endpoint, path: "/chat/completions", model: request.model, headers: headers,
            body: Self.body(for: request, useJSONSchema: useJSONSchema), timeout: request.timeout)
        try Transport.requireSuccess(answer, from: endpoint, model: request.model)
        return try Self.parse(answer, from: endpoint, model: request.model)
    }

    /// The name the schema is sent under; OpenAI requires one.
    static let schemaName = "board_output"

    /// The JSON body board sends for `request`.
    static func body(for request: ChatRequest, useJSONSchema: Bool) -> JSONValue {
        var messages = request.messages
        var body: [String: JSONValue] = ["model": .string(request.model), "stream": false]
        if let schema = request.jsonSchema {
            if useJSONSchema {
                body["response_format"] = [
                    "type": "json_schema",
                    "json_schema": ["name": .string(schemaName), "strict": true, "schema": schema],
                ]
            } else {
                messages = withSchemaInstruction(messages, schema: schema)
            }
        }
        body["messages"] = .array(messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        return .object(body)
    }

    /// The instruction that stands in for `response_format` on servers without it.
    static func schemaInstruction(_ schema: JSONValue) -> String {
        "Answer with one JSON value only, with no prose before or after it and no code fences. "
            + "It must follow this JSON schema:\n\(schema.serialized)"
    }

    /// Adds the instruction to the first system message, or puts a system message first: several
    /// chat templates (llama.cpp's among them) refuse a second system message or one after a user turn.
    static func withSchemaInstruction(_ messages: [ChatMessage], schema: JSONValue) -> [ChatMessage] {
        var messages = messages
        let instruction = schemaInstruction(schema)
        if messages.first?.role == .system {
            messages[0].content += "\n\n" + instruction
        } else {
            messages.insert(.system(instruction), at: messages.startIndex)
        }
        return messages
    }

    /// Reads a 2xx answer: `{"model": …, "choices": [{"message": {"content": …}}], "usage": {"prompt_tokens": …, "completion_tokens": …}}`.
    static func parse(_ answer: HTTPAnswer, from endpoint: Endpoint, model: String) throws -> ChatResponse {
        let json = ResponseBody.json(answer.body)
        guard case let .array(choices)? = json?["choices"], let message = choices.first?["message"] else {
            throw unexpectedBody(answer, from: endpoint, model: model)
        }
        guard let content = message["content"]?.stringValue else {
            if let refusal = message["refusal"]?.stringValue {
                throw endpoint.error(
                    .permanent, model: model, "the model refused: \(HTTPClassification.excerpt(refusal, limit: 300))")
            }
            throw unexpectedBody(answer, from: endpoint, model: model)
        }
        return ChatResponse(
            content: content, promptTokens: ResponseBody.count(json?["usage"]?["prompt_tokens"]),
            completionTokens: ResponseBody.count(json?["usage"]?["completion_tokens"]), latency: answer.latency,
            model: json?["model"]?.stringValue ?? model)
    }
}
