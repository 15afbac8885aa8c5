/// Why a chat request failed, and whether trying again later can help.
///
/// The message names the server (its base URL), the model, and the HTTP status or network error,
/// with the server's own error text when it gave one. It never contains the API key.
public struct LLMError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The network, a timeout, an overloaded or restarting server: worth another attempt.
        case transient
        /// The request itself is wrong for this server (bad key, unknown model, rejected body, or an
        /// answer board cannot read): another attempt would fail the same way.
        case permanent
    }

    public var kind: Kind
    public var message: String
    /// How long the server asked to be left alone (`Retry-After` on a 429 or 503).
    public var retryAfter: Duration?

    public init(_ kind: Kind, _ message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}

/// How board reads HTTP answers from language-model servers; pure, so the rules are testable alone.
enum HTTPClassification {
    /// Statuses that say "not now" rather than "not this": request timeouts, rate limits, server
    /// errors a restart or a moment fixes, and the overload statuses of common proxies (520–524,
    /// 529). 501 and 505 are absent on purpose: the endpoint or protocol is missing, not busy.
    static let transientStatuses: Set<Int> = [408, 425, 429, 500, 502, 503, 504, 507, 520, 521, 522, 523, 524, 529]

    static func kind(ofStatus status: Int) -> LLMError.Kind {
        transientStatuses.contains(status) ? .transient : .permanent
    }

    /// Parses a `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP date, read
    /// relative to `now` (seconds since 1970). A date in the past means "now": zero.
    static func retryAfter(_ value: String, now: Double) -> Duration? {
        let text = value.trimmingWhitespace()
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // More digits than fit mean "a very long time"; a day is as long as anyone should wait here.
            guard let seconds = Int64(text) else { return .seconds(86_400) }
            return .seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        let delta = Double(date) - now
        return delta > 0 ? .milliseconds(Int64((delta * 1000).rounded(.up))) : .zero
    }

    /// Seconds since 1970 of an HTTP date in any of the three forms recipients must accept:
    /// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and
    /// asctime `Sun Nov  6 08:49:37 1994`.
    static func httpDate(_ text: String) -> Int64? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        guard tokens.count >= 5 else { return nil }
        let rest = Array(tokens.dropFirst())  // the weekday says nothing the date does not
        let day: Int, month: Int, year: Int, time: String
        if let asctimeMonth = monthNumber(rest[0]) {
            guard let d = Int(rest[1]), let y = Int(rest[3]) else { return nil }
            (day, month, year, time) = (d, asctimeMonth, y, rest[2])
        } else {
            guard let d = Int(rest[0]), let m = monthNumber(rest[1]), let y = Int(rest[2]) else { return nil }
            // RFC 850 has two-digit years; RFC 9110 reads them as the nearest past century.
            (day, month, year, time) = (d, m, rest[2].count == 2 ? (y >= 70 ? 1900 + y : 2000 + y) : y, rest[3])
        }
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]),
              (0...60).contains(clock[2])
        else { return nil }
        return daysSince1970(year: year, month: month, day: day) * 86_400
            + Int64(clock[0] * 3600 + clock[1] * 60 + clock[2])
    }

    private static func monthNumber(_ name: String) -> Int? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        return months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The server's own explanation in an error body: Ollama's `{"error": "…"}`, OpenAI's
    /// `{"error": {"message": "…"}}`, vLLM's `{"message": "…"}`, FastAPI's `{"detail": "…"}`; else
    /// the body itself when it is text. One line, at most `limit` characters.
    static func serverErrorText(_ body: String, limit: Int = 300) -> String? {
        if let json = ResponseBody.json(body) {
            let candidates = [json["error"], json["error"]?["message"], json["message"], json["detail"]]
            if let text = candidates.lazy.compactMap({ $0?.stringValue }).first(where: { !$0.isEmpty }) {
                return excerpt(text, limit: limit)
            }
        }
        let text = excerpt(body, limit: limit)
        return text.isEmpty ? nil : text
    }

    /// `text` on one line (runs of whitespace and control characters become one space), cut to
    /// `limit` characters, so that an error message stays one readable log line.
    static func excerpt(_ text: String, limit: Int) -> String {
        var line = ""
        var count = 0
        var pendingSpace = false
        for character in text {
            if character.isWhitespace || character.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) {
                pendingSpace = count > 0
                continue
            }
            let needed = pendingSpace ? 2 : 1
            if count + needed > limit { return line + "…" }
            if pendingSpace { line.append(" ") }
            line.append(character)
            count += needed
            pendingSpace = false
        }
        return line
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
