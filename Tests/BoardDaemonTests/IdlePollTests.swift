import Testing
@testable import BoardDaemon

@Suite("The scheduler's safety poll backs off while idle")
struct IdlePollTests {
    @Test func quietPollsDoubleTheWaitUpToTheCeiling() {
        var poll = IdlePoll()
        let waits = (0..<9).map { _ in poll.next(afterQuietPoll: true, base: 1_000, ceiling: 60_000) }
        #expect(waits == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
    }

    @Test func workFoundOrSignalledBringsThePollIntervalBack() {
        var poll = IdlePoll()
        for _ in 0..<5 { _ = poll.next(afterQuietPoll: true, base: 100, ceiling: 10_000) }
        #expect(poll.next(afterQuietPoll: false, base: 100, ceiling: 10_000) == 100, "a busy poll")
        #expect(poll.next(afterQuietPoll: true, base: 100, ceiling: 10_000) == 100, "the first quiet poll after it")
        #expect(poll.next(afterQuietPoll: true, base: 100, ceiling: 10_000) == 200)
        poll.reset()
        #expect(poll.next(afterQuietPoll: true, base: 100, ceiling: 10_000) == 100, "woken by a signal")
    }

    @Test func aCeilingAtOrBelowThePollIntervalMeansNoBackoff() {
        var poll = IdlePoll()
        for ceiling: Int64 in [1_000, 10] {
            for _ in 0..<4 { #expect(poll.next(afterQuietPoll: true, base: 1_000, ceiling: ceiling) == 1_000) }
        }
    }

    @Test func settingsChangedByAReloadApplyAtTheNextPoll() {
        var poll = IdlePoll()
        for _ in 0..<10 { _ = poll.next(afterQuietPoll: true, base: 1_000, ceiling: 3_600_000) }
        #expect(poll.next(afterQuietPoll: true, base: 1_000, ceiling: 5_000) == 5_000, "a lower ceiling")
        #expect(poll.next(afterQuietPoll: true, base: 8_000, ceiling: 5_000) == 8_000, "a longer poll interval")
    }

    @Test func theWaitNeverOverflows() {
        var poll = IdlePoll()
        var wait: Int64 = 0
        for _ in 0..<80 { wait = poll.next(afterQuietPoll: true, base: 3_600_000, ceiling: .max) }
        #expect(wait == .max)
    }
}

@Suite("How long the scheduler waits after a round")
struct SchedulerWaitTests {
    func wait(
        poll: Int64 = 60_000, base: Int64 = 1_000, nextDue: Scheduler.NextDue = .none, watchdogPing: Duration? = nil,
        statusOwed: Duration? = nil
    ) -> Int64 {
        Scheduler.waitMilliseconds(poll: poll, base: base, nextDue: nextDue, watchdogPing: watchdogPing, statusOwed: statusOwed)
    }

    @Test func aBackedOffPollEndsWhenTheNextRetryIsDue() {
        #expect(wait() == 60_000, "nothing pending")
        #expect(wait(nextDue: .inMilliseconds(2_500)) == 2_500)
        #expect(wait(nextDue: .inMilliseconds(-30)) == 1, "overdue: at once, without spinning on zero")
        #expect(wait(poll: 1_000, nextDue: .inMilliseconds(90_000)) == 1_000)
    }

    @Test func whenTheStoreCannotSayWhatIsDueTheWaitIsThePollInterval() {
        #expect(wait(nextDue: .unknown) == 1_000)
        #expect(wait(poll: 500, nextDue: .unknown) == 500)
    }

    @Test func theWatchdogPingAndAHeldBackStatusCutTheWaitShort() {
        #expect(wait(watchdogPing: .seconds(15)) == 15_000)
        #expect(wait(watchdogPing: .microseconds(10)) == 1, "never a zero wait")
        #expect(wait(statusOwed: .milliseconds(400)) == 401, "just past the once-a-second limit")
        #expect(wait(nextDue: .inMilliseconds(200), watchdogPing: .seconds(15), statusOwed: .milliseconds(400)) == 200)
    }
}
