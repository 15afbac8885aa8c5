import BoardProtocol
import BoardStore
import Logging
import Testing
@testable import BoardDaemon

@Suite("System integration")
struct SystemIntegrationTests {
    let policy = AccessPolicy(groupName: "board-test-no-such-group", readsFromAnyone: false, daemonUID: 1000)

    @Test func rootTheDaemonUserAndMembersMayDoEverything() {
        for uid: UInt32 in [0, 1000] {
            #expect(policy.check(.planCreate, peer: PeerCredentials(pid: 1, uid: uid, gid: 5), membership: { false }) == nil)
        }
        #expect(policy.check(.planCancel, peer: PeerCredentials(pid: 1, uid: 2000, gid: 5), membership: { true }) == nil)
    }

    @Test func othersMayOnlyPing() throws {
        let stranger = PeerCredentials(pid: 1, uid: 2000, gid: 2000)
        #expect(policy.check(.ping, peer: stranger, membership: { false }) == nil)
        let refusal = try #require(policy.check(.taskRetry, peer: stranger, membership: { false }))
        #expect(refusal.code == -32008)
        #expect(refusal.reason == "forbidden")
        #expect(refusal.message.contains("uid 2000"))
        #expect(policy.check(.planGet, peer: stranger, membership: { false }) != nil)
        var open = policy
        open.readsFromAnyone = true
        #expect(open.check(.planGet, peer: stranger, membership: { false }) == nil)
        #expect(open.check(.configReload, peer: stranger, membership: { false }) != nil)
        #expect(policy.check(.planGet, peer: nil, membership: { true }) != nil, "an unidentified caller is refused")
    }

    @Test func journalFieldNamesFollowJournaldRules() {
        #expect(BoardLogHandler.journalFieldName("plan_id") == "PLAN_ID")
        #expect(BoardLogHandler.journalFieldName("task-id") == "TASK_ID")
        #expect(BoardLogHandler.journalFieldName("_trusted") == nil)
        #expect(BoardLogHandler.journalFieldName("1abc") == nil)
        #expect(BoardLogHandler.journalFieldName(String(repeating: "a", count: 65)) == nil)
        #expect(BoardLogHandler.priority(.warning) == 4)
        #expect(BoardLogHandler.priority(.trace) == 7)
    }

    @Test func theLogLevelIsSharedAndReloadable() {
        let control = LogLevelControl(.info)
        var logger = Logger(label: "t") { label in BoardLogHandler(label: label, control: control, sink: .stderr) }
        #expect(logger.logLevel == .info)
        control.level = .debug
        #expect(logger.logLevel == .debug)
        logger.logLevel = .error
        #expect(control.level == .error)
    }

    @Test func reloadReportsChangedAndRestartOnlyKeys() {
        let running = DaemonConfiguration()
        var fresh = running
        fresh.concurrency = 9
        fresh.databasePath = "/elsewhere.db"
        #expect(fresh.changedKeys(comparedTo: running) == ["daemon.database", "scheduler.concurrency"])
        let applied = fresh.keepingRestartOnlySettings(of: running)
        #expect(applied.databasePath == running.databasePath)
        #expect(applied.concurrency == 9)
    }

    @Test func statusLineSummarizesTheQueue() {
        var stats = BoardStore.StoreStatistics()
        stats.pendingTasks = 12
        stats.openPlans = 3
        #expect(Scheduler.statusLine(running: 4, stats) == "4 running, 12 pending, 3 plans open")
        stats.blockedPlans = 1
        #expect(Scheduler.statusLine(running: 0, stats) == "0 running, 12 pending, 3 plans open, 1 blocked")
    }
}
