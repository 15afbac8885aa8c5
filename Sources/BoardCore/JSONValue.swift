/// Any JSON value. Used where the shape is open: request ids and params, event payloads,
/// the output of `command` agents.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            // One canonical form per number: an integral value Int64 can hold is `.int`. Foundation
            // accepts some fractional texts as Int64 and not others, and JSON cannot mark a number
            // as a double, so without this `1111111111111111111.11` came back from its own
            // serialization as a different integer (fuzz/findings, entry 3).
            if let exact = Int64(exactly: value) {
                self = .int(exact)
            } else {
                self = .double(value)
            }
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case let .object(fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case let .object(value) = self { return value }
        return nil
    }

    /// Compact JSON text, keys sorted so that the same value always serializes the same way.
    public var serialized: String {
        var output = ""
        write(to: &output)
        return output
    }

    public func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case let .bool(value): output += value ? "true" : "false"
        case let .int(value): output += String(value)
        case let .double(value):
            // JSON has no NaN or infinity; null is the conventional stand-in.
            if value.isFinite {
                if let exact = Int64(exactly: value) {
                    output += String(exact)
                } else {
                    output += String(value)
                }
            } else {
                output += "null"
            }
        case let .string(value): JSONValue.writeQuoted(value, to: &output)
        case let .array(values):
            output += "["
            for (index, element) in values.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case let .object(fields):
            output += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                JSONValue.writeQuoted(key, to: &output)
                output += ":"
                fields[key, default: .null].write(to: &output)
            }
            output += "}"
        }
    }

    /// Writes a JSON string literal. Escapes only what JSON requires (and DEL-free control bytes),
    /// leaving other Unicode as UTF-8 so goals in any language stay readable in the database.
    public static func writeQuoted(_ text: String, to output: inout String) {
        output += "\""
        // Runs between escapes are appended whole: the bytes that need one are all ASCII, so every
        // cut falls on a Unicode scalar boundary, which is all String slicing asks (not a Character
        // one: "\r\n" is one Character and is cut in two here). Appending scalar by scalar made
        // this the largest cost of encoding a plan with its results.
        let utf8 = text.utf8
        let escapes = utf8.withContiguousStorageIfAvailable { bytes in
            bytes.indices.filter { bytes[$0] < 0x20 || bytes[$0] == 0x22 || bytes[$0] == 0x5C }
        } ?? utf8.indices.compactMap { index -> Int? in
            let byte = utf8[index]
            return byte < 0x20 || byte == 0x22 || byte == 0x5C ? utf8.distance(from: utf8.startIndex, to: index) : nil
        }
        var runStart = utf8.startIndex
        for offset in escapes {
            let index = utf8.index(utf8.startIndex, offsetBy: offset)
            output += text[runStart..<index]
            switch utf8[index] {
            case 0x22: output += "\\\""
            case 0x5C: output += "\\\\"
            case 0x0A: output += "\\n"
            case 0x0D: output += "\\r"
            case 0x09: output += "\\t"
            case let byte:
                let hex = String(byte, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            runStart = utf8.index(after: index)
        }
        output += text[runStart..<utf8.endIndex]
        output += "\""
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}
