import PropertyBased
import Testing
@testable import BoardCore

/// Random sequences of operations, legal or not, applied the way the daemon applies them:
/// refused operations leave the task untouched.
@Suite("Task lifecycle properties")
struct TaskLifecyclePropertyTests {
    static func command(_ code: Int) -> TaskCommand {
        switch code % 10 {
        case 0: .claim
        case 1: .complete
        case 2: .fail(error: "transient \(code)", permanent: false, retryDelayMilliseconds: Int64(code % 5000))
        case 3: .fail(error: "permanent \(code)", permanent: true, retryDelayMilliseconds: 0)
        case 4: .escalate(reason: "review \(code)")
        case 5: .cancel(reason: "stop")
        case 6: .retry
        case 7: .recover
        case 8: .interrupt
        default: .passAgain(reason: "moderate \(code)")
        }
    }

    @Test func randomSequencesKeepTheInvariants() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...10_000).array(of: 1...120), Gen.int(in: 1...5)) { codes, maxAttempts in
            var task = TaskSnapshot(state: .pending, attempts: 0, maxAttempts: maxAttempts)
            var now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
            var starts = 0
            for code in codes {
                now = now.adding(milliseconds: 7)
                let command = Self.command(code)
                let before = task
                do {
                    let step = try TaskLifecycle.apply(command, to: task, now: now)
                    #expect(step.from == before.state)
                    task = step.task
                    if command == .claim { starts += 1 }
                } catch {
                    // A refused operation changes nothing.
                    #expect(task == before)
                    continue
                }
                #expect(task.attempts >= before.attempts, "attempts never decrease")
                #expect(task.maxAttempts >= before.maxAttempts, "the budget never shrinks")
                #expect(task.attempts == starts, "every start counts exactly one attempt")
                if task.state == .pending {
                    #expect(task.attempts < task.maxAttempts, "a pending task always has an attempt left")
                }
                if before.state == .completed {
                    Issue.record("a completed task changed by \(command)")
                }
                if before.state.isSettled, before.state != .completed {
                    #expect(command == .retry && task.state == .pending, "settled tasks move only by a manual retry")
                }
            }
        }
    }

    @Test func retryBackoffStaysWithinItsBounds() async {
        await propertyCheck(count: 300, input: Gen.int(in: 1...40), Gen.double(in: 0...1)) { attempt, unit in
            let policy = RetryPolicy(baseDelayMilliseconds: 1000, maxDelayMilliseconds: 60_000)
            let delay = policy.delay(afterAttempt: attempt, unit: unit)
            let ceiling = min(Int64(60_000), Int64(1000) << Int64(min(attempt - 1, 20)))
            #expect(delay >= ceiling / 2)
            #expect(delay <= ceiling)
        }
    }
}
