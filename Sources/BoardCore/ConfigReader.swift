/// Reads a JSON configuration object with errors that name the offending key
/// (`scheduler.concurrency must be an integer from 1 to 1024`), and refuses unknown keys so a
/// misspelt setting is caught at start rather than silently ignored.
public struct ConfigReader {
    public let path: String
    private let fields: [String: JSONValue]
    private var seen: Set<String> = []

    public init(_ value: JSONValue, path: String = "") throws(BoardError) {
        guard case let .object(fields) = value else {
            throw BoardError(.invalidConfig, "\(path.isEmpty ? "the configuration" : path) must be an object")
        }
        self.path = path
        self.fields = fields
    }

    public var keys: [String] { fields.keys.sorted() }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private func fail(_ key: String, _ message: String) -> BoardError {
        BoardError(.invalidConfig, "\(keyPath(key)) \(message)")
    }

    public mutating func raw(_ key: String) -> JSONValue? {
        seen.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(BoardError) -> Int? {
        guard let value = raw(key) else { return nil }
        switch value {
        case let .int(number) where number >= Int64(range.lowerBound) && number <= Int64(range.upperBound):
            return Int(number)
        default:
            throw fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    public mutating func double(_ key: String, in range: ClosedRange<Double>) throws(BoardError) -> Double? {
        guard let value = raw(key) else { return nil }
        let number: Double
        switch value {
        case let .int(raw): number = Double(raw)
        case let .double(raw): number = raw
        default: throw fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        guard range.contains(number) else { throw fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound)") }
        return number
    }

    public mutating func bool(_ key: String) throws(BoardError) -> Bool? {
        guard let value = raw(key) else { return nil }
        guard case let .bool(flag) = value else { throw fail(key, "must be true or false") }
        return flag
    }

    public mutating func string(_ key: String) throws(BoardError) -> String? {
        guard let value = raw(key) else { return nil }
        guard case let .string(text) = value, !text.isEmpty else { throw fail(key, "must be a non-empty string") }
        return text
    }

    public mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(BoardError) -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw fail(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")) (got \(text))")
        }
        return value
    }

    public mutating func stringArray(_ key: String) throws(BoardError) -> [String]? {
        guard let value = raw(key) else { return nil }
        guard case let .array(items) = value else { throw fail(key, "must be an array of strings") }
        var result: [String] = []
        for item in items {
            guard case let .string(text) = item, !text.isEmpty else { throw fail(key, "must be an array of non-empty strings") }
            result.append(text)
        }
        return result
    }

    public mutating func stringMap(_ key: String) throws(BoardError) -> [String: String]? {
        guard let value = raw(key) else { return nil }
        guard case let .object(items) = value else { throw fail(key, "must be an object of strings") }
        var result: [String: String] = [:]
        for (name, item) in items {
            guard case let .string(text) = item else { throw fail(key + "." + name, "must be a string") }
            result[name] = text
        }
        return result
    }

    public mutating func object(_ key: String) throws(BoardError) -> ConfigReader? {
        guard let value = raw(key) else { return nil }
        return try ConfigReader(value, path: keyPath(key))
    }

    /// Fails on keys nobody read.
    public func finish() throws(BoardError) {
        if let unknown = Set(fields.keys).subtracting(seen).sorted().first {
            throw BoardError(.invalidConfig, "\(keyPath(unknown)) is not a known setting")
        }
    }
}
