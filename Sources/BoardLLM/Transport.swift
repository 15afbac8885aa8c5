import AsyncHTTPClient
import BoardCore
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The server being asked, as error messages name it.
struct Endpoint: Sendable {
    /// "Ollama", "OpenAI-compatible server".
    var server: String
    /// As configured, without a trailing slash.
    var baseURL: String
    /// Removed from every message, in case a server echoes it back (some quote a rejected key).
    var secret: String?

    init(server: String, baseURL: String, secret: String? = nil) {
        self.server = server
        var base = baseURL.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        // A short "key" would garble messages when redacted, and is no secret worth the trouble.
        self.secret = secret.flatMap { $0.count >= 8 ? $0 : nil }
    }

    func url(_ path: String) -> String { baseURL + path }

    /// The base URL without user information (`http://user:password@host` → `http://host`).
    var displayURL: String {
        guard let schemeEnd = baseURL.firstRange(of: "://") else { return baseURL }
        let authorityEnd = baseURL[schemeEnd.upperBound...].firstIndex(of: "/") ?? baseURL.endIndex
        guard let at = baseURL[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") else { return baseURL }
        return String(baseURL[..<schemeEnd.upperBound]) + String(baseURL[baseURL.index(after: at)...])
    }

    func error(_ kind: LLMError.Kind, model: String, _ detail: String, retryAfter: Duration? = nil) -> LLMError {
        var message = "\(server) \(displayURL), model \(model): \(detail)"
        if let secret { message = message.replacing(secret, with: "<redacted>") }
        return LLMError(kind, message, retryAfter: retryAfter)
    }
}

/// A complete HTTP answer: the body has been read.
struct HTTPAnswer: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]
    var latency: Duration

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// JSON bodies of answers.
enum ResponseBody {
    static func json(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func json(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// A token count from a JSON number, when it is a sensible one.
    static func count(_ value: JSONValue?) -> Int? {
        switch value {
        case let .int(number)?: Int(exactly: number).flatMap { $0 >= 0 ? $0 : nil }
        case let .double(number)?: number >= 0 && number < 1e15 ? Int(number) : nil
        default: nil
        }
    }
}

/// One JSON POST with a deadline for the whole exchange, every failure mapped to an `LLMError`.
enum Transport {
    /// Answers larger than this are refused; a chat completion is not a file transfer.
    static let maxResponseBytes = 8 << 20

    /// POSTs `body` and returns the answer whatever its status; throws `LLMError` when no answer
    /// came, `CancellationError` when the calling task was cancelled.
    static func post(
        _ client: HTTPClient, to endpoint: Endpoint, path: String, model: String, headers: [(String, String)],
        body: JSONValue, timeout: Duration
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "board")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body.serialized))
        let sendable = request
        let start = ContinuousClock.now
        // async-http-client's deadline covers connecting and waiting for the response head, and
        // when it expires while still connecting it reports the last connection error (refused,
        // DNS), which says more than "timed out". It stops at the head, though, so reading the body
        // is bounded by a second limit a little later, which also catches a server that stalls
        // mid-body.
        let deadline = NIODeadline.now() + timeAmount(timeout)
        do {
            return try await within(timeout + .milliseconds(250)) {
                let response = try await client.execute(sendable, deadline: deadline)
                let buffer = try await response.body.collect(upTo: maxResponseBytes)
                return HTTPAnswer(
                    status: response.status, headers: response.headers, body: Array(buffer.readableBytesView),
                    latency: ContinuousClock.now - start)
            }
        } catch {
            // Cancellation of the caller is not a server failure: the scheduler decides what it means.
            if Task.isCancelled { throw CancellationError() }
            let (kind, detail) = describe(error, timeout: timeout)
            throw endpoint.error(kind, model: model, detail)
        }
    }

    /// Throws the `LLMError` for a non-2xx answer: its status, the server's explanation, and
    /// `Retry-After` when the status is transient.
    static func requireSuccess(_ answer: HTTPAnswer, from endpoint: Endpoint, model: String) throws {
        let code = Int(answer.status.code)
        guard !(200..<300).contains(code) else { return }
        let kind = HTTPClassification.kind(ofStatus: code)
        var detail = "HTTP \(code)"
        if !answer.status.reasonPhrase.isEmpty { detail += " \(answer.status.reasonPhrase)" }
        if let text = HTTPClassification.serverErrorText(answer.text) { detail += ": \(text)" }
        var retryAfter: Duration?
        if kind == .transient, let header = answer.headers.first(name: "Retry-After") {
            retryAfter = HTTPClassification.retryAfter(header, now: Date().timeIntervalSince1970)
        }
        throw endpoint.error(kind, model: model, detail, retryAfter: retryAfter)
    }

    /// What went wrong when no answer came, for people: short, and transient unless the
    /// configuration itself is wrong.
    static func describe(_ error: any Error, timeout: Duration) -> (LLMError.Kind, String) {
        switch error {
        case is TimeLimitReached:
            return (.transient, "no complete answer within \(format(timeout))")
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return (.transient, "no answer within \(format(timeout))")
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout,
                 .httpProxyHandshakeTimeout:
                return (.transient, "could not connect in time (\(error.shortDescription.lowercased()))")
            case _ where unusableURL.contains(error.shortDescription):
                return (.permanent, "the base URL is not usable (\(error.shortDescription.lowercased()))")
            case .remoteConnectionClosed:
                return (.transient, "the server closed the connection before answering")
            default:
                return (.transient, "HTTP failure: \(error.shortDescription)")
            }
        case let error as NIOConnectionError:
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return (.transient, "cannot resolve \(error.host): \(networkText(dns))")
            }
            let reasons = error.connectionErrors.map { networkText($0.error) }
            let reason = reasons.first ?? "no address to connect to"
            return (.transient, "cannot connect to \(error.host):\(error.port): \(reason)")
        case is NIOTooManyBytesError:
            return (.permanent, "the answer is larger than \(maxResponseBytes >> 20) MiB")
        default:
            return (.transient, "network error: \(networkText(error))")
        }
    }

    /// The errors of a base URL that cannot work, by their short descriptions, which carry no
    /// associated values (`unsupportedScheme` has one, so equality would not match it).
    static let unusableURL: Set<String> = Set(
        [HTTPClientError.invalidURL, .emptyHost, .emptyScheme, .unsupportedScheme(""), .missingSocketPath].map(\.shortDescription))

    /// `Connection refused` rather than `connection reset (error set): Connection refused (errno: 111)`.
    static func networkText(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return String(describing: error)
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds > 0 ? .nanoseconds(.max) : .zero }
        return .nanoseconds(nanoseconds.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }

    /// Runs `operation` and cancels it (which aborts its HTTP request) if it outlasts `limit`.
    static func within<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask(operation: operation)
            group.addTask {
                try await Task.sleep(for: limit)
                throw TimeLimitReached()
            }
            defer { group.cancelAll() }
            // Both tasks end by returning or throwing, so a first result always comes.
            guard let first = try await group.next() else { throw TimeLimitReached() }
            return first
        }
    }

    struct TimeLimitReached: Error {}
}
