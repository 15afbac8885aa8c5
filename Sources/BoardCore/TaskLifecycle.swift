/// The part of a task the lifecycle decides on.
public struct TaskSnapshot: Sendable, Equatable {
    public var state: TaskState
    /// Attempts started so far. Never decreases.
    public var attempts: Int
    /// The attempt budget. Grows when a person grants a retry or a shutdown interrupts an attempt.
    public var maxAttempts: Int
    public var lastError: String?
    /// When a pending task may run next; `nil` means now.
    public var notBefore: Timestamp?
    /// Extra passes asked for because an answer was only moderately confident.
    public var extraPasses: Int

    public init(
        state: TaskState, attempts: Int, maxAttempts: Int, lastError: String? = nil, notBefore: Timestamp? = nil, extraPasses: Int = 0
    ) {
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.lastError = lastError
        self.notBefore = notBefore
        self.extraPasses = extraPasses
    }

    public var attemptsLeft: Int { max(0, maxAttempts - attempts) }
}

/// What happened to a task, as reported by the worker, a person or the daemon's own recovery.
public enum TaskCommand: Sendable, Equatable {
    /// A worker starts an attempt.
    case claim
    /// The agent returned a usable result.
    case complete
    /// The attempt failed. `permanent` failures (a misconfigured agent, say) are not retried.
    case fail(error: String, permanent: Bool, retryDelayMilliseconds: Int64)
    /// The agent asks for human review.
    case escalate(reason: String)
    /// A person (or a plan cancel) stops the task.
    case cancel(reason: String)
    /// A person asks for another attempt.
    case retry
    /// The daemon found the task running after a crash; the attempt counts.
    case recover
    /// A graceful shutdown stopped the attempt; the attempt is given back.
    case interrupt
    /// The answer was usable but not confident enough: run another attempt now (needs one left).
    case passAgain(reason: String)

    public var name: String {
        switch self {
        case .claim: "claim"
        case .complete: "complete"
        case .fail: "fail"
        case .escalate: "escalate"
        case .cancel: "cancel"
        case .retry: "retry"
        case .recover: "recover"
        case .interrupt: "interrupt"
        case .passAgain: "pass again"
        }
    }
}

/// The outcome of one lifecycle step: the task's new state and the event to record with it.
public struct TaskTransition: Sendable, Equatable {
    public var from: TaskState
    public var task: TaskSnapshot
    public var event: EventKind
    /// A running attempt must be stopped (its result will be discarded either way).
    public var stopsRunningWork: Bool
    /// Why, when the command carried a reason that is not an error (a cancel's).
    public var reason: String? = nil
}

/// The task lifecycle as a pure state machine: the store and the worker carry out what it decides.
///
/// Legal moves: pending→in_progress (claim, attempts+1); in_progress→completed | failed |
/// escalated | cancelled, or back to pending (retry with backoff, crash recovery, interrupted
/// shutdown); pending→cancelled; failed | escalated | cancelled→pending (manual retry).
/// Invariant kept by every move: a pending task always has an attempt left.
public enum TaskLifecycle {
    public static func apply(_ command: TaskCommand, to task: TaskSnapshot, now: Timestamp) throws(BoardError) -> TaskTransition {
        var next = task
        switch (task.state, command) {
        case (.pending, .claim):
            next.state = .inProgress
            next.attempts += 1
            next.notBefore = nil
            return TaskTransition(from: task.state, task: next, event: .taskStarted, stopsRunningWork: false)

        case (.inProgress, .complete):
            next.state = .completed
            return TaskTransition(from: task.state, task: next, event: .taskCompleted, stopsRunningWork: false)

        case let (.inProgress, .fail(error, permanent, delay)):
            next.lastError = error
            if permanent {
                next.state = .failed
                return TaskTransition(from: task.state, task: next, event: .taskFailed, stopsRunningWork: false)
            }
            if task.attemptsLeft > 0 {
                next.state = .pending
                next.notBefore = now.adding(milliseconds: max(0, delay))
                return TaskTransition(from: task.state, task: next, event: .taskRetry, stopsRunningWork: false)
            }
            next.state = .escalated
            return TaskTransition(from: task.state, task: next, event: .taskEscalated, stopsRunningWork: false)

        case let (.inProgress, .escalate(reason)):
            next.state = .escalated
            next.lastError = reason
            return TaskTransition(from: task.state, task: next, event: .taskEscalated, stopsRunningWork: false)

        case let (.pending, .cancel(reason)), let (.inProgress, .cancel(reason)):
            next.state = .cancelled
            next.notBefore = nil
            return TaskTransition(
                from: task.state, task: next, event: .taskCancelled, stopsRunningWork: task.state == .inProgress, reason: reason)

        case (.failed, .retry), (.escalated, .retry), (.cancelled, .retry):
            next.state = .pending
            next.notBefore = nil
            next.maxAttempts = max(task.maxAttempts, task.attempts + 1)
            return TaskTransition(from: task.state, task: next, event: .taskRequeued, stopsRunningWork: false)

        case (.inProgress, .recover):
            next.notBefore = nil
            if task.attemptsLeft > 0 {
                next.state = .pending
            } else {
                next.state = .escalated
                next.lastError = "attempt \(task.attempts) was interrupted by a daemon crash and no attempts are left"
            }
            return TaskTransition(from: task.state, task: next, event: .taskRecovered, stopsRunningWork: false)

        case let (.inProgress, .passAgain(reason)) where task.attemptsLeft > 0:
            next.state = .pending
            next.notBefore = nil
            next.extraPasses += 1
            return TaskTransition(from: task.state, task: next, event: .taskRetry, stopsRunningWork: false, reason: reason)

        case (.inProgress, .interrupt):
            next.state = .pending
            next.notBefore = nil
            next.maxAttempts = task.maxAttempts + 1
            return TaskTransition(from: task.state, task: next, event: .taskInterrupted, stopsRunningWork: true)

        default:
            throw BoardError(.invalidState, "task is \(task.state.rawValue); cannot \(command.name) it")
        }
    }
}
