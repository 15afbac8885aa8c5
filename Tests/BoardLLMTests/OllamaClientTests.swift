import AsyncHTTPClient
import BoardCore
import BoardTestSupport
import NIOHTTP1
import Testing
@testable import BoardLLM

@Suite("Ollama client", .timeLimit(.minutes(1)))
struct OllamaClientTests {
    @Test func sendsOneNonStreamingChatWithFormatOptionsAndKeepAlive() async throws {
        let response = try await FakeLLMServer.run({ _ in .json(ollamaAnswer(#"{"summary":"ok"}"#, model: "llama3.2:latest")) }) {
            server in
            let client = OllamaClient(baseURL: server.baseURL + "/", httpClient: .shared)
            var request = chatRequest(schema: answerSchema)
            request.temperature = 0.2
            request.contextSize = 8192
            request.keepAlive = "5m"
            let response = try await client.chat(request)

            let sent = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(sent.method == .POST)
            #expect(sent.path == "/api/chat", "a trailing slash on the base URL is not doubled")
            #expect(sent.header("Content-Type") == "application/json")
            #expect(sent.header("Authorization") == nil)
            #expect(
                sent.json == [
                    "model": "llama3.2",
                    "messages": [
                        ["role": "system", "content": "You are the CFO."], ["role": "user", "content": "Budget the launch."],
                    ],
                    "stream": false,
                    "format": answerSchema,
                    "options": ["temperature": .double(0.2), "num_ctx": 8192],
                    "keep_alive": "5m",
                ])
            return response
        }
        #expect(response.content == #"{"summary":"ok"}"#)
        #expect(response.promptTokens == 26)
        #expect(response.completionTokens == 298)
        #expect(response.model == "llama3.2:latest", "the model as the server names it")
        #expect(response.latency > .zero)
    }

    @Test func leavesOutWhatTheRequestDoesNotSet() async throws {
        try await FakeLLMServer.run({ _ in .json(["message": ["role": "assistant", "content": "free text"]]) }) { server in
            let response = try await OllamaClient(baseURL: server.baseURL, httpClient: .shared).chat(chatRequest())
            let body = try #require(server.requests.first?.json?.objectValue)
            #expect(Set(body.keys) == ["model", "messages", "stream"])
            #expect(response.content == "free text")
            #expect(response.promptTokens == nil && response.completionTokens == nil, "not reported, not invented")
            #expect(response.model == "llama3.2", "the requested model when the server does not say")
        }
    }

    @Test func anUnknownModelIsPermanentAndNamesModelStatusAndServer() async throws {
        try await FakeLLMServer.run({ _ in Backend.ollama.modelNotFound("mistral") }) { server in
            let error = await llmError { try await OllamaClient(baseURL: server.baseURL, httpClient: .shared).chat(chatRequest(model: "mistral")) }
            #expect(error?.kind == .permanent)
            #expect(error?.retryAfter == nil)
            #expect(error?.message == "Ollama \(server.baseURL), model mistral: HTTP 404 Not Found: model 'mistral' not found")
        }
    }

    @Test func anErrorInASuccessfulAnswerIsPermanent() async throws {
        try await FakeLLMServer.run({ _ in .json(["error": "llama runner process has terminated"]) }) { server in
            let error = await llmError { try await OllamaClient(baseURL: server.baseURL, httpClient: .shared).chat(chatRequest()) }
            #expect(error?.kind == .permanent)
            #expect(error?.message.contains("llama runner process has terminated") == true)
        }
    }
}
