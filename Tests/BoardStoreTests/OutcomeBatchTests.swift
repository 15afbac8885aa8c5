import BoardCore
import Testing
@testable import BoardStore

@Suite("Outcomes recorded in batches")
struct OutcomeBatchTests {
    func result(_ agent: String) -> AgentResult {
        AgentResult(agent: agent, codename: agent.lowercased(), backend: "noop", offline: true, summary: "done by \(agent)")
    }

    /// A cancelled attempt can end after its task was retried and claimed again by the same
    /// worker: the task is in progress under the same owner, so only the attempt number tells the
    /// old attempt's outcome from the new one's.
    @Test func anOutcomeOfAnEarlierAttemptIsRefused() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        _ = try await temp.store.createPlan(draft(roles: ["CFO", "CTO"]), now: t0, origin: .daemon)
        let first = try #require(try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 1).first?.task)
        _ = try await temp.store.updateTask(first.taskID, .cancel(reason: "user"), owner: nil, result: nil, now: t0, origin: .daemon)
        _ = try await temp.store.updateTask(first.taskID, .retry, owner: nil, result: nil, now: t0, origin: .daemon)
        let reclaimed = try await temp.store.claimDueTasks(owner: "w1", now: t0.adding(milliseconds: 1), leaseMilliseconds: 1000, limit: 2)
        let second = try #require(reclaimed.first { $0.task.taskID == first.taskID }?.task)
        #expect(second.attempts == first.attempts + 1)

        let late = TaskOutcome(taskID: first.taskID, command: .complete, result: result("CFO"), attempt: first.attempts)
        let refused = try await temp.store.recordOutcomes([late], owner: "w1", now: t0.adding(milliseconds: 2), origin: worker)
        guard case let .failure(error) = refused[0] else {
            Issue.record("the earlier attempt's outcome was recorded")
            return
        }
        #expect(error.reason == .invalidState)
        #expect(try await temp.store.task(first.taskID)?.state == .inProgress)

