import AsyncHTTPClient
import Foundation
import BoardCore
import BoardTestSupport
import Testing
@testable import BoardLLM

/// The LLMError `operation` throws, or `nil` (with a recorded issue) when it throws something else
/// or nothing.
func llmError<T>(_ operation: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> LLMError? {
    do {
        _ = try await operation()
        Issue.record("expected an LLMError, got a result", sourceLocation: sourceLocation)
    } catch let error as LLMError {
        return error
    } catch {
        Issue.record("expected an LLMError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A port on 127.0.0.1 where nothing listens, held for the test: a socket bound to it but never
/// listening makes connections to it refused, and no other test's server can take the port
/// meanwhile (binding a free port and releasing it raced with parallel tests: once, a connection
/// reached another test's server and failed differently).
final class ClosedPort {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// An Ollama answer as the server sends it.
func ollamaAnswer(_ content: String, model: String = "llama3.2") -> JSONValue {
    LLMAnswers.ollama(content, model: model)
}

/// An OpenAI chat completion as the server sends it.
func openAIAnswer(_ content: String, model: String = "gpt-test") -> JSONValue {
    LLMAnswers.openAI(content, model: model)
}

let answerSchema: JSONValue = [
    "type": "object",
    "properties": ["summary": ["type": "string"]],
    "required": ["summary"],
    "additionalProperties": false,
]

/// The two wire formats, for the tests every backend must pass alike.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case ollama, openAI

    var testDescription: String { rawValue }

    func client(for server: FakeLLMServer, httpClient: HTTPClient = .shared) -> any ChatClient {
        switch self {
        case .ollama: OllamaClient(baseURL: server.baseURL, httpClient: httpClient)
        case .openAI: OpenAIClient(baseURL: server.baseURL + "/v1", apiKey: nil, useJSONSchema: true, httpClient: httpClient)
        }
    }

    func client(port: Int, httpClient: HTTPClient = .shared) -> any ChatClient {
        switch self {
        case .ollama: OllamaClient(baseURL: "http://127.0.0.1:\(port)", httpClient: httpClient)
        case .openAI: OpenAIClient(baseURL: "http://127.0.0.1:\(port)/v1", apiKey: nil, useJSONSchema: true, httpClient: httpClient)
        }
    }

    func answer(_ content: String) -> JSONValue {
        switch self {
        case .ollama: ollamaAnswer(content)
        case .openAI: openAIAnswer(content)
        }
    }

    /// How the server says it does not know the model.
    func modelNotFound(_ model: String) -> FakeLLMServer.Response {
        switch self {
        case .ollama:
            .json(["error": .string("model '\(model)' not found")], status: 404)
        case .openAI:
            .json(
                ["error": ["message": .string("The model `\(model)` does not exist"), "type": "invalid_request_error", "code": "model_not_found"]],
                status: 404)
        }
    }
}

func chatRequest(model: String = "llama3.2", schema: JSONValue? = nil, timeout: Duration = .seconds(30)) -> ChatRequest {
    ChatRequest(
        model: model, messages: [.system("You are the CFO."), .user("Budget the launch.")], jsonSchema: schema,
        timeout: timeout)
}
