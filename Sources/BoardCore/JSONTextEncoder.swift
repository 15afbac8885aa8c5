/// Encodes `Encodable` values as compact JSON text, writing as it goes.
///
/// Made for the daemon's hot paths (every reply, every stored result): Foundation's `JSONEncoder`
/// first builds a tree of boxed values and then serializes it, which made encoding a `plan.get`
/// reply most of that request's CPU. The output means what `JSONEncoder` with
/// `.withoutEscapingSlashes` writes, value for value; members come in the order they are encoded
/// (declaration order for synthesized conformances) where `JSONEncoder` uses a hash order, and
/// some escapes (`\u0008` for `\b`) and numbers (`1e-05`) are spelled differently.
/// String-keyed dictionaries and ``JSONValue`` objects are written with sorted keys, so the same
/// value always gives the same text.
/// Non-finite floating-point numbers are refused, as `JSONEncoder` does by default.
///
/// Writing in one pass has one limit: a container cannot take more members once a container
/// opened after it (its sibling, or its parent's next member) has been written to. No coding in
/// this project does that; an encoding that tries throws instead of writing malformed text.
public struct JSONTextEncoder: Sendable {
    public init() {}

    public func encode(_ value: some Encodable) throws -> String {
        var text = ""
        try encode(value, appendingTo: &text)
        return text
    }

    /// Appends the value's JSON to `text` (e.g. after a reply's envelope) without copying it.
    public func encode(_ value: some Encodable, appendingTo text: inout String) throws {
        let sink = JSONSink()
        let start = text.utf8.count
        swap(&sink.text, &text)
        defer { swap(&sink.text, &text) }
        do {
            try sink.write(value, at: CodingPathHint(parent: nil, key: nil))
            if let misuse = sink.misuse { throw misuse }
        } catch {
            // Leave `text` as it was given, not with half a value after it.
            sink.text = String(sink.text.utf8.prefix(start))!
            throw error
        }
    }
}

/// The growing text, shared by every level of one encoding.
final class JSONSink {
    var text = ""
    /// Set when a value used its containers in an order one pass cannot write.
    var misuse: EncodingError?

    func refuse(_ what: String, codingPath: [any CodingKey]) {
        if misuse == nil {
            misuse = EncodingError.invalidValue(what, EncodingError.Context(
                codingPath: codingPath, debugDescription: "\(what) (JSONTextEncoder writes in one pass)"))
        }
    }

