import BoardCore

/// A JSON-RPC error object. Codes in the -32000 range are board's and stable; `reason` (sent as
/// `data.reason`) names the condition in words a script can match on.
public struct RPCError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var reason: String

    public init(code: Int, message: String, reason: String) {
        self.code = code
        self.message = message
        self.reason = reason
    }

    public var description: String { message }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    public static func parseError(_ message: String) -> RPCError {
        RPCError(code: parseErrorCode, message: "parse error: \(message)", reason: "parse_error")
    }

    public static func invalidRequest(_ message: String) -> RPCError {
        RPCError(code: invalidRequestCode, message: "invalid request: \(message)", reason: "invalid_request")
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: methodNotFoundCode, message: "method not found: \(method)", reason: "method_not_found")
    }

    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: invalidParamsCode, message: "invalid params: \(message)", reason: "invalid_params")
    }

    public static func tooLarge(_ message: String) -> RPCError {
        RPCError(code: code(for: .tooLarge), message: message, reason: BoardError.Reason.tooLarge.rawValue)
    }

    public static func forbidden(_ message: String) -> RPCError {
        RPCError(code: -32008, message: message, reason: "forbidden")
    }

    /// The stable application code of each domain reason.
    public static func code(for reason: BoardError.Reason) -> Int {
        switch reason {
        case .notFound: -32001
        case .invalidState: -32002
        case .tooLarge: -32003
        case .conflict: -32004
        case .storage: -32005
        case .unavailable: -32006
        case .invalidConfig: -32007
        case .internalError: internalErrorCode
        case .invalidArgument: invalidParamsCode
        }
    }

    public init(_ error: BoardError) {
        if error.reason == .invalidArgument {
            // To a client a domain-level argument error is just invalid params.
            self = .invalidParams(error.message)
            return
        }
        self.init(code: Self.code(for: error.reason), message: error.message, reason: error.reason.rawValue)
    }

    enum CodingKeys: String, CodingKey { case code, message, data }
    enum DataKeys: String, CodingKey { case reason }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(Int.self, forKey: .code)
        message = try container.decode(String.self, forKey: .message)
        let data = try? container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
        reason = (try? data?.decode(String.self, forKey: .reason)) ?? "unknown"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        var data = container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
        try data.encode(reason, forKey: .reason)
    }
}
