import BoardAgents
import BoardCore
import BoardStore
import BoardTestSupport
import Foundation
import Logging
import Testing
@testable import BoardDaemon

@Suite("worker", .timeLimit(.minutes(1)))
struct WorkerTests {
    /// A worker on a fresh store whose CFO and CTO are commands that leave a file behind.
    struct Fixture {
        let directory: String
        let store: SQLiteStateStore
        let worker: Worker
        let origin = ChangeOrigin(actor: "test")

        /// `agents` replaces roles' agents; it gets the fixture's directory, for the files they leave.
        init(concurrency: Int = 4, agents: (_ directory: String) -> [String: JSONValue] = { _ in [:] }) throws {
            let directory = NSTemporaryDirectory() + "board-worker-" + UUID().uuidString
            self.directory = directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            func touching(_ name: String) -> JSONValue {
                ["backend": "command", "command": ["/bin/sh", "-c", .string("cat > /dev/null; touch '\(directory)/\(name)'; echo done")]]
            }
            var roles: [String: JSONValue] = ["CFO": touching("cfo-ran"), "CTO": touching("cto-ran")]
            roles.merge(agents(directory)) { _, new in new }
            let json: JSONValue = ["agents": .object(roles), "scheduler": ["concurrency": .int(Int64(concurrency))]]
            let configuration = try DaemonConfiguration.parse(Data(try JSONTextEncoder().encode(json).utf8), source: "test")
            store = try SQLiteStateStore(configuration: StoreConfiguration(path: directory + "/board.db"))
            worker = Worker(
                store: store, wake: WakeSignal(), configuration: configuration, owner: "worker-test", connections: .offline,
                metrics: Metrics(), logger: Logger(label: "worker-test"))
        }

        func ran(_ role: String) -> Bool { FileManager.default.fileExists(atPath: "\(directory)/\(role.lowercased())-ran") }

        /// A plan whose first task a claim took, as `plan.create` does.
        func createClaiming(_ role: String, then others: [String] = []) async throws -> (PlanCreation, ClaimRequest) {
            let claim = try #require(await worker.reserveClaim(upTo: 1))
            let draft = PlanDraft(goal: "goal", tasks: ([role] + others).map { TaskDraft(agent: $0, description: "work", maxAttempts: 1) })
            let creation = try await store.createPlan(draft, now: .now(), origin: origin, claim: claim)
            #expect(creation.claimed.count == 1)
            return (creation, claim)
        }

        func waitUntilIdle() async throws {
            _ = try await eventually("the worker to be idle") { await worker.isIdle ? true : nil }
        }

