/// How long the scheduler waits between safety polls. Submissions, finished tasks and plans that
/// need the CEO wake the scheduler at once, and a retry's backoff sets its own wake-up, so the
/// poll only guards against a missed wake-up. While polls keep finding nothing to do and nothing
/// runs, each wait doubles, from the poll interval up to the idle ceiling: a daemon left alone
/// wakes about once a minute (or at every systemd watchdog ping) instead of every second, each
/// round being half a dozen store reads and thread hand-offs. Any work found or signalled brings
/// the interval back to the poll interval.
struct IdlePoll: Sendable {
    /// The wait after the previous quiet poll; nil after activity.
    private var last: Int64?

    /// The wait before the next poll, in milliseconds.
    /// - Parameters:
    ///   - quiet: the poll just made found no work, and nothing was running.
    ///   - base: `scheduler.poll_interval_ms`.
    ///   - ceiling: `scheduler.idle_poll_max_ms`; a ceiling below the base means no backoff.
    mutating func next(afterQuietPoll quiet: Bool, base: Int64, ceiling: Int64) -> Int64 {
        guard quiet, let last else {
            last = quiet ? base : nil
            return base
        }
        let (doubled, overflow) = last.multipliedReportingOverflow(by: 2)
        let next = max(base, min(max(base, ceiling), overflow ? .max : doubled))
        self.last = next
        return next
    }

    /// Work was signalled: the next wait is the poll interval again.
    mutating func reset() {
        last = nil
    }
}
