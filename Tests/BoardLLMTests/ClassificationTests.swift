import BoardCore
import Testing
@testable import BoardLLM

@Suite("Classification")
struct ClassificationTests {
    @Test func statusesSplitIntoTransientAndPermanent() {
        for status in [408, 429, 500, 502, 503, 504] { #expect(HTTPClassification.kind(ofStatus: status) == .transient, "\(status)") }
        for status in [300, 400, 401, 403, 404, 405, 413, 422, 501, 505] {
            #expect(HTTPClassification.kind(ofStatus: status) == .permanent, "\(status)")
        }
    }

    @Test func retryAfterTakesSecondsOrAnHTTPDate() {
        let now = Double(HTTPClassification.daysSince1970(year: 2015, month: 10, day: 21) * 86_400 + 7 * 3600 + 28 * 60)
        #expect(HTTPClassification.retryAfter("7", now: now) == .seconds(7))
        #expect(HTTPClassification.retryAfter(" 120 ", now: now) == .seconds(120))
        #expect(HTTPClassification.retryAfter("0", now: now) == .zero)
        #expect(HTTPClassification.retryAfter("99999999999999999999999", now: now) == .seconds(86_400), "absurd: capped at a day")
        // The three forms RFC 9110 makes recipients accept, 90 s after `now`.
        for date in ["Wed, 21 Oct 2015 07:29:30 GMT", "Wednesday, 21-Oct-15 07:29:30 GMT", "Wed Oct 21 07:29:30 2015"] {
            #expect(HTTPClassification.retryAfter(date, now: now) == .seconds(90), "\(date)")
        }
        #expect(HTTPClassification.retryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .zero, "past: now")
        for junk in ["", "-5", "1.5", "soon", "Wed, 32 Oct 2015 07:29:30 GMT", "Wed, 21 Foo 2015 07:29:30 GMT"] {
            #expect(HTTPClassification.retryAfter(junk, now: now) == nil, "\(junk)")
        }
    }

    @Test func httpDatesAreSecondsSince1970() {
        #expect(HTTPClassification.httpDate("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPClassification.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPClassification.httpDate("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPClassification.httpDate("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPClassification.httpDate("Tue, 29 Feb 2028 12:00:00 GMT") == 1_835_438_400)
    }

    @Test func serverErrorTextIsFoundInEveryCommonShape() {
        #expect(HTTPClassification.serverErrorText(#"{"error":"model 'x' not found"}"#) == "model 'x' not found")
        #expect(HTTPClassification.serverErrorText(#"{"error":{"message":"bad key","type":"auth"}}"#) == "bad key")
        #expect(HTTPClassification.serverErrorText(#"{"object":"error","message":"too long"}"#) == "too long")
        #expect(HTTPClassification.serverErrorText(#"{"detail":"not found"}"#) == "not found")
        #expect(HTTPClassification.serverErrorText("upstream\n  timed out\r\n") == "upstream timed out", "text, on one line")
        #expect(HTTPClassification.serverErrorText("  \n") == nil)
        let long = HTTPClassification.serverErrorText(#"{"error":"\#(String(repeating: "x", count: 1000))"}"#)
        #expect(long == String(repeating: "x", count: 300) + "…")
    }

    @Test func excerptsAreOneLineAndCut() {
        #expect(HTTPClassification.excerpt("a\tb\u{0}c\n\nd ", limit: 100) == "a b c d")
        #expect(HTTPClassification.excerpt("abcdef", limit: 6) == "abcdef")
        #expect(HTTPClassification.excerpt("abcdefg", limit: 6) == "abcdef…")
        #expect(HTTPClassification.excerpt("abcde fg", limit: 6) == "abcde…", "no trailing space before the ellipsis")
        #expect(HTTPClassification.excerpt("    ", limit: 6) == "")
    }

    @Test func messagesNameTheServerWithoutCredentialsInTheURL() {
        let endpoint = Endpoint(server: "Ollama", baseURL: "https://user:pa55word@llm.example:8443/ollama/")
        #expect(endpoint.displayURL == "https://llm.example:8443/ollama")
        #expect(endpoint.url("/api/chat") == "https://user:pa55word@llm.example:8443/ollama/api/chat")
        #expect(Endpoint(server: "x", baseURL: "http://host/a@b").displayURL == "http://host/a@b", "an @ in the path stays")
        let error = endpoint.error(.transient, model: "m", "HTTP 503")
        #expect(error.message == "Ollama https://llm.example:8443/ollama, model m: HTTP 503")
        #expect("\(error)" == error.message)
    }

    @Test func theKeyIsRedactedFromMessages() {
        let endpoint = Endpoint(server: "s", baseURL: "http://h", secret: "sk-abcdefgh")
        #expect(endpoint.error(.permanent, model: "m", "bad key sk-abcdefgh!").message == "s http://h, model m: bad key <redacted>!")
        let short = Endpoint(server: "s", baseURL: "http://h", secret: "k")
        #expect(short.error(.permanent, model: "m", "ok").message == "s http://h, model m: ok", "a one-letter key is not hunted for")
    }

    @Test func durationsConvertAndPrint() {
        #expect(Transport.format(.seconds(30)) == "30 s")
        #expect(Transport.format(.milliseconds(1500)) == "1500 ms")
        #expect(Transport.timeAmount(.milliseconds(1500)) == .milliseconds(1500))
        #expect(Transport.timeAmount(.seconds(Int64.max / 2)) == .nanoseconds(.max), "saturates")
    }

    @Test func tokenCountsMustBeSensibleNumbers() {
        #expect(ResponseBody.count(.int(12)) == 12)
        #expect(ResponseBody.count(.double(12)) == 12)
        #expect(ResponseBody.count(.int(-1)) == nil)
        #expect(ResponseBody.count(.string("12")) == nil)
        #expect(ResponseBody.count(nil) == nil)
    }
}
