// A scriptable HTTP/1.1 server on 127.0.0.1 that stands in for a language-model backend (Ollama,
// an OpenAI-compatible server) in tests. It lives in the BoardTestSupport target, which the
// BoardLLM, BoardAgents and end-to-end test targets share; no product depends on it. Keep it free
// of anything specific to one test target, and of the Testing module (it is a plain target).

import BoardCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP server on an ephemeral loopback port whose every answer comes from a handler closure.
///
/// ```swift
/// try await FakeLLMServer.run({ request in .json(["message": ["content": "hi"]]) }) { server in
///     let client = OllamaClient(baseURL: server.baseURL, httpClient: .shared)
///     …
///     #expect(server.requests.first?.path == "/api/chat")
/// }
/// ```
///
/// The handler may take as long as it likes (sleep to play a slow server, or forever to play a
/// hung one): it is cancelled when the client closes the connection or the server stops.
public final class FakeLLMServer: Sendable {
    /// A request as received, body complete.
    public struct Request: Sendable {
        public var method: HTTPMethod
        /// The request target as sent, with its query if any.
        public var uri: String
        public var headers: HTTPHeaders
        public var body: [UInt8]

        /// The target without its query.
        public var path: String { String(uri.prefix { $0 != "?" }) }
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as JSON, or `nil` when it is not JSON.
        public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
        public func header(_ name: String) -> String? { headers.first(name: name) }

        /// The chat messages of an Ollama or OpenAI-compatible request body, in order.
        public var messages: [Message] {
            guard case let .array(items)? = json?["messages"] else { return [] }
            return items.map { Message(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "") }
        }

        /// The content of the first message with `role`, or `nil`.
        public func message(_ role: String) -> String? { messages.first { $0.role == role }?.content }

        /// The JSON schema the answer must follow: Ollama's `format`, or OpenAI's
        /// `response_format.json_schema.schema`.
        public var schema: JSONValue? {
            json?["format"] ?? json?["response_format"]?["json_schema"]?["schema"]
        }

        /// True when the schema's top-level `properties` include `name`.
        public func schemaHasProperty(_ name: String) -> Bool {
            // Not `!= nil`: JSONValue is ExpressibleByNilLiteral, so that could compare with `.null`.
            if case .some = schema?["properties"]?[name] { return true }
            return false
        }
    }

    /// One message of a chat request as the server received it.
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
    }

    /// What to answer.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: String
        /// Send the head at once and the body only this much later: a server that stalls mid-answer.
        public var bodyDelay: Duration?

        public init(status: Int = 200, headers: [(String, String)] = [], body: String, bodyDelay: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.bodyDelay = bodyDelay
        }

        /// A JSON answer (`Content-Type: application/json`).
        public static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized)
        }
    }

    public typealias Handler = @Sendable (Request) async -> Response

    private struct State {
        var requests: [Request] = []
        var connectionsOpened = 0
        var connectionsClosed = 0
    }

    public let port: Int
    private let handler: Handler
    private let state = Mutex(State())

    /// `http://127.0.0.1:PORT`, no trailing slash.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [Request] { state.withLock { $0.requests } }
    public var connectionsOpened: Int { state.withLock { $0.connectionsOpened } }
    /// Connections that have been closed, by either side.
    public var connectionsClosed: Int { state.withLock { $0.connectionsClosed } }

    private init(port: Int, handler: @escaping Handler) {
        self.port = port
        self.handler = handler
    }

    /// Starts a server, runs `body` with it, and stops it (closing every connection) when `body`
    /// returns or throws.
    public static func run<T: Sendable>(
        _ handler: @escaping Handler, _ body: (FakeLLMServer) async throws -> T
    ) async throws -> T {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        guard let port = listener.channel.localAddress?.port else {
            try? await listener.channel.close()
            throw ChannelError.unknownLocalAddress
        }
        let server = FakeLLMServer(port: port, handler: handler)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve(listener) }
            defer { group.cancelAll() }
            return try await body(server)
        }
    }

    /// Polls `condition` until it holds or `limit` passes; for what the server sees after the client
    /// has moved on (a closed connection). The limit only catches hangs.
    public func eventually(within limit: Duration = .seconds(30), _ condition: (FakeLLMServer) -> Bool) async -> Bool {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }

    private func serve(
        _ listener: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    ) async throws {
        try await listener.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    state.withLock { $0.connectionsOpened += 1 }
                    connection.channel.closeFuture.whenComplete { _ in
                        self.state.withLock { $0.connectionsClosed += 1 }
                    }
                    group.addTask { await self.handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let closed = connection.channel.closeFuture
        // A write to a connection the client has closed fails; that ends this connection, nothing more.
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case let .head(requestHead):
                    head = requestHead
                    body = []
                case var .body(buffer):
                    body += buffer.readBytes(length: buffer.readableBytes) ?? []
                case .end:
                    guard let requestHead = head else { continue }
                    let request = Request(method: requestHead.method, uri: requestHead.uri, headers: requestHead.headers, body: body)
                    state.withLock { $0.requests.append(request) }
                    let handler = self.handler
                    // Unstructured so that a closed connection can cancel it while this loop waits.
                    let answering = Task { await handler(request) }
                    closed.whenComplete { _ in answering.cancel() }
                    let response = await withTaskCancellationHandler {
                        await answering.value
                    } onCancel: {
                        answering.cancel()
                    }
                    try Task.checkCancellation()
                    try await write(response, keepAlive: requestHead.isKeepAlive, to: outbound)
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    private func write(
        _ response: Response, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.utf8.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        try await outbound.write(
            .head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)))
        if let delay = response.bodyDelay { try await Task.sleep(for: delay) }
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
        try await outbound.write(.end(nil))
    }
}
