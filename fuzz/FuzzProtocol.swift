// libFuzzer target for the control protocol's untrusted-input surface: request lines as the daemon
// decodes them (Wire.decodeRequest, then every method's params reader, then the reply encoders),
// and plan files as boardctl parses them (PlanFileYAML → PlanCreateParams → request line).
//
// Besides crashes, hangs and memory errors, it traps on broken invariants (see `expect`):
// round trips that must give back what went in, and replies that must stay one line.
//
// Built by fuzz/build.sh against BoardCore and BoardProtocol compiled from Sources/ (not copied).

import BoardCore
import BoardProtocol

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let input = Data(bytes)
    checkedErrors.removeAll(keepingCapacity: true)

    // (1) The whole input as one request line.
    handleLine(input)
    // The same bytes as the daemon's LineFrameDecoder would cut them: at "\n", minus a trailing "\r".
    if bytes.contains(UInt8(ascii: "\n")) {
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            handleLine(Data(line))
        }
    }
    // (2) The input as a plan file.
    planFile(String(decoding: bytes, as: UTF8.self))
    // (3) Any JSON value must survive our serializer and Foundation's encoder.
    jsonRoundTrip(input)
    return 0
}

// MARK: - Invariants

/// A broken invariant is a finding: trap so libFuzzer saves the input.
@inline(never)
func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("FUZZ INVARIANT BROKEN: \(message())\n", stderr)
        fatalError("fuzz invariant broken")
    }
}

/// One JSON-RPC line on the wire: exactly one newline, at its end.
func expectOneLine(_ line: Data, _ what: String) {
    expect(line.last == UInt8(ascii: "\n"), "\(what) does not end with a newline")
    expect(line.dropLast().firstIndex(of: UInt8(ascii: "\n")) == nil, "\(what) holds a raw newline: \(String(decoding: line, as: UTF8.self))")
}

func isValidID(_ id: JSONValue?) -> Bool {
    switch id {
    case nil, .null?, .string?, .int?: true
    default: false
    }
}

// MARK: - (1) Request lines

/// What RequestHandler.handle does with a line, minus the store: decode, look the method up, read
/// the params of every method (not only the named one), and encode the replies.
func handleLine(_ line: Data) {
    let request: RPCRequest
    switch Wire.decodeRequest(line) {
    case let .failure(failure):
        expect(isValidID(failure.id), "decode failure with id \(String(describing: failure.id))")
        errorReply(id: failure.id ?? .null, error: failure.error)
        return
    case let .success(decoded):
        request = decoded
    }
    expect(isValidID(request.id), "decoded id \(String(describing: request.id))")
    switch request.params {
    case nil, .object?, .array?: break
    default: expect(false, "decoded params \(String(describing: request.params))")
    }
    let id = request.id ?? .null

    let method = Method(rawValue: request.method)
    if method == nil {
        errorReply(id: id, error: .methodNotFound(String(request.method.prefix(100))))
    }

    // The no-params methods (ping, daemon.status, agents.list, config.reload).
    do {
        try ParamReader(request.params).finish()
        successReply(id: id, result: ["pong": true, "version": "0.1.0"])
    } catch {
        errorReply(id: id, error: error)
    }

    do {
        let params = try PlanCreateParams(params: request.params)
        expect((try? PlanCreateParams(params: params.json)) == params, "PlanCreateParams.json does not read back: \(params)")
        successReply(id: id, result: params.json)
        requestRoundTrip(method: .planCreate, params: params.json) { json in try PlanCreateParams(params: json) == params }
    } catch {
        errorReply(id: id, error: error)
    }

    do {
        let params = try PlanListParams(params: request.params)
        expect((1...1000).contains(params.limit), "plan.list limit \(params.limit)")
        expect((try? PlanListParams(params: params.json)) == params, "PlanListParams.json does not read back: \(params)")
        successReply(id: id, result: params.json)
        requestRoundTrip(method: .planList, params: params.json) { json in try PlanListParams(params: json) == params }
    } catch {
        errorReply(id: id, error: error)
    }

    do {
        let params = try PlanIDParams(params: request.params)
        expect(PlanID.isValid(params.planID.rawValue), "invalid plan id accepted: \(params.planID.rawValue)")
        expect((try? PlanIDParams(params: params.json)) == params, "PlanIDParams.json does not read back")
        successReply(id: id, result: params.json)
        requestRoundTrip(method: .planGet, params: params.json) { json in try PlanIDParams(params: json) == params }
    } catch {
        errorReply(id: id, error: error)
    }

    do {
        let params = try TaskIDParams(params: request.params)
        expect(TaskID.isValid(params.taskID.rawValue), "invalid task id accepted: \(params.taskID.rawValue)")
        expect((try? TaskIDParams(params: params.json)) == params, "TaskIDParams.json does not read back")
        successReply(id: id, result: params.json)
        requestRoundTrip(method: .taskGet, params: params.json) { json in try TaskIDParams(params: json) == params }
    } catch {
        errorReply(id: id, error: error)
    }

    do {
        let params = try EventsListParams(params: request.params)
        expect((1...10_000).contains(params.limit), "events.list limit \(params.limit)")
        expect((try? EventsListParams(params: params.json)) == params, "EventsListParams.json does not read back")
        successReply(id: id, result: params.json)
        requestRoundTrip(method: .eventsList, params: params.json) { json in try EventsListParams(params: json) == params }
    } catch {
        errorReply(id: id, error: error)
    }

    // A request a client could have sent (integer id, known method) must encode back to itself.
    if let method, case let .int(number)? = request.id, let number = Int(exactly: number) {
        let again = Wire.requestLine(id: number, method: method, params: request.params)
        expectOneLine(again, "requestLine")
        switch Wire.decodeRequest(again.dropLast()) {
        case let .success(decoded):
            expect(decoded == request, "request did not round-trip: \(request) became \(decoded)")
        case let .failure(failure):
            expect(false, "requestLine of a decoded request does not decode: \(failure.error.message)")
        }
    }
}

