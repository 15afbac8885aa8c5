import BoardCore
import Foundation
import GRDB
import Testing
@testable import BoardStore

/// A fresh database in its own temporary directory.
struct TemporaryStore {
    let directory: String
    let path: String
    let store: SQLiteStateStore

    init(synchronous: SynchronousMode = .normal) throws {
        directory = NSTemporaryDirectory() + "board-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/board.db"
        store = try SQLiteStateStore(configuration: StoreConfiguration(path: path, synchronous: synchronous))
    }

    func remove() async {
        try? await store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

let t0 = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
let worker = ChangeOrigin(actor: "worker-1")

func draft(_ goal: String = "launch an SMB accounting SaaS in Q2", roles: [String] = ["COO", "CFO"], maxAttempts: Int = 2, key: String? = nil)
    -> PlanDraft
{
    PlanDraft(goal: goal, context: "ctx", idempotencyKey: key, tasks: roles.map {
        TaskDraft(agent: $0, description: "work for \($0)", maxAttempts: maxAttempts)
    })
}

@Suite("SQLite store")
struct StoreTests {
    @Test func createsAPlanWithItsTasksAndEvents() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let creation = try await temp.store.createPlan(draft(), now: t0, origin: .daemon)
        #expect(creation.created)
        #expect(creation.plan.status == .open)
        #expect(creation.tasks.map(\.agent) == ["COO", "CFO"])
        let plan = try #require(try await temp.store.plan(creation.plan.planID))
        #expect(plan == creation.plan)
        #expect(try await temp.store.tasks(of: plan.planID) == creation.tasks)
        let both = try #require(try await temp.store.planWithTasks(plan.planID))
        #expect(both.plan == plan && both.tasks == creation.tasks)
        #expect(try await temp.store.planWithTasks(PlanID.random()) == nil)
        let events = try await temp.store.events(of: plan.planID, task: nil, limit: 100)
        #expect(events.map(\.kind) == [.taskCreated, .taskCreated, .planCreated], "newest first")
        #expect(events.allSatisfy { $0.createdAt == t0 })
        var counts = try await temp.store.taskCounts(of: plan.planID)
        #expect(counts.pending == 2)
        counts.pending = 0
        #expect(counts.total == 0)
    }

    /// A setting of a fresh store's committing connection, as SQLite reports it.
    private func committingSetting(_ name: String, synchronous: SynchronousMode = .normal) async throws -> Int? {
        let temp = try TemporaryStore(synchronous: synchronous)
        let value: Int?
        do {
            value = try await temp.store.committingConnectionSetting(name)
        } catch {
            await temp.remove()
            throw error
        }
        await temp.remove()
        return value
    }

    /// GRDB sets `synchronous = NORMAL` on its writer when it enables WAL mode, after the
    /// connection's own set-up: a configured `full` was silently a `normal` until this was checked.
    @Test(arguments: SynchronousMode.allCases)
    func theConfiguredSynchronousModeIsTheCommittingConnections(_ mode: SynchronousMode) async throws {
        let level = try await committingSetting("synchronous", synchronous: mode)
        #expect(level == mode.sqliteLevel)
        #expect(level == (mode == .full ? 2 : 1))
    }

    /// The savepoints of a group commit keep their undo pages in memory, not in a temporary
    /// file that every big batch wrote to and no one ever read back.
    @Test func theWritersStatementJournalsStayInMemory() async throws {
        let setting = try await committingSetting("temp_store")
        #expect(setting == 2, "temp_store is \(setting.map(String.init) ?? "unset"), not MEMORY (2)")
    }

    /// In a process of its own, so that this store is the first to open SQLite there: SQLite's
    /// memory statistics (a process-wide mutex around every allocation) are off, and the store
    /// still works without them.
    @Test func sqliteCountsNoMemoryInTheDaemonsProcess() async {
        await #expect(processExitsWith: .success) {
            let directory = NSTemporaryDirectory() + "board-store-memstatus-" + UUID().uuidString
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try? SQLiteStateStore(configuration: StoreConfiguration(path: directory + "/board.db"))
            guard let store else { exit(2) }
            guard let created = try? await store.createPlan(
                PlanDraft(goal: "g", context: String(repeating: "c", count: 100_000), idempotencyKey: nil,
                          tasks: [TaskDraft(agent: "CFO", description: "d", maxAttempts: 1)]),
                now: Timestamp(millisecondsSinceEpoch: 1_800_000_000_000), origin: .daemon),
                  (try? await store.plan(created.plan.planID)) != nil
            else { exit(3) }
            try? await store.close()
            guard SQLiteProcessSettings.applied else { exit(4) }
            guard SQLiteProcessSettings.countedMemory == 0 else { exit(5) }
        }
    }

