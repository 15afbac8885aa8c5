import AsyncHTTPClient
import BoardCore
import BoardLLM
import Foundation

/// Where LLM agents get their HTTP client: one per daemon, shared by every agent.
public struct LLMConnections: Sendable {
    let httpClient: HTTPClient?

    public init(httpClient: HTTPClient) {
        self.httpClient = httpClient
    }

    private init() {
        httpClient = nil
    }

    /// For boards without LLM agents (and tests): an LLM agent fails clearly.
    public static let offline = LLMConnections()

    func client(for spec: LLMSpec, role: String) throws -> any ChatClient {
        guard let httpClient else { throw AgentFailure(.permanent, "\(role): no HTTP client for LLM backends in this process") }
        switch spec.flavor {
        case .ollama:
            return OllamaClient(baseURL: spec.baseURL, httpClient: httpClient)
        case .openai:
            let key: String?
            do {
                key = try APIKey.load(file: spec.apiKeyFile, credential: spec.apiKeyCredential)
            } catch {
                throw AgentFailure(.permanent, "\(role): cannot read the API key for \(spec.baseURL): \(error)")
            }
            return OpenAIClient(baseURL: spec.baseURL, apiKey: key, useJSONSchema: spec.useJSONSchema, httpClient: httpClient)
        }
    }
}

/// The JSON every LLM agent answers with, and its parsing.
enum AnalysisFormat {
    static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "summary": ["type": "string"],
            "findings": ["type": "array", "items": ["type": "string"]],
            "risks": ["type": "array", "items": ["type": "string"]],
            "recommendations": ["type": "array", "items": ["type": "string"]],
            "confidence": ["type": "number", "minimum": 0, "maximum": 1],
            "citations": ["type": "array", "items": ["type": "string"]],
        ],
        "required": ["summary", "findings", "risks", "recommendations", "confidence", "citations"],
        "additionalProperties": false,
    ]

    static let instructions = """
        Answer with one JSON object and nothing else: {"summary": string, "findings": [string], \
        "risks": [string], "recommendations": [string], "confidence": number between 0 and 1, \
        "citations": [string] (sources you relied on; empty if none)}.
        """

    static func parse(_ text: String) -> [String: JSONValue]? {
        // Models sometimes wrap JSON in a Markdown fence despite the instructions.
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("```") {
            body = body.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            if let fence = body.range(of: "```", options: .backwards) { body = String(body[..<fence.lowerBound]) }
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)), case let .object(fields) = value else {
            return nil
        }
        return fields
    }

    static func strings(_ value: JSONValue?) -> [String] {
        guard case let .array(items)? = value else { return [] }
        return items.compactMap(\.stringValue)
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case let .double(number)?: min(max(number, 0), 1)
        case let .int(number)?: min(max(Double(number), 0), 1)
        default: nil
        }
    }
}

/// An executive played by a language model.
public struct LLMAgent: Agent {
    public let definition: AgentDefinition
    let spec: LLMSpec
    let connections: LLMConnections

    public func perform(_ work: AgentWork) async throws -> AgentResult {
        let client = try connections.client(for: spec, role: definition.role)
        var prompt = "Company goal: \(work.goal)\n"
        if let context = work.context, !context.isEmpty { prompt += "Context: \(context)\n" }
        prompt += "\nYour task, as \(definition.title): \(work.description)\n"
        if !work.dependencyResults.isEmpty {
            prompt += "\nYour colleagues' results, which this task builds on:\n"
            for result in work.dependencyResults {
                prompt += "- \(result.codename) (\(result.agent)): \(result.summary)\n"
                for recommendation in result.recommendations.prefix(5) { prompt += "  * \(recommendation)\n" }
            }
        }
        let request = ChatRequest(
            model: spec.model,
            messages: [.system(definition.systemPrompt + "\n\n" + AnalysisFormat.instructions), .user(prompt)],
            jsonSchema: AnalysisFormat.schema, temperature: spec.temperature, contextSize: spec.contextSize,
            keepAlive: spec.keepAlive, timeout: .seconds(spec.timeoutSeconds))
        let response = try await Self.chat(client, request, role: definition.role)
        guard let fields = AnalysisFormat.parse(response.content), case let .string(summary)? = fields["summary"],
              !summary.allSatisfy(\.isWhitespace)
        else {
            throw AgentFailure(.retryable, """
                \(definition.role): \(spec.model) at \(spec.baseURL) answered without the expected JSON: \
                \(response.content.prefix(200))
                """)
        }
        return AgentResult(
            agent: definition.role, codename: definition.codename, backend: spec.flavor.rawValue, offline: false,
            summary: summary, findings: AnalysisFormat.strings(fields["findings"]), risks: AnalysisFormat.strings(fields["risks"]),
            recommendations: AnalysisFormat.strings(fields["recommendations"]), confidence: AnalysisFormat.number(fields["confidence"]),
            citations: AnalysisFormat.strings(fields["citations"]), usage: Self.usage(response))
    }

    /// One chat call, with the LLM layer's errors turned into attempt outcomes.
    static func chat(_ client: any ChatClient, _ request: ChatRequest, role: String) async throws -> ChatResponse {
        do {
            return try await client.chat(request)
        } catch let error as LLMError {
            throw AgentFailure(error.kind == .transient ? .retryable : .permanent, "\(role): \(error.message)", retryAfter: error.retryAfter)
        }
    }

    /// Asks for a JSON answer and checks it with `validate`. An invalid answer (`answer` names
    /// what was asked for: "plan", "synthesis") gets one repair request that quotes the problem;
    /// a second invalid one fails the attempt, retryable. Returns the value and the usage of
    /// every call made for it.
    static func askValidated<Value>(
        _ client: any ChatClient, spec: LLMSpec, role: String, messages: [ChatMessage], schema: JSONValue, answer: String,
        validate: (String) throws(BoardError) -> Value
    ) async throws -> (value: Value, usage: Usage?) {
        var messages = messages
        var usage: Usage?
        var attempt = 1
        while true {
            let request = ChatRequest(
                model: spec.model, messages: messages, jsonSchema: schema, temperature: spec.temperature,
                contextSize: spec.contextSize, keepAlive: spec.keepAlive, timeout: .seconds(spec.timeoutSeconds))
            let response = try await chat(client, request, role: role)
            usage = Usage.total(usage, Self.usage(response))
            let problem: String
            do {
                return (try validate(response.content), usage)
            } catch {
                problem = error.message
            }
            if attempt == 2 {
                throw AgentFailure(.retryable, """
                    \(role): \(spec.model) at \(spec.baseURL) gave an invalid \(answer) twice (\(problem)): \
                    \(response.content.prefix(200))
                    """)
            }
            attempt += 1
            messages += [
                .assistant(response.content),
                .user("That \(answer) is invalid: \(problem). Answer again with only the corrected JSON object."),
            ]
        }
    }

    static func usage(_ response: ChatResponse) -> Usage {
        Usage(
            model: response.model, promptTokens: response.promptTokens, completionTokens: response.completionTokens,
            latencyMilliseconds: response.latency.wholeMilliseconds)
    }
}