/// Replies already checked for the current input: the six params readers mostly refuse a bad
/// request with the same error, and decoding each reply again is most of the cost of an input.
nonisolated(unsafe) var checkedErrors: Set<String> = []

let decoder = JSONDecoder()
let foundationEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

/// An error reply is one line that decodes to the same id and error.
func errorReply(id: JSONValue, error: RPCError) {
    guard checkedErrors.insert("\(id.serialized) \(error.code) \(error.reason) \(error.message)").inserted else { return }
    let line = Wire.errorLine(id: id, error: error)
    expectOneLine(line, "errorLine")
    do {
        let response = try Wire.decodeResponse(line.dropLast())
        expect(response.id == id, "errorLine id \(id) came back as \(response.id)")
        switch response.outcome {
        case let .failure(decoded): expect(decoded == error, "errorLine error \(error) came back as \(decoded)")
        case .success: expect(false, "errorLine decoded as a success")
        }
    } catch {
        expect(false, "errorLine does not decode: \(error): \(String(decoding: line, as: UTF8.self))")
    }
}

/// A success reply is one line whose result decodes to the same JSON.
func successReply(id: JSONValue, result: JSONValue) {
    let line: Data
    do {
        line = try Wire.successLine(id: id, result: result)
    } catch {
        expect(false, "successLine failed to encode \(result): \(error)")
        return
    }
    expectOneLine(line, "successLine")
    do {
        let response = try Wire.decodeResponse(line.dropLast())
        expect(response.id == id, "successLine id \(id) came back as \(response.id)")
        switch response.outcome {
        case let .success(decoded):
            expect(decoded == result, "successLine result \(result.serialized) came back as \(decoded.serialized)")
        case let .failure(error): expect(false, "successLine decoded as an error: \(error)")
        }
    } catch {
        expect(false, "successLine does not decode: \(error): \(String(decoding: line, as: UTF8.self))")
    }
}

/// What a client sends for accepted params is read back the same by the daemon.
func requestRoundTrip(method: Method, params: JSONValue, _ same: (JSONValue?) throws -> Bool) {
    let line = Wire.requestLine(id: 7, method: method, params: params)
    expectOneLine(line, "requestLine")
    switch Wire.decodeRequest(line.dropLast()) {
    case let .success(request):
        expect(request.method == method.rawValue && request.id == .int(7), "requestLine envelope changed: \(request)")
        expect((try? same(request.params)) == true, "\(method.rawValue) params changed on the wire: \(params.serialized)")
    case let .failure(failure):
        expect(false, "requestLine for \(method.rawValue) does not decode: \(failure.error.message)")
    }
}

// MARK: - (2) Plan files

func planFile(_ text: String) {
    let value: JSONValue
    do {
        value = try PlanFileYAML.parse(text)
    } catch {
        expect(error.line >= 1, "YAML error on line \(error.line)")
        return
    }
    // What boardctl would send as-is must be what the daemon decodes (within JSONDecoder's nesting limit).
    if depth(of: value) < 400 {
        let decoded = try? decoder.decode(JSONValue.self, from: Data(value.serialized.utf8))
        expect(decoded == value, "YAML value does not survive JSON: \(value.serialized)")
    }
    do {
        let params = try PlanCreateParams(params: value)
        requestRoundTrip(method: .planCreate, params: params.json) { json in try PlanCreateParams(params: json) == params }
    } catch {
        errorReply(id: .int(1), error: error)
    }
}