    /// The writer runs SQLite's checkpoint itself, after answering (WALCheckpoints): the log
    /// must stay as bounded as SQLite's own automatic checkpoint kept it.
    @Test func theWriteAheadLogStaysBounded() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let context = String(repeating: "0123456789abcdef", count: 2048)  // 32 KiB: 8 pages a plan
        for index in 0..<400 {  // about 13 MB of log without checkpoints
            _ = try await temp.store.createPlan(
                PlanDraft(goal: "plan \(index)", context: context, idempotencyKey: nil, tasks: [TaskDraft(agent: "CFO", description: "d", maxAttempts: 1)]),
                now: t0, origin: .daemon)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: temp.path + "-wal")
        let size = try #require(attributes[.size] as? Int)
        #expect(size < 6 << 20, "the log grew to \(size) bytes: checkpoints are not running")
        #expect(size > 0)
    }

    @Test func aPlanCanClaimDueTasksInItsOwnTransaction() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let older = try await temp.store.createPlan(draft(roles: ["CMO"]), now: t0, origin: .daemon)
        let request = ClaimRequest(owner: "worker-1", leaseMilliseconds: 60_000, limit: 2)
        var spec = draft(roles: ["CFO", "CTO", "COO"])
        spec.tasks[2].after = [0]
        let creation = try await temp.store.createPlan(spec, now: t0.adding(milliseconds: 5), origin: .daemon, claim: request)
        // The oldest due task first (the earlier plan's), then the new plan's first; never one
        // whose dependency is unmet, and no more than the limit.
        #expect(creation.claimed.map(\.task.agent) == ["CMO", "CFO"])
        #expect(creation.claimed.first?.task.planID == older.plan.planID)
        #expect(creation.claimed.allSatisfy { $0.task.state == .inProgress && $0.task.attempts == 1 && $0.task.claimOwner == "worker-1" })
        #expect(creation.tasks.map(\.state) == [.inProgress, .pending, .pending], "the reply shows what was committed")
        #expect(try await temp.store.tasks(of: creation.plan.planID) == creation.tasks)
        let kinds = try await temp.store.events(of: creation.plan.planID, task: creation.tasks[0].taskID, limit: 10).map(\.kind)
        #expect(kinds == [.taskStarted, .taskCreated])
        // Without a claim nothing else moves.
        let plain = try await temp.store.createPlan(draft(roles: ["CHRO"]), now: t0.adding(milliseconds: 9), origin: .daemon)
        #expect(plain.claimed.isEmpty && plain.tasks.map(\.state) == [.pending])
    }

    @Test func idempotencyKeyReturnsTheSamePlanAndRefusesADifferentGoal() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let first = try await temp.store.createPlan(draft(key: "k1"), now: t0, origin: .daemon)
        let second = try await temp.store.createPlan(draft(key: "k1"), now: t0.adding(milliseconds: 5), origin: .daemon)
        #expect(!second.created)
        #expect(second.plan.planID == first.plan.planID)
        #expect(second.tasks.map(\.taskID) == first.tasks.map(\.taskID))
        await #expect {
            _ = try await temp.store.createPlan(draft("another goal", key: "k1"), now: t0, origin: .daemon)
        } throws: { ($0 as? BoardError)?.reason == .conflict }
        #expect(try await temp.store.listPlans(status: nil, limit: 10, cursor: nil).plans.count == 1)
    }

    @Test func claimsDueTasksInOrderWithOwnerLeaseAndAttempt() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["COO", "CFO", "CTO"]), now: t0, origin: .daemon)
        let claimed = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 2)
        #expect(claimed.map(\.task.agent) == ["COO", "CFO"])
        #expect(claimed.allSatisfy { $0.task.state == .inProgress && $0.task.attempts == 1 && $0.task.claimOwner == "w1" })
        #expect(claimed.first?.task.leaseExpiresAt == t0.adding(milliseconds: 1000))
        #expect(claimed.first?.goal == plan.plan.goal)
        #expect(claimed.first?.context == "ctx")
        let rest = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 10)
        #expect(rest.map(\.task.agent) == ["CTO"])
        #expect(try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 10).isEmpty)
        #expect(try await temp.store.attempts(of: rest[0].task.taskID) == 1)
    }

    @Test func aPageOfPlansWithLargeContextsEndsEarlyAndTheCursorReachesTheRest() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let context = String(repeating: "x", count: 1_000_000)
        var created: [PlanID] = []
        for index in 0..<12 {
            let draft = PlanDraft(goal: "plan \(index)", context: context, tasks: [TaskDraft(agent: "CFO", description: "d", maxAttempts: 1)])
            created.append(try await temp.store.createPlan(draft, now: t0.adding(milliseconds: Int64(index)), origin: .daemon).plan.planID)
        }
        // Only ids, counts and flags in the expectations: a failure must not print 12 MB of context.
        let first = try await temp.store.listPlans(status: nil, limit: 1000, cursor: nil)
        let (firstIDs, firstCursor) = (first.plans.map(\.planID), first.nextCursor)
        let firstWhole = first.plans.allSatisfy { $0.context == context }
        // 8 MiB of goals and contexts: 8 of these plans, not 1,000 (or all 12).
        #expect(firstIDs.count == 8)
        let cursor = try #require(firstCursor)
        let second = try await temp.store.listPlans(status: nil, limit: 1000, cursor: cursor)
        let (secondIDs, secondCursor) = (second.plans.map(\.planID), second.nextCursor)
        let secondWhole = second.plans.allSatisfy { $0.context == context }
        #expect(secondCursor == nil)
        // Newest first, each plan once, none skipped; contexts whole.
        #expect(firstIDs + secondIDs == created.reversed())
        #expect(firstWhole && secondWhole)
        // The limit still applies below the budget.
        let small = try await temp.store.listPlans(status: .open, limit: 3, cursor: nil)
        let (smallIDs, smallCursor) = (small.plans.map(\.planID), small.nextCursor)
        #expect(smallIDs == Array(created.reversed().prefix(3)))
        #expect(smallCursor != nil)
    }

    @Test func aPageOfEventsWithLargePayloadsEndsEarlyAndNextBeforeReachesTheRest() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let draft = PlanDraft(goal: "a plan", context: nil, tasks: [TaskDraft(agent: "CFO", description: "d", maxAttempts: 1)])
        let plan = try await temp.store.createPlan(draft, now: t0, origin: .daemon).plan.planID
        let older = try await temp.store.events(of: plan, task: nil, limit: 10_000).map(\.eventID)
        #expect(older.count == 2)
        let error = String(repeating: "e", count: 1_000_000)
        var written: [EventID] = []
        for index in 0..<6 {
            let event = try await temp.store.recordEvent(
                plan: plan, task: nil, kind: .planFailed, payload: ["error": .string(error)], now: t0.adding(milliseconds: Int64(1 + index)))
            written.append(event.eventID)
        }
        // Only ids and counts in the expectations: a failure must not print megabytes of payload.
        let first = try await temp.store.eventPage(of: plan, task: nil, before: nil, limit: 10_000)
        let firstIDs = first.events.map(\.eventID)
        let firstWhole = first.events.allSatisfy { $0.payload["error"]?.stringValue == error }
        // 4 MiB of payloads: 4 of these events, not all 6 with the plan's older ones.
        #expect(firstIDs == Array(written.reversed().prefix(4)))
        #expect(first.nextBefore == firstIDs.last)
        let second = try await temp.store.eventPage(of: plan, task: nil, before: first.nextBefore, limit: 10_000)
        let secondIDs = second.events.map(\.eventID)
        #expect(second.nextBefore == nil)
        // Newest first, each event once, none skipped; payloads whole.
        #expect(firstIDs + secondIDs == written.reversed() + older)
        #expect(firstWhole)
        // Below the budget the limit ends a page; a page that reaches the oldest event says so,
        // even when it is exactly `limit` long.
        let all = firstIDs + secondIDs
        let short = try await temp.store.eventPage(of: plan, task: nil, before: written[0], limit: older.count - 1)
        #expect(short.events.map(\.eventID) == Array(older.dropLast()))
        #expect(short.nextBefore == older.dropLast().last)
        let exact = try await temp.store.eventPage(of: plan, task: nil, before: written[0], limit: older.count)
        #expect(exact.events.map(\.eventID) == older)
        #expect(exact.nextBefore == nil)
        #expect(all.count == 6 + older.count)
    }

    @Test func claimedTasksOfOnePlanShareOneCopyOfItsContext() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let context = String(repeating: "a context of many lines\n", count: 20_000)
        let roles = Array(repeating: "CFO", count: 16)
        for goal in ["first plan", "second plan"] {
            _ = try await temp.store.createPlan(
                PlanDraft(goal: goal, context: context, tasks: roles.map { TaskDraft(agent: $0, description: "d", maxAttempts: 1) }),
                now: t0, origin: .daemon)
        }
        let claimed = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 32)
        #expect(claimed.count == 32)
        #expect(claimed.allSatisfy { $0.context == context })
        // A context may be megabytes: one copy per plan, not per claimed task.
        func storage(_ text: String?) -> UnsafeRawPointer? {
            text?.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        }
        let copies = Set(claimed.compactMap { storage($0.context) })
        #expect(copies.count == 2)
        #expect(Set(claimed.map(\.goal)) == ["first plan", "second plan"])
    }

    @Test func aRetriedTaskWaitsForItsBackoff() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        _ = try await temp.store.createPlan(draft(roles: ["CFO"]), now: t0, origin: .daemon)
        let task = try #require(try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 1).first).task
        let update = try await temp.store.updateTask(
            task.taskID, .fail(error: "exit 1", permanent: false, retryDelayMilliseconds: 5000), owner: "w1", result: nil,
            now: t0.adding(milliseconds: 10), origin: worker)
        #expect(update.task.state == .pending)
        #expect(update.task.notBefore == t0.adding(milliseconds: 5010))
        #expect(update.task.claimOwner == nil)
        #expect(try await temp.store.nextDueTime() == t0.adding(milliseconds: 5010))
        #expect(try await temp.store.claimDueTasks(owner: "w1", now: t0.adding(milliseconds: 5009), leaseMilliseconds: 1, limit: 1).isEmpty)
        let again = try await temp.store.claimDueTasks(owner: "w1", now: t0.adding(milliseconds: 5010), leaseMilliseconds: 1, limit: 1)
        #expect(again.first?.task.attempts == 2)
        let reloaded = try #require(try await temp.store.task(task.taskID))
        #expect(reloaded.lastError == "exit 1")
    }

    @Test func aReportFromAnotherOwnerOrAfterCancelIsDiscardedAndChangesNothing() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["CFO"]), now: t0, origin: .daemon)
        let task = try #require(try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 1).first).task
        let eventsBefore = try await temp.store.events(of: plan.plan.planID, task: nil, limit: 100).count
        await #expect {
            _ = try await temp.store.updateTask(task.taskID, .complete, owner: "w2", result: nil, now: t0, origin: worker)
        } throws: { ($0 as? BoardError)?.reason == .invalidState }
        _ = try await temp.store.updateTask(task.taskID, .cancel(reason: "user"), owner: nil, result: nil, now: t0, origin: .daemon)
        let result = AgentResult(agent: "CFO", codename: "Abacus", backend: "builtin", offline: true, summary: "late")
        await #expect {
            _ = try await temp.store.updateTask(task.taskID, .complete, owner: "w1", result: result, now: t0, origin: worker)
        } throws: { ($0 as? BoardError)?.message.contains("discarded") == true }
        let stored = try #require(try await temp.store.task(task.taskID))
        #expect(stored.state == .cancelled)
        #expect(stored.result == nil)
        // Only the cancel and the plan's own change were recorded; the refused reports left nothing.
        let events = try await temp.store.events(of: plan.plan.planID, task: nil, limit: 100)
        #expect(events.count == eventsBefore + 2)
        #expect(events.map(\.kind).prefix(2) == [.planCancelled, .taskCancelled])
    }

    @Test func completingEveryTaskLeadsToSynthesisAndAClosedPlan() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(), now: t0, origin: .daemon)
        let claimed = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 10)
        var last: TaskUpdate?
        for item in claimed {
            let result = AgentResult(agent: item.task.agent, codename: "X", backend: "builtin", offline: true, summary: "ok", confidence: 0.8)
            last = try await temp.store.updateTask(item.task.taskID, .complete, owner: "w1", result: result, now: t0, origin: worker)
        }
        #expect(last?.plan.status == .synthesizing)
        #expect(last?.planTransition?.event == .planSynthesizing)
        #expect(try await temp.store.plansAwaitingSynthesis(limit: 10).map(\.planID) == [plan.plan.planID])
        #expect(try await temp.store.task(claimed[0].task.taskID)?.result?.summary == "ok")

        let failed = try await temp.store.failSynthesis(plan.plan.planID, error: "CEO crashed", now: t0)
        #expect(failed.status == .failed)
        #expect(failed.lastError == "CEO crashed")
        #expect(try await temp.store.plansAwaitingSynthesis(limit: 10).isEmpty)
        #expect(try await temp.store.retrySynthesis(plan.plan.planID, now: t0, origin: .daemon).status == .synthesizing)

        let finalPlan = FinalPlan(
            planID: plan.plan.planID, goal: plan.plan.goal, synthesizedBy: "Odyssey (CEO)", offline: true, executiveSummary: "sum",
            strategy: ["a"], contributors: [], risks: ["r"], recommendations: ["x"], confidence: 0.7, createdAt: t0)
        let closed = try await temp.store.saveFinalPlan(finalPlan, now: t0.adding(milliseconds: 1))
        #expect(closed.status == .closed)
        #expect(closed.closedAt == t0.adding(milliseconds: 1))
        #expect(closed.lastError == nil)
        #expect(try await temp.store.finalPlan(of: plan.plan.planID) == finalPlan)
        await #expect(throws: BoardError.self) { _ = try await temp.store.saveFinalPlan(finalPlan, now: t0) }
        let kinds = try await temp.store.events(of: plan.plan.planID, task: nil, limit: 4).map(\.kind)
        #expect(kinds == [.planClosed, .planSynthesizing, .planFailed, .planSynthesizing])
    }

    @Test func escalationBlocksThePlanAndAManualRetryReopensIt() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["CFO"], maxAttempts: 1), now: t0, origin: .daemon)
        let task = try #require(try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1, limit: 1).first).task
        let escalated = try await temp.store.updateTask(
            task.taskID, .fail(error: "boom", permanent: false, retryDelayMilliseconds: 1), owner: "w1", result: nil, now: t0,
            origin: worker)
        #expect(escalated.task.state == .escalated)
        #expect(escalated.plan.status == .blocked)
        let retried = try await temp.store.updateTask(task.taskID, .retry, owner: nil, result: nil, now: t0, origin: .daemon)
        #expect(retried.task.state == .pending)
        #expect(retried.task.maxAttempts == 2)
        #expect(retried.plan.status == .open)
        #expect(try await temp.store.plan(plan.plan.planID)?.status == .open)
    }

    @Test func cancellingAPlanCancelsItsTasksAndNamesTheRunningOnes() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["COO", "CFO", "CTO"]), now: t0, origin: .daemon)
        let running = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1, limit: 1)
        let cancellation = try await temp.store.cancelPlan(plan.plan.planID, now: t0, origin: ChangeOrigin(actor: "uid:1000"))
        #expect(cancellation.plan.status == .cancelled)
        #expect(cancellation.stoppedTasks == running.map { StoppedAttempt($0.task) })
        #expect(cancellation.cancelledTasks == 3)
        #expect(try await temp.store.tasks(of: plan.plan.planID).allSatisfy { $0.state == .cancelled })
        await #expect {
            _ = try await temp.store.cancelPlan(plan.plan.planID, now: t0, origin: .daemon)
        } throws: { ($0 as? BoardError)?.message == "plan is cancelled; cannot cancel it" }
        await #expect {
            _ = try await temp.store.updateTask(running[0].task.taskID, .retry, owner: nil, result: nil, now: t0, origin: .daemon)
        } throws: { ($0 as? BoardError)?.reason == .invalidState }
        let event = try #require(try await temp.store.events(of: plan.plan.planID, task: nil, limit: 1).first)
        #expect(event.payload["actor"] == "uid:1000")
    }

    @Test func recoveryAfterACrashCountsTheAttempt() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["COO", "CFO"], maxAttempts: 1), now: t0, origin: .daemon)
        _ = try await temp.store.createPlan(draft(roles: ["CTO"], maxAttempts: 2), now: t0, origin: .daemon)
        _ = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1, limit: 10)
        let updates = try await temp.store.recoverInterruptedTasks(now: t0)
        #expect(updates.count == 3)
        #expect(updates.map(\.transition.event).allSatisfy { $0 == .taskRecovered })
        let byAgent = Dictionary(uniqueKeysWithValues: updates.map { ($0.task.agent, $0.task) })
        #expect(byAgent["COO"]?.state == .escalated)
        #expect(byAgent["CFO"]?.state == .escalated)
        #expect(byAgent["CTO"]?.state == .pending)
        #expect(byAgent["CTO"]?.attempts == 1)
        #expect(try await temp.store.plan(plan.plan.planID)?.status == .blocked)
        #expect(try await temp.store.recoverInterruptedTasks(now: t0).isEmpty)
    }

    @Test func eventsPageBackwardsFromAnEvent() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(roles: ["COO", "CFO", "CTO", "CMO"]), now: t0, origin: .daemon)
        let other = try await temp.store.createPlan(draft("another goal"), now: t0, origin: .daemon)
        let all = try await temp.store.events(of: plan.plan.planID, task: nil, limit: 100)
        #expect(all.count == 5, "plan_created and four task_created")
        var paged: [BoardEvent] = []
        var cursor: EventID?
        repeat {
            let page = try await temp.store.events(of: plan.plan.planID, task: nil, before: cursor, limit: 2)
            paged += page
            cursor = page.count == 2 ? page.last?.eventID : nil
        } while cursor != nil
        #expect(paged == all)
        // A task's trail pages the same way.
        let task = plan.tasks[0].taskID
        _ = try await temp.store.recordEvent(plan: plan.plan.planID, task: task, kind: .taskRetry, payload: nil, now: t0)
        let taskEvents = try await temp.store.events(of: plan.plan.planID, task: task, limit: 10)
        #expect(try await temp.store.events(of: plan.plan.planID, task: task, before: taskEvents[0].eventID, limit: 10) == Array(taskEvents.dropFirst()))
        // The cursor must be an event of the plan asked about.
        let foreign = try #require(try await temp.store.events(of: other.plan.planID, task: nil, limit: 1).first)
        await #expect(throws: BoardError.self) {
            _ = try await temp.store.events(of: plan.plan.planID, task: nil, before: foreign.eventID, limit: 10)
        }
    }

    @Test func eventsFilterByTaskAndLimit() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(), now: t0, origin: .daemon)
        let taskID = plan.tasks[1].taskID
        _ = try await temp.store.recordEvent(plan: plan.plan.planID, task: taskID, kind: .taskRetry, payload: ["n": 1], now: t0)
        let events = try await temp.store.events(of: plan.plan.planID, task: taskID, limit: 10)
        #expect(events.map(\.kind) == [.taskRetry, .taskCreated])
        #expect(events.allSatisfy { $0.taskID == taskID })
        #expect(try await temp.store.events(of: plan.plan.planID, task: nil, limit: 1).map(\.kind) == [.taskRetry])
        await #expect(throws: BoardError.self) {
            _ = try await temp.store.recordEvent(plan: PlanID.random(), task: nil, kind: .planCreated, payload: nil, now: t0)
        }
    }

    @Test func listsPlansNewestFirstByPagesAndStatus() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        var ids: [PlanID] = []
        for index in 0..<7 {
            ids.append(try await temp.store.createPlan(draft("goal \(index)"), now: t0, origin: .daemon).plan.planID)
        }
        _ = try await temp.store.cancelPlan(ids[2], now: t0, origin: .daemon)
        var seen: [PlanID] = []
        var cursor: String?
        repeat {
            let page = try await temp.store.listPlans(status: nil, limit: 3, cursor: cursor)
            #expect(page.plans.count <= 3)
            seen += page.plans.map(\.planID)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == ids.reversed())
        #expect(try await temp.store.listPlans(status: .cancelled, limit: 10, cursor: nil).plans.map(\.planID) == [ids[2]])
        #expect(try await temp.store.listPlans(status: .open, limit: 10, cursor: nil).plans.count == 6)
        let stats = try await temp.store.statistics()
        #expect(stats.openPlans == 6)
        #expect(stats.pendingTasks == 12)
        #expect(stats.runningTasks == 0)
    }

    @Test func concurrentWritersAreGroupCommittedAndAllLand() async throws {
        let temp = try TemporaryStore(synchronous: .full)
        defer { Task { await temp.remove() } }
        let store = temp.store
        let ids = try await withThrowingTaskGroup(of: PlanID.self) { group in
            for index in 0..<300 {
                group.addTask { try await store.createPlan(draft("goal \(index)", roles: ["CFO"]), now: t0, origin: .daemon).plan.planID }
            }
            return try await group.reduce(into: Set<PlanID>()) { $0.insert($1) }
        }
        #expect(ids.count == 300)
        // A refused operation inside a batch does not roll back its neighbours.
        async let bad: Void = {
            await #expect(throws: BoardError.self) {
                _ = try await store.updateTask(TaskID.random(), .complete, owner: nil, result: nil, now: t0, origin: .daemon)
            }
        }()
        async let good = store.createPlan(draft("neighbour"), now: t0, origin: .daemon)
        _ = await bad
        #expect(try await good.created)
        #expect(try await store.statistics().openPlans == 301)
    }

    @Test func textIsStoredByteExact() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let nasty = "'; DROP TABLE plans; --\n$(rm -rf /) `id` \"quotes\" \\ é 日本 🎯 " + String(repeating: "x", count: 300_000)
        let plan = try await temp.store.createPlan(
            PlanDraft(goal: nasty, context: nasty, tasks: [TaskDraft(agent: "CFO", description: nasty, maxAttempts: 1)]), now: t0,
            origin: .daemon)
        let stored = try #require(try await temp.store.plan(plan.plan.planID))
        #expect(stored.goal == nasty)
        #expect(stored.context == nasty)
        #expect(try await temp.store.tasks(of: plan.plan.planID).first?.description == nasty)
    }

    @Test func nulCharactersAreRefusedInPlansAndReplacedInErrors() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        await #expect {
            _ = try await temp.store.createPlan(draft("before\u{0}after"), now: t0, origin: .daemon)
        } throws: { ($0 as? BoardError)?.reason == .invalidArgument }
        #expect(try await temp.store.listPlans(status: nil, limit: 10, cursor: nil).plans.isEmpty)
        _ = try await temp.store.createPlan(draft(roles: ["CFO"]), now: t0, origin: .daemon)
        let task = try #require(try await temp.store.claimDueTasks(owner: "w", now: t0, leaseMilliseconds: 1, limit: 1).first).task
        let update = try await temp.store.updateTask(
            task.taskID, .fail(error: "stderr\u{0}tail", permanent: true, retryDelayMilliseconds: 0), owner: "w", result: nil,
            now: t0, origin: worker)
        #expect(update.task.lastError == "stderr\u{FFFD}tail")
        #expect(try await temp.store.task(task.taskID)?.lastError == "stderr\u{FFFD}tail")
    }
}

