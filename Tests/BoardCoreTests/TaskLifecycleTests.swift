import Testing
@testable import BoardCore

@Suite("Task lifecycle")
struct TaskLifecycleTests {
    let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    func snapshot(_ state: TaskState, attempts: Int = 0, max: Int = 2) -> TaskSnapshot {
        TaskSnapshot(state: state, attempts: attempts, maxAttempts: max)
    }

    @Test func claimStartsAnAttempt() throws {
        let step = try TaskLifecycle.apply(.claim, to: snapshot(.pending), now: now)
        #expect(step.task.state == .inProgress)
        #expect(step.task.attempts == 1)
        #expect(step.event == .taskStarted)
        #expect(step.from == .pending)
    }

    @Test func completeFinishesTheTask() throws {
        let step = try TaskLifecycle.apply(.complete, to: snapshot(.inProgress, attempts: 1), now: now)
        #expect(step.task.state == .completed)
        #expect(step.event == .taskCompleted)
        #expect(step.task.attempts == 1)
    }

    @Test func failureWithAttemptsLeftRetriesAfterBackoff() throws {
        let step = try TaskLifecycle.apply(
            .fail(error: "boom", permanent: false, retryDelayMilliseconds: 1500), to: snapshot(.inProgress, attempts: 1), now: now)
        #expect(step.task.state == .pending)
        #expect(step.event == .taskRetry)
        #expect(step.task.lastError == "boom")
        #expect(step.task.notBefore == now.adding(milliseconds: 1500))
    }

    @Test func failureOnTheLastAttemptEscalates() throws {
        let step = try TaskLifecycle.apply(
            .fail(error: "boom", permanent: false, retryDelayMilliseconds: 10), to: snapshot(.inProgress, attempts: 2), now: now)
        #expect(step.task.state == .escalated)
        #expect(step.event == .taskEscalated)
        #expect(step.task.lastError == "boom")
    }

    @Test func permanentFailureIsNotRetried() throws {
        let step = try TaskLifecycle.apply(
            .fail(error: "no such agent", permanent: true, retryDelayMilliseconds: 0), to: snapshot(.inProgress, attempts: 1),
            now: now)
        #expect(step.task.state == .failed)
        #expect(step.event == .taskFailed)
    }

    @Test func agentCanAskForHumanReview() throws {
        let step = try TaskLifecycle.apply(.escalate(reason: "needs a lawyer"), to: snapshot(.inProgress, attempts: 1), now: now)
        #expect(step.task.state == .escalated)
        #expect(step.task.lastError == "needs a lawyer")
    }

    @Test(arguments: [TaskState.pending, .inProgress])
    func cancelStopsPendingAndRunningTasks(_ state: TaskState) throws {
        let step = try TaskLifecycle.apply(.cancel(reason: "x"), to: snapshot(state, attempts: state == .pending ? 0 : 1), now: now)
        #expect(step.task.state == .cancelled)
        #expect(step.event == .taskCancelled)
        #expect(step.stopsRunningWork == (state == .inProgress))
        #expect(step.reason == "x")
    }

    @Test(arguments: [TaskState.failed, .escalated, .cancelled])
    func manualRetryGrantsAnotherAttempt(_ state: TaskState) throws {
        let step = try TaskLifecycle.apply(.retry, to: snapshot(state, attempts: 2, max: 2), now: now)
        #expect(step.task.state == .pending)
        #expect(step.event == .taskRequeued)
        #expect(step.task.attempts == 2)
        #expect(step.task.maxAttempts == 3)
        #expect(step.task.notBefore == nil)
    }

    @Test func manualRetryKeepsALargerBudget() throws {
        let step = try TaskLifecycle.apply(.retry, to: snapshot(.cancelled, attempts: 0, max: 5), now: now)
        #expect(step.task.maxAttempts == 5)
    }

    @Test func recoveryCountsTheInterruptedAttempt() throws {
        let again = try TaskLifecycle.apply(.recover, to: snapshot(.inProgress, attempts: 1, max: 2), now: now)
        #expect(again.task.state == .pending)
        #expect(again.task.attempts == 1)
        #expect(again.event == .taskRecovered)
        let exhausted = try TaskLifecycle.apply(.recover, to: snapshot(.inProgress, attempts: 2, max: 2), now: now)
        #expect(exhausted.task.state == .escalated)
        #expect(exhausted.task.lastError?.contains("crash") == true)
        #expect(exhausted.event == .taskRecovered)
    }

