import BoardCore
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

/// One decoded request line.
public struct RPCRequest: Sendable, Equatable {
    /// `nil` for a notification, which gets no reply.
    public var id: JSONValue?
    public var method: String
    public var params: JSONValue?

    public init(id: JSONValue?, method: String, params: JSONValue?) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// Encoding and decoding of JSON-RPC 2.0 lines. Shared by boardd and boardctl, so the wire
/// format exists once.
public enum Wire {
    public static let version = "2.0"

    /// A request that failed to decode, with the id to answer to when it could be read.
    public struct DecodeFailure: Error, Sendable, Equatable {
        public var id: JSONValue?
        public var error: RPCError
    }

    /// Decodes one line (without its newline).
    public static func decodeRequest(_ line: Data) -> Result<RPCRequest, DecodeFailure> {
        let value: JSONValue
        do {
            value = try line.withUnsafeBytes { (bytes) throws(JSONParseError) in try JSONValue.parse(bytes) }
        } catch {
            return .failure(DecodeFailure(id: .null, error: .parseError("the line is not valid JSON: \(error)")))
        }
        guard case let .object(fields) = value else {
            if case .array = value {
                return .failure(DecodeFailure(id: .null, error: .invalidRequest("batch requests are not supported; send one object per line")))
            }
            return .failure(DecodeFailure(id: .null, error: .invalidRequest("a request must be a JSON object")))
        }
        var id: JSONValue? = nil
        if let raw = fields["id"] {
            switch raw {
            case .string, .int, .null: id = raw
            case let .double(number) where number == number.rounded() && abs(number) < 9e15: id = .int(Int64(number))
            default:
                return .failure(DecodeFailure(id: .null, error: .invalidRequest("id must be a string, an integer or null")))
            }
        }
        guard fields["jsonrpc"] == .string(version) else {
            return .failure(DecodeFailure(id: id ?? .null, error: .invalidRequest("jsonrpc must be \"2.0\"")))
        }
        guard case let .string(method)? = fields["method"] else {
            return .failure(DecodeFailure(id: id ?? .null, error: .invalidRequest("method must be a string")))
        }
        for key in fields.keys where !["jsonrpc", "id", "method", "params"].contains(key) {
            return .failure(DecodeFailure(id: id ?? .null, error: .invalidRequest("unknown member \"\(key)\"")))
        }
        var params = fields["params"]
        switch params {
        case nil, .object?, .array?: break
        case .null?: params = nil
        default: return .failure(DecodeFailure(id: id ?? .null, error: .invalidRequest("params must be an object")))
        }
        return .success(RPCRequest(id: id, method: method, params: params))
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}` and a newline.
    public static func successLine(id: JSONValue, result: some Encodable) throws -> Data {
        var line = "{\"jsonrpc\":\"2.0\",\"id\":"
        id.write(to: &line)
        line += ",\"result\":"
        try JSONTextEncoder().encode(result, appendingTo: &line)
        line += "}\n"
        return Data(line.utf8)
    }

    /// `{"jsonrpc":"2.0","id":…,"error":{…}}` and a newline.
    public static func errorLine(id: JSONValue, error: RPCError) -> Data {
        var text = "{\"jsonrpc\":\"2.0\",\"id\":\(id.serialized),\"error\":{\"code\":\(error.code),\"message\":"
        JSONValue.writeQuoted(error.message, to: &text)
        text += ",\"data\":{\"reason\":"
        JSONValue.writeQuoted(error.reason, to: &text)
        text += "}}}\n"
        return Data(text.utf8)
    }

    /// A request line, as a client sends it.
    public static func requestLine(id: Int, method: Method, params: JSONValue?) -> Data {
        var text = "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":"
        JSONValue.writeQuoted(method.rawValue, to: &text)
        if let params {
            text += ",\"params\":"
            params.write(to: &text)
        }
        text += "}\n"
        return Data(text.utf8)
    }

    /// Why a reply line is not a JSON-RPC reply (a parse error says so itself).
    public struct MalformedReply: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A decoded reply: the result, or the error.
    public struct Response: Sendable {
        public var id: JSONValue
        public var outcome: Result<JSONValue, RPCError>
    }

    /// Decodes one reply line (without its newline), as strictly as the daemon reads requests.
    /// The client's own decoders, not Foundation's: `boardctl` is a fresh process per command,
    /// and `JSONDecoder`'s first use (its generic metadata and conformance lookups) was a tenth
    /// of a `boardctl ping`.
    public static func decodeResponse(_ line: Data) throws -> Response {
        let value = try line.withUnsafeBytes { (bytes) throws(JSONParseError) in try JSONValue.parse(bytes) }
        guard case let .object(fields) = value, fields["jsonrpc"] == .string(version) else {
            throw MalformedReply(description: "not a JSON-RPC 2.0 object")
        }
        let id = fields["id"] ?? .null
        if let error = fields["error"], error != .null {
            return Response(id: id, outcome: .failure(try JSONValueDecoder().decode(RPCError.self, from: error)))
        }
        guard let result = fields["result"] else {
            throw MalformedReply(description: "neither result nor error")
        }
        return Response(id: id, outcome: .success(result))
    }
}