func depth(of value: JSONValue) -> Int {
    switch value {
    case let .array(items): 1 + (items.map(depth(of:)).max() ?? 0)
    case let .object(fields): 1 + (fields.values.map(depth(of:)).max() ?? 0)
    default: 0
    }
}

// MARK: - (3) JSON values

/// Where our parser may refuse what Foundation accepts: its documented strictness, and
/// Foundation's leniencies found so far: a trailing comma (`[1,]`, `{"a":1,}`); the content of
/// strings and numbers in the value of a repeated key, which it scans for structure but never
/// decodes (invalid UTF-8, raw control characters, bad escapes, malformed numbers, a number's
/// text running on as in `0-0`); and text in UTF-16 or UTF-32
/// (NUL bytes, byte order marks), which it detects and converts. The daemon speaks UTF-8 only
/// (RFC 8259, section 8.1). Structural errors must agree.
func isDocumentedStrictness(_ error: JSONParseError, in input: Data) -> Bool {
    let strict = [
        "duplicate member name", "nested deeper", "surrogate", "out of range", "invalid UTF-8", "control character",
        "invalid escape", "four hex digits", "leading zero", "needs digits",
    ]
    if strict.contains(where: { error.reason.contains($0) }) {
        return true
    }
    let bytes = [UInt8](input)
    if bytes.contains(0) || bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
        return true
    }
    guard error.offset < bytes.count else { return false }
    let at = bytes[error.offset]
    // A trailing comma: `]` or `}` right after a `,`.
    if at == UInt8(ascii: "]") || at == UInt8(ascii: "}") {
        return bytes[..<error.offset].last { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: ",")
    }
    // A number's text runs on in Foundation's scanner (`0-0`, `9e150.1`) and is only checked when
    // decoded, which a repeated key's value never is; here the number ends at the first byte
    // that cannot continue it.
    return Array("+-.eE0123456789".utf8).contains(at) && error.reason.hasPrefix("expected ',' or")
}

func jsonRoundTrip(_ input: Data) {
    // The daemon's parser against Foundation's JSONDecoder: the same value whenever both accept;
    // refusing what Foundation accepts only for a documented reason.
    let foundation = try? decoder.decode(JSONValue.self, from: input)
    let ours: JSONValue?
    do {
        ours = try input.withUnsafeBytes { (bytes) throws(JSONParseError) in try JSONValue.parse(bytes) }
    } catch let error as JSONParseError {
        ours = nil
        if let foundation {
            expect(isDocumentedStrictness(error, in: input), "parser refused (\(error)) what Foundation reads as \(foundation)")
        }
    } catch {
        ours = nil
        expect(false, "parser threw \(error)")
    }
    if let ours, let foundation {
        expect(ours == foundation, "parser read \(ours) where Foundation reads \(foundation)")
    }
    if let ours {
        // The one-pass encoder and the value decoder (what the store writes and reads back). A
        // parsed value has no NaN or infinity, so nothing here may fail.
        do {
            let text = try JSONTextEncoder().encode(["v": ours])
            expect((try? JSONValue.parse(text)) == ["v": ours], "JSONTextEncoder changed \(ours) into \(text)")
            let back = try JSONValueDecoder().decode([String: JSONValue].self, fromJSON: text)
            expect(back == ["v": ours], "JSONValueDecoder read \(back) from \(text)")
        } catch {
            expect(false, "JSONTextEncoder/JSONValueDecoder failed on \(ours): \(error)")
        }
    }
    guard let value = foundation else { return }
    // Our serializer (what Wire.requestLine and the store write).
    let text = value.serialized
    let again: JSONValue
    do {
        again = try decoder.decode(JSONValue.self, from: Data(text.utf8))
    } catch {
        expect(false, "serialized JSON does not decode: \(error): \(text)")
        return
    }
    expect(again == value, "serialized round trip changed \(value) into \(again) via \(text)")
    expect(again.serialized == text, "serialization is not stable: \(text) then \(again.serialized)")
    // Foundation's encoder agrees on the value too.
    do {
        let encoded = try foundationEncoder.encode(value)
        let back = try decoder.decode(JSONValue.self, from: encoded)
        expect(back == value, "JSONEncoder round trip changed \(value) into \(back)")
    } catch {
        expect(false, "JSONEncoder round trip failed: \(error)")
    }
}
