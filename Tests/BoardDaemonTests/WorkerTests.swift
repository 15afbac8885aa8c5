import BoardAgents
import BoardCore
import BoardStore
import Foundation
import Logging
import Testing
@testable import BoardDaemon

@Suite("worker", .timeLimit(.minutes(1)))
struct WorkerTests {
    /// A `plan.create` replies before its claimed tasks start, so a client can cancel one in
    /// between: the cancel reaches the worker while the claim's slot is still reserved, and the
    /// attempt must then never begin (its agent could have side effects).
    @Test func aTaskCancelledBetweenItsClaimAndItsStartNeverRuns() async throws {
        let directory = NSTemporaryDirectory() + "board-worker-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Each agent leaves a file behind when it runs.
        func touching(_ name: String) -> JSONValue {
            ["backend": "command", "command": ["/bin/sh", "-c", .string("cat > /dev/null; touch '\(directory)/\(name)'; echo done")]]
        }
        let json: JSONValue = ["agents": ["CFO": touching("cfo-ran"), "CTO": touching("cto-ran")]]
        let configuration = try DaemonConfiguration.parse(Data(try JSONTextEncoder().encode(json).utf8), source: "test")
        let store = try SQLiteStateStore(configuration: StoreConfiguration(path: directory + "/board.db"))
        let worker = Worker(
            store: store, wake: WakeSignal(), configuration: configuration, owner: "worker-test", connections: .offline,
            metrics: Metrics(), logger: Logger(label: "worker-test"))
        let origin = ChangeOrigin(actor: "test")
        func createClaiming(_ role: String) async throws -> (PlanCreation, ClaimRequest) {
            guard let claim = await worker.reserveClaim(upTo: 1) else { throw WaitTimeout(what: "a free slot") }
            let draft = PlanDraft(goal: "goal", tasks: [TaskDraft(agent: role, description: "work", maxAttempts: 1)])
            let creation = try await store.createPlan(draft, now: .now(), origin: origin, claim: claim)
            #expect(creation.claimed.count == 1)
            return (creation, claim)
        }

        // The control: started without a cancel, the agent runs.
        let (running, runningClaim) = try await createClaiming("CTO")
        await worker.start(running.claimed, releasing: runningClaim)
        _ = try await eventually("the CTO agent to run") { FileManager.default.fileExists(atPath: directory + "/cto-ran") ? true : nil }
        // Its outcome write reserves the free slots while it runs.
        while await !worker.isIdle { try await Task.sleep(for: .milliseconds(10)) }

        let (cancelled, claim) = try await createClaiming("CFO")
        let taskID = cancelled.claimed[0].task.taskID
        let cancellation = try await store.cancelPlan(cancelled.plan.planID, now: .now(), origin: origin)
        #expect(cancellation.stoppedTasks == [taskID])
        for id in cancellation.stoppedTasks { await worker.cancel(id) }
        await worker.start(cancelled.claimed, releasing: claim)
        // A drain waits for every attempt that began (and records it), so after it a CFO
        // attempt would have left its file.
        await worker.drain(graceMilliseconds: 10_000)
        #expect(!FileManager.default.fileExists(atPath: directory + "/cfo-ran"))
        #expect(try await store.task(taskID)?.state == .cancelled)
        #expect(await worker.isIdle)
        try await store.close()
    }

    /// An outcome write claims the slots it frees, so only what it cannot do itself wakes the
    /// scheduler: a plan that moved (to synthesis here) and a task that did not complete.
    @Test func onlyOutcomesThatLeaveTheSchedulerWorkWakeIt() async throws {
        let directory = NSTemporaryDirectory() + "board-worker-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStateStore(configuration: StoreConfiguration(path: directory + "/board.db"))
        let origin = ChangeOrigin(actor: "test")
        let draft = PlanDraft(goal: "goal", tasks: ["CFO", "CTO"].map { TaskDraft(agent: $0, description: "work", maxAttempts: 2) })
        let claim = ClaimRequest(owner: "w", leaseMilliseconds: 60_000, limit: 2)
        let created = try await store.createPlan(draft, now: .now(), origin: origin, claim: claim)
        let ids = created.claimed.map(\.task.taskID)
        try #require(ids.count == 2)
        func record(_ id: TaskID, _ command: TaskCommand) async throws -> TaskUpdate {
            let result = AgentResult(agent: "CFO", codename: "cfo", backend: "noop", offline: true, summary: "done")
            let outcome = TaskOutcome(taskID: id, command: command, result: command == .complete ? result : nil)
            let recorded = try await store.recordOutcomes([outcome], owner: "w", now: .now(), origin: origin, claim: nil)
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
        try await store.close()
    }
}

/// Polls `probe` every 10 ms until it gives a value (or 30 s pass).
private func eventually<T>(_ what: String, _ probe: () throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if let value = try probe() { return value }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw WaitTimeout(what: what)
}

private struct WaitTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}
