import BoardCore

/// Reads named params with precise `invalid params` errors, and refuses keys it did not read so
/// that a typo (`"agnets"`) is an error rather than silently ignored.
public struct ParamReader {
    private let fields: [String: JSONValue]
    private var seen: Set<String> = []

    public init(_ params: JSONValue?) throws(RPCError) {
        switch params {
        case nil, .null?: fields = [:]
        case let .object(value)?: fields = value
        default: throw RPCError.invalidParams("params must be an object of named members")
        }
    }

    public mutating func string(_ key: String, maxBytes: Int = 1 << 20, allowEmpty: Bool = false) throws(RPCError) -> String? {
        seen.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        guard case let .string(text) = value else { throw RPCError.invalidParams("\(key) must be a string") }
        if !allowEmpty, text.allSatisfy(\.isWhitespace) { throw RPCError.invalidParams("\(key) must not be empty") }
        if text.utf8.count > maxBytes { throw RPCError.tooLarge("\(key) is longer than \(maxBytes) bytes") }
        if text.utf8.contains(0) { throw RPCError.invalidParams("\(key) must not contain NUL characters") }
        return text
    }

    public mutating func requiredString(_ key: String, maxBytes: Int = 1 << 20) throws(RPCError) -> String {
        guard let text = try string(key, maxBytes: maxBytes) else { throw RPCError.invalidParams("\(key) is required") }
        return text
    }

    /// The member as it came, for nested structures; marks it as read.
    public mutating func raw(_ key: String) -> JSONValue? {
        seen.insert(key)
        return fields[key]
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(RPCError) -> Int? {
        seen.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        let number: Int
        switch value {
        case let .int(raw) where raw >= Int64(range.lowerBound) && raw <= Int64(range.upperBound): number = Int(raw)
        case let .double(raw) where raw == raw.rounded() && raw >= Double(range.lowerBound) && raw <= Double(range.upperBound):
            number = Int(raw)
        case .int, .double:
            throw RPCError.invalidParams("\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        default:
            throw RPCError.invalidParams("\(key) must be an integer")
        }
        return number
    }

    public mutating func stringArray(_ key: String, maxCount: Int) throws(RPCError) -> [String]? {
        seen.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        guard case let .array(items) = value else { throw RPCError.invalidParams("\(key) must be an array of strings") }
        if items.count > maxCount { throw RPCError.invalidParams("\(key) has more than \(maxCount) entries") }
        var result: [String] = []
        for item in items {
            guard case let .string(text) = item, !text.isEmpty, text.utf8.count <= 256 else {
                throw RPCError.invalidParams("\(key) must be an array of non-empty strings")
            }
            result.append(text)
        }
        return result
    }

    public mutating func id<ID: PrefixedID>(_ key: String, as type: ID.Type) throws(RPCError) -> ID? {
        guard let text = try string(key, maxBytes: 256) else { return nil }
        guard let id = ID(text) else { throw RPCError.invalidParams("\(key) is not a \(ID.prefix) id: \(text.prefix(80))") }
        return id
    }

    public mutating func requiredID<ID: PrefixedID>(_ key: String, as type: ID.Type) throws(RPCError) -> ID {
        guard let id = try id(key, as: type) else { throw RPCError.invalidParams("\(key) is required") }
        return id
    }

    /// Fails on any member that was not read.
    public func finish() throws(RPCError) {
        let unknown = Set(fields.keys).subtracting(seen)
        if let first = unknown.sorted().first {
            let accepted = seen.isEmpty ? "this method takes no params" : "accepted: " + seen.sorted().joined(separator: ", ")
            throw RPCError.invalidParams("unknown member \"\(first.prefix(80))\"; \(accepted)")
        }
    }
}
