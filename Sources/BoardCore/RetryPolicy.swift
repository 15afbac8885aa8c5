/// How long a failed task waits before its next attempt: exponential backoff with full jitter.
///
/// Jitter keeps a burst of tasks that failed together (an LLM server restart, say) from retrying in
/// lockstep. The random draw is a parameter so the policy stays a pure function.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelayMilliseconds: Int64
    public var maxDelayMilliseconds: Int64

    public init(baseDelayMilliseconds: Int64 = 1_000, maxDelayMilliseconds: Int64 = 60_000) {
        self.baseDelayMilliseconds = max(0, baseDelayMilliseconds)
        self.maxDelayMilliseconds = max(self.baseDelayMilliseconds, maxDelayMilliseconds)
    }

    /// The delay after the `attempt`-th attempt failed; `unit` is a random draw in `0...1`.
    /// The result lies in `[ceiling/2, ceiling]` where `ceiling = min(max, base·2^(attempt-1))`.
    public func delay(afterAttempt attempt: Int, unit: Double) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 32)
        let (scaled, overflow) = baseDelayMilliseconds.multipliedReportingOverflow(by: Int64(1) << exponent)
        let ceiling = overflow ? maxDelayMilliseconds : min(scaled, maxDelayMilliseconds)
        let clamped = unit.isFinite ? min(max(unit, 0), 1) : 0
        return ceiling / 2 + Int64(Double(ceiling - ceiling / 2) * clamped)
    }
}