        let own = TaskOutcome(taskID: first.taskID, command: .complete, result: result("CFO"), attempt: second.attempts)
        let accepted = try await temp.store.recordOutcomes([own], owner: "w1", now: t0.adding(milliseconds: 3), origin: worker)
        #expect(try accepted[0].get().task.state == .completed)
    }

    @Test func aBatchAppliesEachOutcomeAloneAndMovesEachPlanOnce() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        let first = try await temp.store.createPlan(draft(roles: ["CFO", "CTO"]), now: t0, origin: .daemon)
        let second = try await temp.store.createPlan(draft(roles: ["CMO", "COO"]), now: t0, origin: .daemon)
        let claimed = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 4).map(\.task)
        #expect(claimed.count == 4)
        // The person cancels the CMO task while its attempt runs: its report must be refused alone.
        let cmo = try #require(claimed.first { $0.agent == "CMO" })
        _ = try await temp.store.updateTask(cmo.taskID, .cancel(reason: "user"), owner: nil, result: nil, now: t0, origin: .daemon)

        let outcomes = claimed.map { TaskOutcome(taskID: $0.taskID, command: .complete, result: result($0.agent)) }
        let results = try await temp.store.recordOutcomes(outcomes, owner: "w1", now: t0.adding(milliseconds: 5), origin: worker)
        #expect(results.count == 4)
        for (task, outcome) in zip(claimed, results) {
            switch outcome {
            case let .success(update):
                #expect(task.agent != "CMO")
                #expect(update.task.taskID == task.taskID)
                #expect(update.task.state == .completed)
                #expect(update.task.result == result(task.agent))
                #expect(update.plan.planID == task.planID)
            case let .failure(error):
                #expect(task.agent == "CMO")
                #expect(error.reason == .invalidState)
            }
        }
        // Each plan moves once, reported with its last task of the batch (a cancelled task counts
        // as settled, so the second plan is done too).
        let transitions = results.compactMap { try? $0.get() }.compactMap { update in update.planTransition.map { (update.task.agent, $0.to) } }
        #expect(transitions.map(\.0) == ["CTO", "COO"])
        #expect(transitions.allSatisfy { $0.1 == .synthesizing })
        #expect(try await temp.store.plan(first.plan.planID)?.status == .synthesizing)
        #expect(try await temp.store.plan(second.plan.planID)?.status == .synthesizing)

        let stored = try #require(try await temp.store.task(cmo.taskID))
        #expect(stored.state == .cancelled)
        #expect(stored.result == nil, "the refused report left nothing behind")
        let events = try await temp.store.events(of: first.plan.planID, task: nil, limit: 100).map(\.kind)
        #expect(events.filter { $0 == .taskCompleted }.count == 2)
        #expect(events.filter { $0 == .planSynthesizing }.count == 1)
    }

    /// The slots a batch leaves are filled in the same write, with tasks that batch made ready.
    @Test func aBatchCanClaimTheNextTasksInTheSameWrite() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        var spec = draft(roles: ["CFO", "CTO", "CMO"])
        spec.tasks[1].after = [0]
        spec.tasks[2].after = [0]
        let plan = try await temp.store.createPlan(spec, now: t0, origin: .daemon)
        let first = try await temp.store.claimDueTasks(owner: "w1", now: t0, leaseMilliseconds: 1000, limit: 3)
        #expect(first.map(\.task.agent) == ["CFO"], "the others wait for it")
        let request = ClaimRequest(owner: "w1", leaseMilliseconds: 1000, limit: 1)
        let recorded = try await temp.store.recordOutcomes(
            [TaskOutcome(taskID: first[0].task.taskID, command: .complete, result: result("CFO"))], owner: "w1",
            now: t0.adding(milliseconds: 5), origin: worker, claim: request)
        #expect(recorded.results.count == 1)
        #expect((try? recorded.results[0].get())?.task.state == .completed)
        // CTO and CMO became ready in this write; the limit takes the first of them.
        #expect(recorded.claimed.map(\.task.agent) == ["CTO"])
        #expect(recorded.claimed.first?.task.state == .inProgress)
        #expect(recorded.claimed.first?.dependencyResults == [result("CFO")], "the claim sees the result stored in the same write")
        let states = try await temp.store.tasks(of: plan.plan.planID).map(\.state)
        #expect(states == [.completed, .inProgress, .pending])
        // Without a claim, nothing else moves.
        let second = try await temp.store.recordOutcomes(
            [TaskOutcome(taskID: recorded.claimed[0].task.taskID, command: .complete, result: result("CTO"))], owner: "w1",
            now: t0.adding(milliseconds: 9), origin: worker, claim: nil)
        #expect(second.claimed.isEmpty)
        #expect(try await temp.store.tasks(of: plan.plan.planID).map(\.state) == [.completed, .completed, .pending])
    }

    @Test func idsOfNewRowsIncreaseInCreationOrder() async throws {
        let temp = try TemporaryStore()
        defer { Task { await temp.remove() } }
        var planIDs: [PlanID] = []
        var taskIDs: [TaskID] = []
        for _ in 0..<20 {
            let creation = try await temp.store.createPlan(draft(roles: ["CFO", "CTO", "CMO"]), now: t0, origin: .daemon)
            planIDs.append(creation.plan.planID)
            taskIDs += creation.tasks.map(\.taskID)
        }
        #expect(planIDs == planIDs.sorted())
        #expect(taskIDs == taskIDs.sorted())
        #expect(Set(taskIDs).count == taskIDs.count)
        #expect(planIDs.allSatisfy { PlanID($0.rawValue) != nil && $0.rawValue.count == 21 }, "same shape as before")
        let events = try await temp.store.events(of: planIDs[0], task: nil, limit: 100)
        #expect(events.map(\.eventID) == events.map(\.eventID).sorted(by: >), "newest first is also the id order")
    }

    /// More ids in one millisecond than the counter holds, and a wall clock that goes back: the
    /// ids keep increasing and never repeat.
    @Test func idsKeepIncreasingPastTheCounterAndWhenTheClockGoesBack() {
        let sequence = IDSequence(counterBits: 4)
        let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
        var ids = (0..<40).map { _ in sequence.next(TaskID.self, at: now) }
        ids += (0..<5).map { _ in sequence.next(TaskID.self, at: now.adding(milliseconds: -60_000)) }
        ids.append(sequence.next(TaskID.self, at: now.adding(milliseconds: 5)))
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let millisecond = { (id: TaskID) in UInt64(id.rawValue.dropFirst(5), radix: 16)! >> 4 }
        #expect(millisecond(ids[0]) == 1_800_000_000_000)
        #expect(millisecond(ids[39]) > 1_800_000_000_000, "40 ids do not fit a 4-bit counter: the count spilled into later milliseconds")
        #expect(millisecond(ids[45]) == 1_800_000_000_005)
    }
}
