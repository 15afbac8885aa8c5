import Testing
@testable import BoardCore

@Suite("Task dependencies")
struct TaskGraphTests {
    func refusal(_ names: [String], _ after: [[Int]]) -> String? {
        do {
            _ = try TaskGraph.order(names: names, after: after)
            return nil
        } catch {
            #expect(error.reason == .invalidArgument)
            return error.message
        }
    }

    @Test func ordersTasksAfterWhatTheyWaitFor() throws {
        let order = try TaskGraph.order(names: ["CTO", "CFO", "CMO", "COO"], after: [[], [0], [0, 1], []])
        #expect(Set(order) == [0, 1, 2, 3])
        func position(_ task: Int) -> Int { order.firstIndex(of: task) ?? -1 }
        #expect(position(0) < position(1))
        #expect(position(1) < position(2))
    }

    @Test func refusesCyclesNamingThem() {
        #expect(refusal(["CFO", "CTO"], [[1], [0]]) == "the task dependencies form a cycle: CFO (task 0) → CTO (task 1) → CFO (task 0)")
        #expect(refusal(["A", "B", "C"], [[], [2], [1]])?.contains("B (task 1) → C (task 2) → B (task 1)") == true)
        #expect(refusal(["A"], [[0]]) == "task 0 (A) depends on itself")
        #expect(refusal(["A", "B"], [[5], []]) == "task 0 (A) depends on task 5, which does not exist (positions count from 0)")
        #expect(refusal(["A"], []) != nil)
    }

    @Test func waitingTasksBlockAPlanOnlyWhenNothingElseCanRun() throws {
        var counts = TaskCounts()
        counts.pending = 2
        counts.waiting = 1
        #expect(try PlanLifecycle.apply(.tasksChanged(counts), to: .open).to == .open, "one pending task can still run")
        counts.waiting = 2
        counts.cancelled = 1
        let step = try PlanLifecycle.apply(.tasksChanged(counts), to: .open)
        #expect(step.to == .blocked, "both wait on a task that will not complete")
        #expect(counts.runnable == 0)
    }
}
