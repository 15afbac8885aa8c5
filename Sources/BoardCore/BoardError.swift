/// An error a client can act on: a stable machine-readable `reason` and a sentence for people.
///
/// Every layer throws these for expected failures so that the control socket can answer with a
/// stable JSON-RPC error code instead of a stack trace.
public struct BoardError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable, CaseIterable {
        case notFound = "not_found"
        case invalidState = "invalid_state"
        case tooLarge = "too_large"
        case conflict
        case storage
        case unavailable
        case invalidConfig = "invalid_config"
        /// Input the domain cannot hold (e.g. text with NUL characters).
        case invalidArgument = "invalid_argument"
        case internalError = "internal"
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    public static func notFound(_ what: String, _ id: String) -> BoardError {
        BoardError(.notFound, "no \(what) with id \(id)")
    }
}