@Suite("Task dependencies in the store")
struct DependencyStoreTests {
    func result(_ agent: String, _ summary: String) -> AgentResult {
        AgentResult(agent: agent, codename: agent, backend: "builtin", offline: true, summary: summary, confidence: 0.9)
    }

    @Test func dependentsWaitForTheirDependenciesAndGetTheirResults() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let draft = PlanDraft(goal: "g", tasks: [
            TaskDraft(agent: "CTO", description: "stack", maxAttempts: 2),
            TaskDraft(agent: "CFO", description: "budget the stack", maxAttempts: 2, after: [0]),
        ])
        let plan = try await temp.store.createPlan(draft, now: t0, origin: .daemon)
        #expect(plan.tasks[1].dependsOn == [plan.tasks[0].taskID])
        #expect(plan.tasks[1].unmetDependencies == 1)
        #expect(try await temp.store.taskCounts(of: plan.plan.planID).waiting == 1)

        let first = try await temp.store.claimDueTasks(owner: "w", now: t0, leaseMilliseconds: 1, limit: 10)
        #expect(first.map(\.task.agent) == ["CTO"], "the CFO waits for the CTO")
        #expect(try await temp.store.nextDueTime() == nil, "nothing runnable is pending")
        _ = try await temp.store.updateTask(
            first[0].task.taskID, .complete, owner: "w", result: result("CTO", "a modular monolith"), now: t0.adding(milliseconds: 5),
            origin: worker)
        let second = try await temp.store.claimDueTasks(owner: "w", now: t0.adding(milliseconds: 5), leaseMilliseconds: 1, limit: 10)
        #expect(second.map(\.task.agent) == ["CFO"])
        #expect(second.first?.dependencyResults.map(\.summary) == ["a modular monolith"], "the CFO's budget sees the CTO's stack")
        #expect(second.first?.task.unmetDependencies == 0)
    }

    @Test func aDependencyThatEscalatesBlocksThePlanUntilItIsRetried() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let draft = PlanDraft(goal: "g", tasks: [
            TaskDraft(agent: "CTO", description: "stack", maxAttempts: 1),
            TaskDraft(agent: "CFO", description: "budget", maxAttempts: 1, after: [0]),
        ])
        let plan = try await temp.store.createPlan(draft, now: t0, origin: .daemon)
        let cto = try #require(try await temp.store.claimDueTasks(owner: "w", now: t0, leaseMilliseconds: 1, limit: 10).first).task
        let escalated = try await temp.store.updateTask(
            cto.taskID, .fail(error: "boom", permanent: false, retryDelayMilliseconds: 0), owner: "w", result: nil, now: t0,
            origin: worker)
        #expect(escalated.plan.status == .blocked)
        let retried = try await temp.store.updateTask(cto.taskID, .retry, owner: nil, result: nil, now: t0, origin: .daemon)
        #expect(retried.plan.status == .open)
        let again = try #require(try await temp.store.claimDueTasks(owner: "w", now: t0, leaseMilliseconds: 1, limit: 10).first)
        #expect(again.task.agent == "CTO")
        _ = try await temp.store.updateTask(again.task.taskID, .complete, owner: "w", result: result("CTO", "ok"), now: t0, origin: worker)
        let cfo = try #require(try await temp.store.claimDueTasks(owner: "w", now: t0, leaseMilliseconds: 1, limit: 10).first)
        #expect(cfo.task.agent == "CFO")
        let done = try await temp.store.updateTask(cfo.task.taskID, .complete, owner: "w", result: result("CFO", "ok"), now: t0, origin: worker)
        #expect(done.plan.status == .synthesizing)
        #expect(try await temp.store.plan(plan.plan.planID)?.status == .synthesizing)
    }

    @Test func aPlanTheCEOPlansGetsItsTasksLaterAndReplaysByKey() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let draft = PlanDraft(goal: "g", idempotencyKey: "k", tasks: [], needsPlanning: true, maxAttempts: 3)
        let created = try await temp.store.createPlan(draft, now: t0, origin: .daemon)
        #expect(created.plan.status == .planning)
        #expect(try await temp.store.plansAwaitingPlanning(limit: 10).map(\.planID) == [created.plan.planID])
        #expect(try await temp.store.plannedMaxAttempts(of: created.plan.planID) == 3)
        let planned = try await temp.store.addPlannedTasks(
            created.plan.planID, [TaskDraft(agent: "CTO", description: "x", maxAttempts: 3)], now: t0)
        #expect(planned.plan.status == .open)
        #expect(try await temp.store.events(of: created.plan.planID, task: nil, limit: 1).first?.kind == .planPlanned)
        let replay = try await temp.store.createPlan(draft, now: t0, origin: .daemon)
        #expect(!replay.created)
        #expect(replay.plan.planID == created.plan.planID)
        await #expect(throws: BoardError.self) {
            _ = try await temp.store.addPlannedTasks(created.plan.planID, [TaskDraft(agent: "CFO", description: "y", maxAttempts: 1)], now: t0)
        }
    }

    @Test func aCycleIsRefusedAndNothingIsStored() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let draft = PlanDraft(goal: "g", tasks: [
            TaskDraft(agent: "CTO", description: "a", maxAttempts: 1, after: [1]),
            TaskDraft(agent: "CFO", description: "b", maxAttempts: 1, after: [0]),
        ])
        await #expect {
            _ = try await temp.store.createPlan(draft, now: t0, origin: .daemon)
        } throws: { ($0 as? BoardError)?.message.contains("cycle") == true }
        #expect(try await temp.store.listPlans(status: nil, limit: 10, cursor: nil).plans.isEmpty)
    }
}

