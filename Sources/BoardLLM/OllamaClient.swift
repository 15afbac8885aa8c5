import AsyncHTTPClient
import BoardCore

/// Ollama's native chat API: `POST {base}/api/chat`, one JSON answer (`stream: false`).
///
/// A schema goes in `format`, which Ollama enforces by constrained decoding; `temperature` and
/// `num_ctx` go in `options`; `keep_alive` is passed through. Token counts come from
/// `prompt_eval_count` and `eval_count`.
public struct OllamaClient: ChatClient {
    let endpoint: Endpoint
    let httpClient: HTTPClient

    /// - Parameters:
    ///   - baseURL: the server, e.g. `http://127.0.0.1:11434`.
    ///   - httpClient: shared by every client of the daemon, which owns and shuts it down.
    public init(baseURL: String, httpClient: HTTPClient) {
        self.endpoint = Endpoint(server: "Ollama", baseURL: baseURL)
        self.httpClient = httpClient
    }

    public func chat(_ request: ChatRequest) async throws -> ChatResponse {
        let answer = try await Transport.post(
            httpClient, to: endpoint, path: "/api/chat", model: request.model, headers: [],
            body: Self.body(for: request), timeout: request.timeout)
        try Transport.requireSuccess(answer, from: endpoint, model: request.model)
        return try Self.parse(answer, from: endpoint, model: request.model)
    }

    /// The JSON body board sends for `request`.
    static func body(for request: ChatRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
            "stream": false,
        ]
        if let schema = request.jsonSchema { body["format"] = schema }
        var options: [String: JSONValue] = [:]
        if let temperature = request.temperature { options["temperature"] = .double(temperature) }
        if let contextSize = request.contextSize { options["num_ctx"] = .int(Int64(contextSize)) }
        if !options.isEmpty { body["options"] = .object(options) }
        if let keepAlive = request.keepAlive { body["keep_alive"] = .string(keepAlive) }
        return .object(body)
    }

    /// Reads a 2xx answer: `{"model": …, "message": {"role": "assistant", "content": …}, "prompt_eval_count": …, "eval_count": …}`.
    static func parse(_ answer: HTTPAnswer, from endpoint: Endpoint, model: String) throws -> ChatResponse {
        let json = ResponseBody.json(answer.body)
        if let error = json?["error"]?.stringValue {
            // Ollama reports some failures (e.g. a model that failed to load) as a 200 with an error.
            throw endpoint.error(.permanent, model: model, "error: \(HTTPClassification.excerpt(error, limit: 300))")
        }
        guard let content = json?["message"]?["content"]?.stringValue else {
            throw unexpectedBody(answer, from: endpoint, model: model)
        }
        return ChatResponse(
            content: content, promptTokens: ResponseBody.count(json?["prompt_eval_count"]),
            completionTokens: ResponseBody.count(json?["eval_count"]), latency: answer.latency,
            model: json?["model"]?.stringValue ?? model)
    }
}

/// A 2xx answer board cannot read: permanent, since asking again gets the same shape.
func unexpectedBody(_ answer: HTTPAnswer, from endpoint: Endpoint, model: String) -> LLMError {
    let excerpt = HTTPClassification.excerpt(answer.text, limit: 200)
    return endpoint.error(
        .permanent, model: model, "returned an unexpected body: \(excerpt.isEmpty ? "(empty)" : excerpt)")
}
