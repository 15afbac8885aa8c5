import Testing
@testable import BoardDaemon

@Suite("Memory given back when quiet")
struct IdleMemoryTests {
    @Test func onceAfterAQuietPeriodFollowingActivity() {
        let t0 = ContinuousClock.now
        var idle = IdleMemoryRelease(now: t0)
        func due(after milliseconds: Int64) -> Bool { idle.isDue(now: t0 + .milliseconds(milliseconds)) }
        #expect(!due(after: 60_000), "nothing happened since start: nothing to give back")
        idle.noteActivity(now: t0 + .seconds(1))
        #expect(!due(after: 2_999), "not quiet for the whole period yet")
        #expect(due(after: 3_000))
        #expect(!due(after: 10_000), "once per stretch of activity")
        idle.noteActivity(now: t0 + .seconds(11))
        idle.noteActivity(now: t0 + .seconds(12))
        #expect(!due(after: 13_500), "quiet counts from the last activity")
        #expect(due(after: 14_000))
    }

    @Test func residentMemoryIsReadable() throws {
        let kib = try #require(IdleMemoryRelease.residentKiB())
        #expect(kib > 1024, "a Swift test process holds more than 1 MiB: read \(kib) KiB")
    }
}
