import AsyncHTTPClient
import BoardCore
import BoardTestSupport
import Testing
@testable import BoardLLM

/// How each backend fails: the same rules for both wire formats. The limits on waiting below only
/// catch hangs; no test asserts how long anything took.
@Suite("Failures", .timeLimit(.minutes(1)))
struct FailureTests {
    @Test(arguments: Backend.allCases)
    func aSuccessWithAnUnexpectedBodyIsPermanentAndQuotesIt(_ backend: Backend) async throws {
        let junk = "<html>" + String(repeating: "junk ", count: 100) + "</html>"
        for body in [junk, #"{"unexpected": true}"#, ""] {
            try await FakeLLMServer.run({ _ in .init(body: body) }) { server in
                let error = await llmError { try await backend.client(for: server).chat(chatRequest()) }
                #expect(error?.kind == .permanent)
                let quoted = body.isEmpty ? "(empty)" : String(body.prefix(200)) + (body.count > 200 ? "…" : "")
                #expect(error?.message.hasSuffix("model llama3.2: returned an unexpected body: \(quoted)") == true, "\(error?.message ?? "")")
            }
        }
    }

    @Test(arguments: Backend.allCases, [408, 500, 502, 503, 504])
    func serverErrorsAreTransient(_ backend: Backend, status: Int) async throws {
        try await FakeLLMServer.run({ _ in .json(["error": "busy, try later"], status: status) }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest()) }
            #expect(error?.kind == .transient)
            #expect(error?.message.contains("model llama3.2: HTTP \(status)") == true)
            #expect(error?.message.hasSuffix(": busy, try later") == true)
            #expect(error?.retryAfter == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func rateLimitingIsTransientWithRetryAfter(_ backend: Backend) async throws {
        try await FakeLLMServer.run({ _ in .init(status: 429, headers: [("Retry-After", "7")], body: "slow down") }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest()) }
            #expect(error?.kind == .transient)
            #expect(error?.retryAfter == .seconds(7))
            #expect(error?.message.hasSuffix("HTTP 429 Too Many Requests: slow down") == true)
        }
    }

    @Test(arguments: Backend.allCases)
    func anUnavailableServerMayGiveADate(_ backend: Backend) async throws {
        // A date in the past means "retry now"; the parsing of future dates is tested on its own.
        let header = ("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
        try await FakeLLMServer.run({ _ in .init(status: 503, headers: [header], body: "") }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest()) }
            #expect(error?.kind == .transient)
            #expect(error?.retryAfter == .zero)
            #expect(error?.message.hasSuffix("HTTP 503 Service Unavailable") == true)
        }
    }

    @Test(arguments: Backend.allCases, [400, 401, 403, 404, 422])
    func otherClientErrorsArePermanent(_ backend: Backend, status: Int) async throws {
        try await FakeLLMServer.run({ _ in .init(status: status, headers: [("Retry-After", "7")], body: "no") }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest()) }
            #expect(error?.kind == .permanent)
            #expect(error?.retryAfter == nil, "waiting does not fix a permanent failure")
            #expect(error?.message.contains("HTTP \(status)") == true)
        }
    }

    @Test(arguments: Backend.allCases)
    func aServerSlowerThanTheTimeoutIsTransient(_ backend: Backend) async throws {
        try await FakeLLMServer.run({ _ in
            try? await Task.sleep(for: .seconds(60))  // cancelled when the client gives up
            return .json(backend.answer("too late"))
        }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest(timeout: .milliseconds(300))) }
            #expect(error?.kind == .transient)
            // Usually the client's deadline fires ("no answer within 300 ms"); under CPU load the
            // whole-exchange limit 250 ms later can win ("no complete answer within 300 ms"). Both
            // are the timeout, named with its limit.
            let message = error?.message ?? ""
            #expect(message.contains("model llama3.2: "), "\(message)")
            #expect(message.contains("answer within 300 ms"), "\(message)")
            #expect(error?.retryAfter == nil)
            #expect(await server.eventually { $0.connectionsClosed == 1 }, "the abandoned request's connection is closed")
        }
    }

    @Test(arguments: Backend.allCases)
    func aServerThatStallsMidAnswerIsTransient(_ backend: Backend) async throws {
        try await FakeLLMServer.run({ _ in
            .init(body: backend.answer("too late").serialized, bodyDelay: .seconds(60))
        }) { server in
            let error = await llmError { try await backend.client(for: server).chat(chatRequest(timeout: .milliseconds(300))) }
            #expect(error?.kind == .transient)
            // Which limit fires first depends on scheduling: the body limit ("no complete answer
            // within 300 ms") or, when the head is read late under load, the client's own deadline
            // ("no answer within 300 ms"). Either way it is a timeout that names the limit.
            let message = error?.message ?? ""
            #expect(message.contains("model llama3.2: "), "\(message)")
            #expect(message.contains("answer within 300 ms"), "\(message)")
            #expect(error?.retryAfter == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func aRefusedConnectionIsTransient(_ backend: Backend) async throws {
        let closed = try ClosedPort()
        let port = closed.port
        let error = await llmError { try await backend.client(port: port).chat(chatRequest(timeout: .seconds(2))) }
        withExtendedLifetime(closed) {}
        #expect(error?.kind == .transient)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        // AsyncHTTPClient keeps retrying a refused connect until the request's deadline and then
        // reports the last connect error; on a loaded machine (the full suite in parallel) the
        // deadline can come first and the message is the timeout's. Both are transient.
        let message = error?.message ?? ""
        #expect(message.contains("Connection refused") || message.contains("no complete answer within 2 s"), "\(message)")
    }

    @Test func anUnusableBaseURLIsPermanent() async throws {
        let client = OllamaClient(baseURL: "ftp://127.0.0.1:1", httpClient: .shared)
        let error = await llmError { try await client.chat(chatRequest()) }
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("base URL") == true)
    }

    @Test(arguments: Backend.allCases)
    func cancellingTheCallerAbortsTheRequest(_ backend: Backend) async throws {
        try await FakeLLMServer.run({ _ in
            try? await Task.sleep(for: .seconds(3600))  // never answers while the client is there
            return .json(backend.answer("never"))
        }) { server in
            let client = backend.client(for: server)
            let call = Task { try await client.chat(chatRequest(timeout: .seconds(3600))) }
            #expect(await server.eventually { $0.requests.count == 1 })
            call.cancel()
            let result = await call.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(await server.eventually { $0.connectionsClosed == 1 }, "the server sees the connection closed")
        }
    }

    @Test func oneClientServesConcurrentCallsAndReusesConnections() async throws {
        try await FakeLLMServer.run({ request in
            .json(ollamaAnswer("echo " + (request.json?["model"]?.stringValue ?? "?")))
        }) { server in
            let client = OllamaClient(baseURL: server.baseURL, httpClient: .shared)
            let contents = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 { group.addTask { try await client.chat(chatRequest(model: "m\(index)")).content } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(contents == Set((0..<8).map { "echo m\($0)" }))
            _ = try await client.chat(chatRequest())
            #expect(server.requests.count == 9)
            #expect(server.connectionsOpened <= 8, "keep-alive connections are reused")
        }
    }
}
