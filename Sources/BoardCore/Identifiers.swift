/// Readable, prefixed identifiers in the prototype's style (`plan_…`, `task_…`, `evt_…`).
///
/// The part after the prefix is 16 lowercase hex digits (64 bits): random from `random()`,
/// time-ordered from the store's `IDSequence`; short enough to type into `boardctl`.
public protocol PrefixedID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    static var prefix: String { get }
    var rawValue: String { get }
    init(unchecked rawValue: String)
}

extension PrefixedID {
    /// Parses an identifier typed by a user or sent by a client; `nil` when it is not of this kind.
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        self.init(unchecked: text)
    }

    /// A fresh random identifier.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> Self {
        Self(hex: generator.next())
    }

    public static func random() -> Self {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// The identifier whose 16 hex digits are `value` (the store makes time-ordered ones).
    public init(hex value: UInt64) {
        let hex = String(value, radix: 16)
        self.init(unchecked: Self.prefix + "_" + String(repeating: "0", count: 16 - hex.count) + hex)
    }

    /// Accepts the prefix, an underscore and 1–64 characters of `[a-z0-9_-]`, so ids made by a
    /// future version (or imported from the prototype) stay readable while junk is refused early.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        let head = prefix.utf8.count + 1
        guard utf8.count > head, utf8.count <= head + 64, text.hasPrefix(prefix + "_") else { return false }
        return utf8.dropFirst(head).allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard Self.isValid(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "not a valid \(Self.prefix) id: \(text)"))
        }
        self.init(unchecked: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public struct PlanID: PrefixedID {
    public static let prefix = "plan"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

public struct TaskID: PrefixedID {
    public static let prefix = "task"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

public struct EventID: PrefixedID {
    public static let prefix = "evt"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