        func remove() async {
            try? await store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// A `plan.create` replies before its claimed tasks start, so a client can cancel one in
    /// between: the cancel reaches the worker while the claim's slot is still reserved, and the
    /// attempt must then never begin (its agent could have side effects).
    @Test func aTaskCancelledBetweenItsClaimAndItsStartNeverRuns() async throws {
        let fixture = try Fixture()
        let (store, worker) = (fixture.store, fixture.worker)

        // The control: started without a cancel, the agent runs.
        let (running, runningClaim) = try await fixture.createClaiming("CTO")
        await worker.start(running.claimed, releasing: runningClaim)
        _ = try await eventually("the CTO agent to run") { fixture.ran("CTO") ? true : nil }
        // Its outcome write reserves the free slots while it runs.
        try await fixture.waitUntilIdle()

        let (cancelled, claim) = try await fixture.createClaiming("CFO")
        let task = cancelled.claimed[0].task
        let cancellation = try await store.cancelPlan(cancelled.plan.planID, now: .now(), origin: fixture.origin)
        #expect(cancellation.stoppedTasks == [StoppedAttempt(taskID: task.taskID, attempt: 1)])
        for attempt in cancellation.stoppedTasks { await worker.cancel(attempt) }
        let skipped = await worker.start(cancelled.claimed, releasing: claim)
        #expect(skipped == 1)
        // A drain waits for every attempt that began (and records it), so after it a CFO
        // attempt would have left its file.
        await worker.drain(graceMilliseconds: 10_000)
        #expect(!fixture.ran("CFO"))
        #expect(try await store.task(task.taskID)?.state == .cancelled)
        #expect(await worker.isIdle)
        await fixture.remove()
    }

    /// A claim handed over after the drain's grace period (a `plan.create` whose follow-up
    /// outlasted it) starts no agent: its task is interrupted back to pending, its attempt given
    /// back, like a running attempt's at that point.
    @Test func aClaimHandedOverAfterTheGracePeriodStartsNoAgent() async throws {
        let fixture = try Fixture()
        let (store, worker) = (fixture.store, fixture.worker)
        let (created, claim) = try await fixture.createClaiming("CFO")
        let task = created.claimed[0].task
        await worker.drain(graceMilliseconds: 0)
        await worker.start(created.claimed, releasing: claim)
        let after = try await eventually("the task to be interrupted") {
            try await store.task(task.taskID).flatMap { $0.state == .pending ? $0 : nil }
        }
        #expect(after.maxAttempts == task.maxAttempts + 1, "the interrupted attempt is given back")
        try await fixture.waitUntilIdle()
        #expect(!fixture.ran("CFO"))
        await fixture.remove()
    }

    /// A cancel that reaches the worker late, after the attempt it stopped has already ended, is
    /// kept while another claim is in flight; it must not stop a later attempt of the same task
    /// (a person retried it).
    @Test func aLateCancelDoesNotStopALaterAttempt() async throws {
        let fixture = try Fixture()
        let (store, worker) = (fixture.store, fixture.worker)
        // Another claimer's reservation, in flight throughout.
        let other = try #require(await worker.reserveClaim(upTo: 1))

        // A second task keeps the plan open when the first is cancelled (so it can be retried).
        let (created, claim) = try await fixture.createClaiming("CFO", then: ["CTO"])
        let task = created.claimed[0].task
        await worker.start([], releasing: claim)  // as if its attempt had run and ended
        let cancel = try await store.updateTask(
            task.taskID, .cancel(reason: "test"), owner: nil, result: nil, now: .now(), origin: fixture.origin)
        #expect(cancel.transition.stopsRunningWork)
        await worker.cancel(StoppedAttempt(cancel.task))

        _ = try await store.updateTask(task.taskID, .retry, owner: nil, result: nil, now: .now(), origin: fixture.origin)
        let again = try #require(await worker.reserveClaim(upTo: 2))
        let claimed = try await store.claimDueTasks(owner: again.owner, now: .now(), leaseMilliseconds: 60_000, limit: 2)
        #expect(claimed.first { $0.task.taskID == task.taskID }?.task.attempts == 2)
        #expect(await worker.start(claimed, releasing: again) == 0)
        _ = try await eventually("the retried CFO attempt to run") { fixture.ran("CFO") ? true : nil }

        await worker.start([], releasing: other)
        try await fixture.waitUntilIdle()
        #expect(try await store.task(task.taskID)?.state == .completed)
        await fixture.remove()
    }

    /// An answer of moderate confidence gets another pass at once, and the write that records
    /// the first attempt claims the second in the same transaction. The second attempt must stay
    /// tracked (a drain waits for it), although it has the same task id as the outcome just
    /// recorded.
    @Test func anAttemptClaimedByItsOwnTasksOutcomeWriteStaysTracked() async throws {
        func script(_ directory: String) -> String { """
            cat > /dev/null
            if [ -e '\(directory)/first-done' ]; then
                touch '\(directory)/second-started'; sleep 1; touch '\(directory)/second-finished'
                echo '{"summary": "sure now", "confidence": 0.9}'
            else
                touch '\(directory)/first-done'; echo '{"summary": "not sure", "confidence": 0.6}'
            fi
            """
        }
        let fixture = try Fixture { ["CFO": ["backend": "command", "command": ["/bin/sh", "-c", .string(script($0))]]] }
        let directory = fixture.directory
        let (store, worker) = (fixture.store, fixture.worker)
        let claim = try #require(await worker.reserveClaim(upTo: 1))
        let draft = PlanDraft(goal: "goal", tasks: [TaskDraft(agent: "CFO", description: "work", maxAttempts: 2)])
        let created = try await store.createPlan(draft, now: .now(), origin: fixture.origin, claim: claim)
        await worker.start(created.claimed, releasing: claim)
        let taskID = try #require(created.claimed.first).task.taskID

        _ = try await eventually("the second pass to start") {
            FileManager.default.fileExists(atPath: directory + "/second-started") ? true : nil
        }
        await worker.drain(graceMilliseconds: 20_000)
        #expect(FileManager.default.fileExists(atPath: directory + "/second-finished"), "the drain did not wait for the second pass")
        let task = try await store.task(taskID)
        #expect(task?.state == .completed)
        #expect(task?.attempts == 2)
        await fixture.remove()
    }

    /// A cancelled attempt can take a while to stop (its process ignores SIGTERM until the grace
    /// period's SIGKILL), and a person can retry the task meanwhile. The old attempt still holds a
    /// slot until it ends, a drain waits for it, and when it ends its outcome is dropped, not
    /// recorded against the new attempt (which has the same owner).
    @Test func aCancelledAttemptThatEndsLateDoesNotSpeakForTheNextOne() async throws {
        // The second attempt answers only once the first one's process is gone (and a little
        // later, so that the worker has seen it end).
        func script(_ directory: String) -> String { """
            cat > /dev/null
            if [ -e '\(directory)/first.pid' ]; then
                touch '\(directory)/second-started'
                while kill -0 "$(cat '\(directory)/first.pid')" 2>/dev/null; do sleep 0.05; done
                sleep 0.5; echo second attempt
            else
                echo $$ > '\(directory)/first.pid.tmp' && mv '\(directory)/first.pid.tmp' '\(directory)/first.pid'
                trap '' TERM; sleep 30; echo first attempt
            fi
            """
        }
        let fixture = try Fixture { ["CFO": ["backend": "command", "command": ["/bin/sh", "-c", .string(script($0))]]] }
        let directory = fixture.directory
        let (store, worker, origin) = (fixture.store, fixture.worker, fixture.origin)
        // The CTO task, which waits for the CFO task, keeps the plan open while the CFO task is
        // cancelled, and is never due meanwhile.
        let claim = try #require(await worker.reserveClaim(upTo: 1))
        let draft = PlanDraft(goal: "goal", tasks: [
            TaskDraft(agent: "CFO", description: "work", maxAttempts: 1), TaskDraft(agent: "CTO", description: "work", maxAttempts: 1, after: [0]),
        ])
        let created = try await store.createPlan(draft, now: .now(), origin: origin, claim: claim)
        await worker.start(created.claimed, releasing: claim)
        let taskID = try #require(created.claimed.first).task.taskID
        _ = try await eventually("the first attempt to start") {
            FileManager.default.fileExists(atPath: directory + "/first.pid") ? true : nil
        }

        let cancel = try await store.updateTask(taskID, .cancel(reason: "test"), owner: nil, result: nil, now: .now(), origin: origin)
        await worker.cancel(StoppedAttempt(cancel.task))
        _ = try await store.updateTask(taskID, .retry, owner: nil, result: nil, now: .now(), origin: origin)
        let again = try #require(await worker.reserveClaim(upTo: 1))
        let claimed = try await store.claimDueTasks(owner: again.owner, now: .now(), leaseMilliseconds: 60_000, limit: 1)
        #expect(claimed.map(\.task.taskID) == [taskID])
        await worker.start(claimed, releasing: again)
        _ = try await eventually("the second attempt to start") {
            FileManager.default.fileExists(atPath: directory + "/second-started") ? true : nil
        }
        // Both hold a slot: the first until its process is gone (SIGKILL ~2 s after the cancel).
        #expect(await worker.runningCount == 2)
        await worker.drain(graceMilliseconds: 20_000)
        let task = try await store.task(taskID)
        #expect(task?.state == .completed)
        #expect(task?.attempts == 2)
        #expect(task?.result?.summary == "second attempt")
        #expect(await worker.isIdle)
        await fixture.remove()
    }

    /// `needsScheduler(_:)`: which single outcomes leave the scheduler work. A completion that
    /// leaves its plan open does not; a retry (a new due time) and a plan that moved do.
    @Test func whichOutcomesLeaveTheSchedulerWork() async throws {
        let fixture = try Fixture()
        let store = fixture.store
        let draft = PlanDraft(goal: "goal", tasks: ["CFO", "CTO"].map { TaskDraft(agent: $0, description: "work", maxAttempts: 2) })
        let claim = ClaimRequest(owner: "w", leaseMilliseconds: 60_000, limit: 2)
        let created = try await store.createPlan(draft, now: .now(), origin: fixture.origin, claim: claim)
        let ids = created.claimed.map(\.task.taskID)
        try #require(ids.count == 2)
        func record(_ id: TaskID, _ command: TaskCommand) async throws -> TaskUpdate {
            let result = AgentResult(agent: "CFO", codename: "cfo", backend: "noop", offline: true, summary: "done")
            let outcome = TaskOutcome(taskID: id, command: command, result: command == .complete ? result : nil)
            let recorded = try await store.recordOutcomes([outcome], owner: "w", now: .now(), origin: fixture.origin, claim: nil)
            return try recorded.results[0].get()
        }

        let completed = try await record(ids[0], .complete)
        #expect(completed.task.state == .completed && completed.plan.status == .open)
        #expect(!Worker.needsScheduler(completed), "a completion that leaves the plan open: nothing for the scheduler")

        let retried = try await record(ids[1], .fail(error: "flaky", permanent: false, retryDelayMilliseconds: 60_000))
        #expect(retried.task.state == .pending)
        #expect(Worker.needsScheduler(retried), "a retry sets a new due time")

        let again = try await store.claimDueTasks(owner: "w", now: .now().adding(milliseconds: 120_000), leaseMilliseconds: 60_000, limit: 1)
        try #require(again.count == 1)
        let last = try await record(ids[1], .complete)
        #expect(last.plan.status == .synthesizing)
        #expect(Worker.needsScheduler(last), "the plan waits for the CEO's synthesis")

        // A whole write: quiet only when it claimed what it could and left no slot to others.
        let quiet = RecordedOutcomes(results: [.success(completed)], claimed: again)
        #expect(!Worker.needsScheduler(after: quiet, claimLimit: 1, skipped: 0, slotsLeft: 0))
        #expect(!Worker.needsScheduler(after: quiet, claimLimit: 2, skipped: 0, slotsLeft: 3), "a partial claim: nothing more was due")
        #expect(Worker.needsScheduler(after: quiet, claimLimit: 1, skipped: 0, slotsLeft: 1), "a full claim and a free slot: more may be due")
        #expect(Worker.needsScheduler(after: quiet, claimLimit: nil, skipped: 0, slotsLeft: 0), "no claim of its own")
        #expect(Worker.needsScheduler(after: quiet, claimLimit: 1, skipped: 1, slotsLeft: 0), "a claimed task cancelled before it started")
        let failedClaim = RecordedOutcomes(results: [.success(completed)], claimed: [], claimFailed: true)
        #expect(Worker.needsScheduler(after: failedClaim, claimLimit: 1, skipped: 0, slotsLeft: 0))
        let refused = RecordedOutcomes(results: [.failure(BoardError(.storage, "disk full"))], claimed: [])
        #expect(Worker.needsScheduler(after: refused, claimLimit: 1, skipped: 0, slotsLeft: 0))
        let cancelledMeanwhile = RecordedOutcomes(results: [.failure(BoardError(.invalidState, "cancelled"))], claimed: [])
        #expect(!Worker.needsScheduler(after: cancelledMeanwhile, claimLimit: 1, skipped: 0, slotsLeft: 0))
        await fixture.remove()
    }
}