@Suite("SQLite store files")
struct StoreFileTests {
    @Test func reopeningKeepsEverything() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let plan = try await temp.store.createPlan(draft(), now: t0, origin: .daemon)
        try await temp.store.close()
        await #expect(throws: BoardError.self) { _ = try await temp.store.createPlan(draft(), now: t0, origin: .daemon) }
        let reopened = try SQLiteStateStore(configuration: StoreConfiguration(path: temp.path))
        #expect(try await reopened.plan(plan.plan.planID) == plan.plan)
        try await reopened.close()
    }

    @Test func oneStoreOwnsADatabaseAtATime() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        #expect {
            _ = try SQLiteStateStore(configuration: StoreConfiguration(path: temp.path))
        } throws: { ($0 as? BoardError)?.message.contains("in use by another boardd") == true }
        try await temp.store.close()
        let next = try SQLiteStateStore(configuration: StoreConfiguration(path: temp.path))
        try await next.close()
    }

    @Test func aDatabaseFromANewerVersionIsRefusedUntouched() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        try await temp.store.close()
        let queue = try DatabaseQueue(path: temp.path)
        try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99_from_the_future')") }
        try queue.close()
        func snapshot() throws -> [String: Data] {
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: temp.directory) {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: temp.directory + "/" + name))
            }
            return files
        }
        let before = try snapshot()
        #expect {
            _ = try SQLiteStateStore(configuration: StoreConfiguration(path: temp.path))
        } throws: { error in
            (error as? BoardError)?.message.contains("newer version of board") == true
        }
        let after = try snapshot()
        #expect(Set(after.keys) == Set(before.keys), "no file was created or removed")
        #expect(after["board.db"] == before["board.db"], "the database file is unchanged")
        #expect(after["board.db-wal"] == before["board.db-wal"], "the log is unchanged")
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect {
            _ = try SQLiteStateStore(configuration: StoreConfiguration(path: "/nonexistent-\(UUID().uuidString)/board.db"))
        } throws: { error in
            guard let error = error as? BoardError else { return false }
            return error.reason == .storage && error.message.contains("does not exist")
        }
    }

    @Test func hotQueriesUseTheirIndexes() throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let queue = try DatabaseQueue(path: temp.path)
        defer { try? queue.close() }
        let plans: [(String, String)] = [
            ("SELECT * FROM tasks WHERE state = 'pending' AND unmet_dependencies = 0 AND due_at <= '2030' ORDER BY due_at, seq LIMIT 4",
             "tasks_by_state"),
            ("SELECT count(*) FROM tasks WHERE state = 'in_progress'", "tasks_by_state"),
            ("SELECT * FROM tasks WHERE state = 'in_progress' ORDER BY seq", "tasks_by_state"),
            ("SELECT state, count(*) FROM tasks WHERE plan_id = 'plan_1' GROUP BY state", "tasks_by_plan"),
            ("SELECT * FROM events WHERE plan_id = 'plan_1' ORDER BY seq DESC LIMIT 10", "events_by_plan"),
            ("SELECT * FROM plans WHERE status = 'synthesizing' ORDER BY seq LIMIT 16", "plans_by_status"),
        ]
        try queue.read { db in
            for (sql, index) in plans {
                let detail = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: " | ")
                #expect(detail.contains(index), "\(sql) → \(detail)")
                #expect(!detail.contains("SCAN tasks") || detail.contains("USING"), "\(sql) → \(detail)")
            }
        }
    }
}