    @Test func interruptGivesTheAttemptBack() throws {
        let step = try TaskLifecycle.apply(.interrupt, to: snapshot(.inProgress, attempts: 2, max: 2), now: now)
        #expect(step.task.state == .pending)
        #expect(step.task.attempts == 2)
        #expect(step.task.maxAttempts == 3)
        #expect(step.event == .taskInterrupted)
        #expect(step.stopsRunningWork)
    }

    static let commands: [TaskCommand] = [
        .claim, .complete, .fail(error: "e", permanent: false, retryDelayMilliseconds: 1),
        .fail(error: "e", permanent: true, retryDelayMilliseconds: 1), .escalate(reason: "r"), .cancel(reason: "c"), .retry,
        .recover, .interrupt,
    ]

    static func isLegal(_ state: TaskState, _ command: TaskCommand) -> Bool {
        switch (state, command) {
        case (.pending, .claim), (.pending, .cancel): true
        case (.inProgress, .complete), (.inProgress, .fail), (.inProgress, .escalate), (.inProgress, .cancel),
             (.inProgress, .recover), (.inProgress, .interrupt): true
        case (.failed, .retry), (.escalated, .retry), (.cancelled, .retry): true
        default: false
        }
    }

    @Test func everyOtherMoveIsRefusedNamingTheCurrentState() {
        var refused = 0
        for state in TaskState.allCases {
            for command in Self.commands where !Self.isLegal(state, command) {
                let task = snapshot(state, attempts: 1, max: 2)
                #expect {
                    try TaskLifecycle.apply(command, to: task, now: now)
                } throws: { error in
                    guard let error = error as? BoardError else { return false }
                    return error.reason == .invalidState && error.message.contains("task is \(state.rawValue)")
                        && error.message.contains(command.name)
                }
                refused += 1
            }
        }
        // 6 states × 9 commands, of which 12 are legal (the two kinds of failure count separately);
        // "pass again" is covered by the confidence policy tests.
        #expect(refused == 6 * 9 - 12)
    }

    @Test func completedTasksNeverChange() {
        for command in Self.commands {
            #expect(throws: BoardError.self) { try TaskLifecycle.apply(command, to: snapshot(.completed, attempts: 1), now: now) }
        }
    }
}

@Suite("Plan lifecycle")
struct PlanLifecycleTests {
    func counts(pending: Int = 0, running: Int = 0, completed: Int = 0, failed: Int = 0, escalated: Int = 0, cancelled: Int = 0)
        -> TaskCounts
    {
        var counts = TaskCounts()
        counts.pending = pending
        counts.inProgress = running
        counts.completed = completed
        counts.failed = failed
        counts.escalated = escalated
        counts.cancelled = cancelled
        return counts
    }

    @Test func openWhileWorkRemains() throws {
        let step = try PlanLifecycle.apply(.tasksChanged(counts(pending: 1, completed: 3, escalated: 1)), to: .open)
        #expect(step.to == .open)
        #expect(step.event == nil)
    }

    @Test func allSettledWithACompletionSynthesizes() throws {
        let step = try PlanLifecycle.apply(.tasksChanged(counts(completed: 3, cancelled: 1)), to: .open)
        #expect(step.to == .synthesizing)
        #expect(step.event == .planSynthesizing)
    }

    @Test func failedOrEscalatedWithNothingToRunBlocks() throws {
        let step = try PlanLifecycle.apply(.tasksChanged(counts(completed: 3, escalated: 1)), to: .open)
        #expect(step.to == .blocked)
        #expect(step.event == .planBlocked)
    }

    @Test func retryReopensABlockedPlan() throws {
        let step = try PlanLifecycle.apply(.tasksChanged(counts(pending: 1, completed: 3)), to: .blocked)
        #expect(step.to == .open)
        #expect(step.event == .planReopened)
    }

