import AsyncHTTPClient
import BoardCore
import BoardTestSupport
import NIOHTTP1
import Testing
@testable import BoardLLM

@Suite("OpenAI-compatible client", .timeLimit(.minutes(1)))
struct OpenAIClientTests {
    let key = "sk-test-0123456789abcdef"

    @Test func sendsTheKeyAndAStrictJSONSchema() async throws {
        let response = try await FakeLLMServer.run({ _ in .json(openAIAnswer(#"{"summary":"ok"}"#, model: "gpt-test-2025")) }) {
            server in
            let client = OpenAIClient(baseURL: server.baseURL + "/v1", apiKey: key, useJSONSchema: true, httpClient: .shared)
            var request = chatRequest(model: "gpt-test", schema: answerSchema)
            request.temperature = 0.7
            request.contextSize = 8192  // Ollama's; not part of this API
            request.keepAlive = "5m"
            let response = try await client.chat(request)

            let sent = try #require(server.requests.first)
            #expect(sent.method == .POST)
            #expect(sent.path == "/v1/chat/completions")
            #expect(sent.header("Authorization") == "Bearer \(key)")
            #expect(sent.header("Content-Type") == "application/json")
            #expect(
                sent.json == [
                    "model": "gpt-test",
                    "messages": [
                        ["role": "system", "content": "You are the CFO."], ["role": "user", "content": "Budget the launch."],
                    ],
                    "stream": false,
                    "temperature": .double(0.7),
                    "response_format": [
                        "type": "json_schema",
                        "json_schema": ["name": "board_output", "strict": true, "schema": answerSchema],
                    ],
                ])
            return response
        }
        #expect(response.content == #"{"summary":"ok"}"#)
        #expect(response.promptTokens == 12)
        #expect(response.completionTokens == 34)
        #expect(response.model == "gpt-test-2025")
    }

    @Test func withoutKeyOrSchemaSupportItSendsNoAuthorizationAndInstructsInstead() async throws {
        try await FakeLLMServer.run({ _ in .json(openAIAnswer("{}")) }) { server in
            let client = OpenAIClient(baseURL: server.baseURL + "/v1", apiKey: nil, useJSONSchema: false, httpClient: .shared)
            _ = try await client.chat(chatRequest(schema: answerSchema))
            let sent = try #require(server.requests.first)
            #expect(sent.header("Authorization") == nil)
            let body = try #require(sent.json)
            #expect(body["response_format"] == nil)
            #expect(body["temperature"] == nil)
            guard case let .array(messages)? = body["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(messages.count == 2, "the instruction joins the existing system message")
            let system = messages.first?["content"]?.stringValue ?? ""
            #expect(system.hasPrefix("You are the CFO.\n\nAnswer with one JSON value only"))
            #expect(system.hasSuffix(answerSchema.serialized))
        }
    }

    @Test func theSchemaInstructionComesFirstWhenThereIsNoSystemMessage() {
        let messages = OpenAIClient.withSchemaInstruction([.user("hi"), .system("late")], schema: answerSchema)
        #expect(messages.map(\.role) == [.system, .user, .system])
        #expect(messages[0].content == OpenAIClient.schemaInstruction(answerSchema))
        #expect(messages[1...] == [.user("hi"), .system("late")])
    }

    @Test func anEmptyKeyIsNoKey() async throws {
        try await FakeLLMServer.run({ _ in .json(openAIAnswer("x")) }) { server in
            _ = try await OpenAIClient(baseURL: server.baseURL + "/v1", apiKey: "", useJSONSchema: true, httpClient: .shared)
                .chat(chatRequest())
            #expect(server.requests.first?.header("Authorization") == nil)
        }
    }

    @Test func missingUsageIsNilAndTheRequestedModelStands() async throws {
        let answer: JSONValue = ["choices": [["message": ["role": "assistant", "content": "hello"]]]]
        try await FakeLLMServer.run({ _ in .json(answer) }) { server in
            let response = try await Backend.openAI.client(for: server).chat(chatRequest(model: "local"))
            #expect(response.content == "hello")
            #expect(response.promptTokens == nil && response.completionTokens == nil)
            #expect(response.model == "local")
        }
    }

    @Test func aRejectedKeyIsPermanentAndTheKeyNeverAppears() async throws {
        // OpenAI quotes part of a rejected key; a server that quotes all of it must not leak it either.
        let body: JSONValue = ["error": ["message": .string("Incorrect API key provided: \(key)."), "type": "invalid_request_error"]]
        try await FakeLLMServer.run({ _ in .json(body, status: 401) }) { server in
            let client = OpenAIClient(baseURL: server.baseURL + "/v1", apiKey: key, useJSONSchema: true, httpClient: .shared)
            let error = await llmError { try await client.chat(chatRequest(model: "gpt-test")) }
            #expect(error?.kind == .permanent)
            #expect(
                error?.message
                    == "OpenAI-compatible server \(server.baseURL)/v1, model gpt-test: HTTP 401 Unauthorized: Incorrect API key provided: <redacted>."
            )
            #expect(error.map { !"\($0)".contains(key) } == true)
        }
    }

    @Test func aModelNotFoundIsPermanentWithTheServersText() async throws {
        try await FakeLLMServer.run({ _ in Backend.openAI.modelNotFound("gpt-nope") }) { server in
            let error = await llmError { try await Backend.openAI.client(for: server).chat(chatRequest(model: "gpt-nope")) }
            #expect(error?.kind == .permanent)
            #expect(error?.message.contains("model gpt-nope: HTTP 404 Not Found: The model `gpt-nope` does not exist") == true)
        }
    }

    @Test func vllmAndFastAPIErrorShapesAreReadToo() async throws {
        let shapes: [JSONValue] = [
            ["object": "error", "message": "maximum context length is 4096 tokens", "code": 400],
            ["detail": "maximum context length is 4096 tokens"],
        ]
        for shape in shapes {
            try await FakeLLMServer.run({ _ in .json(shape, status: 400) }) { server in
                let error = await llmError { try await Backend.openAI.client(for: server).chat(chatRequest()) }
                #expect(error?.kind == .permanent)
                #expect(error?.message.hasSuffix("HTTP 400 Bad Request: maximum context length is 4096 tokens") == true)
            }
        }
    }

    @Test func aRefusalIsPermanent() async throws {
        let answer: JSONValue = ["choices": [["message": ["role": "assistant", "content": nil, "refusal": "I can't help with that."]]]]
        try await FakeLLMServer.run({ _ in .json(answer) }) { server in
            let error = await llmError { try await Backend.openAI.client(for: server).chat(chatRequest()) }
            #expect(error?.kind == .permanent)
            #expect(error?.message.hasSuffix("the model refused: I can't help with that.") == true)
        }
    }
}
