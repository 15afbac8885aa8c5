import BoardCore

/// The YAML that plan files need, without a YAML library (boardctl stays small and starts fast):
/// block mappings and sequences by indentation, flow sequences of scalars (`[0, 1]`), plain,
/// single- and double-quoted scalars, literal blocks (`|`), comments, integers, booleans and null.
/// Anything else (anchors, aliases, tags, flow mappings, multi-document files, tabs) is refused
/// with the line it is on, rather than guessed at.
public enum PlanFileYAML {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    private struct Line {
        var number: Int
        var indent: Int
        var text: String
    }

    public static func parse(_ source: String) throws(ParseError) -> JSONValue {
        var lines: [Line] = []
        // Split the bytes, not the Characters: "\r\n" is one Character and would never equal "\n".
        for (index, bytes) in source.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let raw = String(decoding: bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes, as: UTF8.self)
            let line = raw[...]
            if line.contains("\t") { throw ParseError(line: index + 1, message: "tabs are not allowed in indentation or values") }
            let indent = line.prefix { $0 == " " }.count
            let text = String(line.dropFirst(indent))
            if text.hasPrefix("---") && index == 0 { continue }
            if text.isEmpty || text.hasPrefix("#") { lines.append(Line(number: index + 1, indent: indent, text: "")); continue }
            lines.append(Line(number: index + 1, indent: indent, text: text))
        }
        var parser = Parser(lines: lines)
        parser.skipBlank()
        guard parser.position < parser.lines.count else { return .object([:]) }
        let value = try parser.block(indent: parser.lines[parser.position].indent)
        parser.skipBlank()
        if parser.position < parser.lines.count {
            throw ParseError(line: parser.lines[parser.position].number, message: "unexpected indentation")
        }
        return value
    }

    private struct Parser {
        var lines: [Line]
        var position = 0
        /// Plan files nest four levels; a limit keeps a hostile file from exhausting the stack.
        static let maxDepth = 64
        var depth = 0

        mutating func skipBlank() {
            while position < lines.count, lines[position].text.isEmpty { position += 1 }
        }

        var current: Line? {
            position < lines.count ? lines[position] : nil
        }

        mutating func block(indent: Int) throws(ParseError) -> JSONValue {
            guard let line = current else { return .null }
            guard depth < Self.maxDepth else {
                throw ParseError(line: line.number, message: "nested more than \(Self.maxDepth) levels deep")
            }
            depth += 1
            defer { depth -= 1 }
            return isSequenceItem(line.text) ? try sequence(indent: indent) : try mapping(indent: indent)
        }

        func isSequenceItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

        mutating func sequence(indent: Int) throws(ParseError) -> JSONValue {
            var items: [JSONValue] = []
            while let line = current, line.indent == indent, isSequenceItem(line.text) {
                let rest = String(line.text.dropFirst(1)).drop { $0 == " " }
                let itemIndent = indent + (line.text.count - rest.count)
                if rest.isEmpty {
                    position += 1
                    skipBlank()
                    guard let next = current, next.indent > indent else { items.append(.null); continue }
                    items.append(try block(indent: next.indent))
                } else if Self.splitKey(String(rest)) != nil || isSequenceItem(String(rest)) {
                    // "- agent: CTO" starts a mapping (or a nested sequence) one level deeper, on this line.
                    lines[position] = Line(number: line.number, indent: itemIndent, text: String(rest))
                    items.append(try block(indent: itemIndent))
                } else {
                    items.append(try Self.scalar(String(rest), line: line.number))
                    position += 1
                }
                skipBlank()
            }
            return .array(items)
        }

        mutating func mapping(indent: Int) throws(ParseError) -> JSONValue {
            var fields: [String: JSONValue] = [:]
            while let line = current, line.indent == indent, !isSequenceItem(line.text) {
                guard let (key, value) = Self.splitKey(line.text) else {
                    throw ParseError(line: line.number, message: "expected \"key: value\"")
                }
                if fields[key] != nil { throw ParseError(line: line.number, message: "duplicate key \(key)") }
                position += 1
                if value == "|" || value == "|-" {
                    fields[key] = .string(literal(parentIndent: indent, keepFinalNewline: value == "|"))
                } else if value.isEmpty {
                    skipBlank()
                    if let next = current, next.indent > indent {
                        fields[key] = try block(indent: next.indent)
                    } else if let next = current, next.indent == indent, isSequenceItem(next.text) {
                        fields[key] = try sequence(indent: indent)
                    } else {
                        fields[key] = .null
                    }
                } else {
                    fields[key] = try Self.scalar(value, line: line.number)
                }
                skipBlank()
            }
            if let line = current, line.indent > indent {
                throw ParseError(line: line.number, message: "unexpected indentation")
            }
            return .object(fields)
        }

        /// A `|` block: the following lines indented deeper than the key, with that indentation removed.
        mutating func literal(parentIndent: Int, keepFinalNewline: Bool) -> String {
            var collected: [Line] = []
            while let line = current, line.text.isEmpty || line.indent > parentIndent {
                collected.append(line)
                position += 1
            }
            while collected.last?.text.isEmpty == true { collected.removeLast() }
            let base = collected.filter { !$0.text.isEmpty }.map(\.indent).min() ?? 0
            let text = collected.map { $0.text.isEmpty ? "" : String(repeating: " ", count: $0.indent - base) + $0.text }
                .joined(separator: "\n")
            return keepFinalNewline && !text.isEmpty ? text + "\n" : text
        }

        /// `key: value` (the value may be empty); nil when the text is not a mapping entry.
        static func splitKey(_ text: String) -> (String, String)? {
            var quote: Character?
            var index = text.startIndex
            while index < text.endIndex {
                let character = text[index]
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "\"" || character == "'" {
                    if index == text.startIndex { quote = character }
                } else if character == ":" {
                    let after = text.index(after: index)
                    if after == text.endIndex || text[after] == " " {
                        var key = String(text[..<index]).trimmingTrailingSpaces()
                        if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
                            key = String(key.dropFirst().dropLast())
                        }
                        guard !key.isEmpty else { return nil }
                        return (key, stripComment(String(text[after...])).trimmingLeadingAndTrailingSpaces())
                    }
                }
                index = text.index(after: index)
            }
            return nil
        }

        static func stripComment(_ text: String) -> String {
            var quote: Character?
            var previous: Character = " "
            for (offset, character) in text.enumerated() {
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character == "#", previous == " " {
                    return String(text.prefix(offset))
                }
                previous = character
            }
            return text
        }

        static func scalar(_ raw: String, line: Int) throws(ParseError) -> JSONValue {
            let text = stripComment(raw).trimmingLeadingAndTrailingSpaces()
            guard let first = text.first else { return .null }
            switch first {
            case "&", "*", "!", "{", ">", "|", "@", "`":
                throw ParseError(line: line, message: "\"\(first)\" (anchors, aliases, tags, flow mappings, folded blocks) is not supported in plan files")
            case "[":
                guard text.last == "]" else { throw ParseError(line: line, message: "unterminated [ list") }
                let inner = text.dropFirst().dropLast().trimmingLeadingAndTrailingSpaces()
                if inner.isEmpty { return .array([]) }
                var items: [JSONValue] = []
                for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                    items.append(try scalar(String(part), line: line))
                }
                return .array(items)
            case "\"":
                guard text.count >= 2, text.last == "\"" else { throw ParseError(line: line, message: "unterminated double-quoted string") }
                var result = ""
                var escaping = false
                for character in text.dropFirst().dropLast() {
                    if escaping {
                        switch character {
                        case "n": result.append("\n")
                        case "t": result.append("\t")
                        case "\"", "\\", "/": result.append(character)
                        default: throw ParseError(line: line, message: "unsupported escape \\\(character)")
                        }
                        escaping = false
                    } else if character == "\\" {
                        escaping = true
                    } else {
                        result.append(character)
                    }
                }
                return .string(result)
            case "'":
                guard text.count >= 2, text.last == "'" else { throw ParseError(line: line, message: "unterminated single-quoted string") }
                return .string(String(text.dropFirst().dropLast()).replacing("''", with: "'"))
            default:
                switch text {
                case "null", "~", "Null", "NULL": return .null
                case "true", "True", "TRUE": return .bool(true)
                case "false", "False", "FALSE": return .bool(false)
                default: return Int64(text).map(JSONValue.int) ?? .string(text)
                }
            }
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = String(self)
        while text.last == " " { text.removeLast() }
        return text
    }

    fileprivate func trimmingLeadingAndTrailingSpaces() -> String {
        String(drop { $0 == " " }).trimmingTrailingSpaces()
    }
}
