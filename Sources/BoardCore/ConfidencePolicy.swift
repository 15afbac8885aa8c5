/// What to do with an answer, given how sure its author was (the prototype's policy).
///
/// At or above `high`: accept. From `moderate` up to `high`: one more pass while attempts remain
/// (at most one), else accept. Below `moderate`: try again while attempts remain; on the last
/// attempt, escalate for human review instead of completing. No stated confidence: accept.
public struct ConfidencePolicy: Sendable, Equatable {
    public var high: Double
    public var moderate: Double

    public init(high: Double = 0.8, moderate: Double = 0.5) {
        self.high = high
        self.moderate = moderate
    }

    public enum Verdict: Sendable, Equatable {
        case accept
        case passAgain(reason: String)
        case retry(reason: String)
        case escalate(reason: String)
    }

    public func judge(confidence: Double?, attemptsLeft: Int, extraPasses: Int) -> Verdict {
        guard let confidence, confidence < high else { return .accept }
        let shown = Double(Int((confidence * 100).rounded())) / 100
        if confidence >= moderate {
            return attemptsLeft > 0 && extraPasses == 0
                ? .passAgain(reason: "moderate confidence (\(shown)); one more pass") : .accept
        }
        return attemptsLeft > 0
            ? .retry(reason: "uncertain output (confidence \(shown)); trying again")
            : .escalate(reason: "uncertain output on the last attempt (confidence \(shown)); needs human review")
    }
}