    func write<T: Encodable>(_ value: T, at path: CodingPathHint) throws {
        // The common leaves skip the Encoder machinery entirely. Comparing metatypes is a pointer
        // compare; a dynamic cast per value (`as? String`) cost more than the writing.
        if T.self == String.self {
            JSONValue.writeQuoted(unsafeBitCast(value, to: String.self), to: &text)
        } else if T.self == JSONValue.self {
            try writeJSON(unsafeBitCast(value, to: JSONValue.self), at: path)
        } else if T.self == Int.self {
            text += String(unsafeBitCast(value, to: Int.self))
        } else if T.self == Int64.self {
            text += String(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Bool.self {
            text += unsafeBitCast(value, to: Bool.self) ? "true" : "false"
        } else if T.self == Double.self {
            try writeDouble(unsafeBitCast(value, to: Double.self), at: path)
        } else if let dictionary = value as? any StringKeyedDictionary {
            try dictionary.writeSorted(to: self, at: path)
        } else {
            let level = LevelEncoder(sink: self, at: path)
            try value.encode(to: level)
            level.finish()
        }
    }

    private func writeJSON(_ value: JSONValue, at path: CodingPathHint) throws {
        // JSONValue's own writer turns non-finite numbers into null; a reply must not hide them.
        if let number = value.firstNonFiniteNumber {
            throw nonFinite(number, at: path)
        }
        value.write(to: &text)
    }

    func writeDouble(_ number: Double, at path: CodingPathHint) throws {
        guard number.isFinite else { throw nonFinite(number, at: path) }
        if let exact = Int64(exactly: number) {
            text += String(exact)
        } else {
            text += String(number)
        }
    }

    private func nonFinite(_ number: Double, at path: CodingPathHint) -> EncodingError {
        EncodingError.invalidValue(number, EncodingError.Context(
            codingPath: path.codingPath, debugDescription: "\(number) cannot be written as JSON"))
    }
}

/// String-keyed dictionaries are written with sorted keys, so that the same value always gives
/// the same text (Swift's hashing is seeded per process).
private protocol StringKeyedDictionary {
    func writeSorted(to sink: JSONSink, at path: CodingPathHint) throws
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Encodable {
    fileprivate func writeSorted(to sink: JSONSink, at path: CodingPathHint) throws {
        sink.text += "{"
        for (index, key) in keys.sorted().enumerated() {
            if index > 0 { sink.text += "," }
            JSONValue.writeQuoted(key, to: &sink.text)
            sink.text += ":"
            // An error names the dictionary, not the member: paths are kept per container level.
            try sink.write(self[key]!, at: path)
        }
        sink.text += "}"
    }
}

/// Where a value sits, for error messages only: built per member without allocating, turned
/// into a coding-path array only when something asks.
struct CodingPathHint {
    let parent: LevelEncoder?
    let key: (any CodingKey)?

    var codingPath: [any CodingKey] {
        (parent?.codingPath ?? []) + (key.map { [$0] } ?? [])
    }
}

/// The encoder handed to one value's `encode(to:)`. Whatever container it asks for is opened on
/// first use and closed by `finish()` once `encode(to:)` returns; a container nested in it (or a
/// super-encoder) is closed before its parent writes anything else, which is what keeps writing
/// in one pass correct.
final class LevelEncoder: Encoder {
    enum Shape { case unopened, object, array, single }

    let sink: JSONSink
    let path: CodingPathHint
    var codingPath: [any CodingKey] { path.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private(set) var shape = Shape.unopened
    private var members = 0
    private var openChild: LevelEncoder?
    private var isFinished = false

    init(sink: JSONSink, at path: CodingPathHint) {
        self.sink = sink
        self.path = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        open(.object)
        return KeyedEncodingContainer(KeyedWriter<Key>(level: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        open(.array)
        return UnkeyedWriter(level: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleWriter(level: self)
    }

    private func open(_ wanted: Shape) {
        switch shape {
        case .unopened:
            shape = wanted
            sink.text += wanted == .object ? "{" : "["
        case wanted:
            break
        default:
            sink.refuse("a value asked for a \(wanted) container after writing as \(shape)", codingPath: codingPath)
        }
    }

    /// Closes a nested container left open, so the next member goes after it.
    func closeChild() {
        openChild?.finish()
        openChild = nil
    }

    func finish() {
        closeChild()
        guard !isFinished else { return }
        isFinished = true
        switch shape {
        case .unopened: sink.text += "{}"  // encoded nothing: JSONEncoder writes an empty object too
        case .object: sink.text += "}"
        case .array: sink.text += "]"
        case .single: break
        }
    }

    /// Prepares the position of the next member or element: the comma, and for objects the key.
    func beginMember(_ key: (any CodingKey)?) {
        if isFinished {
            sink.refuse("a container was written to after a container opened later", codingPath: codingPath)
        }
        closeChild()
        if members > 0 { sink.text += "," }
        members += 1
        if let key {
            JSONValue.writeQuoted(key.stringValue, to: &sink.text)
            sink.text += ":"
        }
    }

    func beginSingle() {
        if shape != .unopened || isFinished {
            sink.refuse("a single value encoded twice, or after a container", codingPath: codingPath)
        }
        shape = .single
    }

    func child(at key: any CodingKey) -> LevelEncoder {
        let child = LevelEncoder(sink: sink, at: CodingPathHint(parent: self, key: key))
        openChild = child
        return child
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let level: LevelEncoder
    var codingPath: [any CodingKey] { level.codingPath }

    private func raw(_ text: String, _ key: Key) {
        level.beginMember(key)
        level.sink.text += text
    }

    mutating func encodeNil(forKey key: Key) throws { raw("null", key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { raw(value ? "true" : "false", key) }
    mutating func encode(_ value: String, forKey key: Key) throws {
        level.beginMember(key)
        JSONValue.writeQuoted(value, to: &level.sink.text)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        level.beginMember(key)
        try level.sink.writeDouble(value, at: CodingPathHint(parent: level, key: key))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { raw(String(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        level.beginMember(key)
        try level.sink.write(value, at: CodingPathHint(parent: level, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        level.beginMember(key)
        return level.child(at: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        level.beginMember(key)
        return level.child(at: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        level.beginMember(JSONSuperKey())
        return level.child(at: JSONSuperKey())
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        level.beginMember(key)
        return level.child(at: key)
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let level: LevelEncoder
    private(set) var count = 0
    var codingPath: [any CodingKey] { level.codingPath }

    init(level: LevelEncoder) {
        self.level = level
    }

    private mutating func next() -> any CodingKey {
        level.beginMember(nil)
        defer { count += 1 }
        return JSONIndexKey(count)
    }

    private mutating func raw(_ text: String) {
        _ = next()
        level.sink.text += text
    }

    mutating func encodeNil() throws { raw("null") }
    mutating func encode(_ value: Bool) throws { raw(value ? "true" : "false") }
    mutating func encode(_ value: String) throws {
        _ = next()
        JSONValue.writeQuoted(value, to: &level.sink.text)
    }
    mutating func encode(_ value: Double) throws {
        let key = next()
        try level.sink.writeDouble(value, at: CodingPathHint(parent: level, key: key))
    }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { raw(String(value)) }
    mutating func encode(_ value: Int8) throws { raw(String(value)) }
    mutating func encode(_ value: Int16) throws { raw(String(value)) }
    mutating func encode(_ value: Int32) throws { raw(String(value)) }
    mutating func encode(_ value: Int64) throws { raw(String(value)) }
    mutating func encode(_ value: UInt) throws { raw(String(value)) }
    mutating func encode(_ value: UInt8) throws { raw(String(value)) }
    mutating func encode(_ value: UInt16) throws { raw(String(value)) }
    mutating func encode(_ value: UInt32) throws { raw(String(value)) }
    mutating func encode(_ value: UInt64) throws { raw(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = next()
        try level.sink.write(value, at: CodingPathHint(parent: level, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = next()
        return level.child(at: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = next()
        return level.child(at: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = next()
        return level.child(at: key)
    }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let level: LevelEncoder
    var codingPath: [any CodingKey] { level.codingPath }

    private func raw(_ text: String) {
        level.beginSingle()
        level.sink.text += text
    }

    mutating func encodeNil() throws { raw("null") }
    mutating func encode(_ value: Bool) throws { raw(value ? "true" : "false") }
    mutating func encode(_ value: String) throws {
        level.beginSingle()
        JSONValue.writeQuoted(value, to: &level.sink.text)
    }
    mutating func encode(_ value: Double) throws {
        level.beginSingle()
        try level.sink.writeDouble(value, at: level.path)
    }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { raw(String(value)) }
    mutating func encode(_ value: Int8) throws { raw(String(value)) }
    mutating func encode(_ value: Int16) throws { raw(String(value)) }
    mutating func encode(_ value: Int32) throws { raw(String(value)) }
    mutating func encode(_ value: Int64) throws { raw(String(value)) }
    mutating func encode(_ value: UInt) throws { raw(String(value)) }
    mutating func encode(_ value: UInt8) throws { raw(String(value)) }
    mutating func encode(_ value: UInt16) throws { raw(String(value)) }
    mutating func encode(_ value: UInt32) throws { raw(String(value)) }
    mutating func encode(_ value: UInt64) throws { raw(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        level.beginSingle()
        try level.sink.write(value, at: level.path)
    }
}

extension JSONValue {
    /// The first NaN or infinity inside this value, if any.
    var firstNonFiniteNumber: Double? {
        switch self {
        case let .double(number): return number.isFinite ? nil : number
        case let .array(values):
            for value in values { if let found = value.firstNonFiniteNumber { return found } }
            return nil
        case let .object(fields):
            for value in fields.values { if let found = value.firstNonFiniteNumber { return found } }
            return nil
        case .null, .bool, .int, .string: return nil
        }
    }
}