    @Test func allCancelledCancelsThePlan() throws {
        let step = try PlanLifecycle.apply(.tasksChanged(counts(cancelled: 2)), to: .open)
        #expect(step.to == .cancelled)
    }

    @Test func synthesisOutcomes() throws {
        #expect(try PlanLifecycle.apply(.synthesisSucceeded, to: .synthesizing).to == .closed)
        #expect(try PlanLifecycle.apply(.synthesisFailed(error: "x"), to: .synthesizing).to == .failed)
        #expect(try PlanLifecycle.apply(.retryFailed(hasTasks: true), to: .failed).to == .synthesizing)
        #expect(try PlanLifecycle.apply(.retryFailed(hasTasks: false), to: .failed).to == .planning)
        #expect(throws: BoardError.self) { try PlanLifecycle.apply(.retryFailed(hasTasks: true), to: .open) }
        #expect(throws: BoardError.self) { try PlanLifecycle.apply(.synthesisSucceeded, to: .open) }
    }

    @Test func aFailedSynthesisStaysFailedUntilRetried() throws {
        #expect(try PlanLifecycle.apply(.tasksChanged(counts(completed: 2)), to: .failed).to == .failed)
    }

    @Test func finalPlansNeverChange() throws {
        for status in [PlanStatus.closed, .cancelled] {
            #expect(try PlanLifecycle.apply(.tasksChanged(counts(pending: 1)), to: status).to == status)
            #expect(throws: BoardError.self) { try PlanLifecycle.apply(.cancel, to: status) }
        }
    }

    @Test(arguments: [PlanStatus.open, .synthesizing, .blocked, .failed])
    func cancelFromAnyLiveStatus(_ status: PlanStatus) throws {
        let step = try PlanLifecycle.apply(.cancel, to: status)
        #expect(step.to == .cancelled)
        #expect(step.event == .planCancelled)
    }
}

@Suite("Confidence policy")
struct ConfidencePolicyTests {
    let policy = ConfidencePolicy()

    @Test func highConfidenceAndUnstatedConfidenceAreAccepted() {
        #expect(policy.judge(confidence: 0.8, attemptsLeft: 1, extraPasses: 0) == .accept)
        #expect(policy.judge(confidence: nil, attemptsLeft: 0, extraPasses: 0) == .accept)
    }

    @Test func moderateConfidenceGetsExactlyOneMorePassWhileAttemptsRemain() {
        guard case .passAgain = policy.judge(confidence: 0.6, attemptsLeft: 1, extraPasses: 0) else {
            Issue.record("expected one more pass")
            return
        }
        #expect(policy.judge(confidence: 0.6, attemptsLeft: 1, extraPasses: 1) == .accept, "at most one extra pass")
        #expect(policy.judge(confidence: 0.79, attemptsLeft: 0, extraPasses: 0) == .accept, "no attempt left")
    }

    @Test func uncertainOutputIsRetriedThenEscalated() {
        guard case .retry = policy.judge(confidence: 0.3, attemptsLeft: 1, extraPasses: 0) else {
            Issue.record("expected a retry")
            return
        }
        guard case let .escalate(reason) = policy.judge(confidence: 0.3, attemptsLeft: 0, extraPasses: 1) else {
            Issue.record("expected escalation")
            return
        }
        #expect(reason.contains("needs human review"))
        #expect(reason.contains("0.3"))
    }

    @Test func passAgainNeedsAnAttemptAndCountsThePass() throws {
        let task = TaskSnapshot(state: .inProgress, attempts: 1, maxAttempts: 2)
        let step = try TaskLifecycle.apply(.passAgain(reason: "moderate"), to: task, now: Timestamp(millisecondsSinceEpoch: 0))
        #expect(step.task.state == .pending)
        #expect(step.task.extraPasses == 1)
        #expect(step.event == .taskRetry)
        #expect(step.reason == "moderate")
        #expect(throws: BoardError.self) {
            try TaskLifecycle.apply(.passAgain(reason: "x"), to: TaskSnapshot(state: .inProgress, attempts: 2, maxAttempts: 2), now: .init(millisecondsSinceEpoch: 0))
        }
    }
}
