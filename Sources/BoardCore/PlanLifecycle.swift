/// What happened to a plan as a whole.
public enum PlanCommand: Sendable, Equatable {
    /// The counts of its tasks changed.
    case tasksChanged(TaskCounts)
    case synthesisSucceeded
    case synthesisFailed(error: String)
    case retrySynthesis
    case cancel
}

/// A plan's next status and the event that records the change (`nil` when nothing changed).
public struct PlanTransition: Sendable, Equatable {
    public var from: PlanStatus
    public var to: PlanStatus
    public var event: EventKind?
}

/// The plan lifecycle, pure like the task lifecycle. See `PlanStatus` for the meaning of each state.
public enum PlanLifecycle {
    public static func apply(_ command: PlanCommand, to status: PlanStatus) throws(BoardError) -> PlanTransition {
        switch (status, command) {
        case let (_, .tasksChanged(counts)):
            let next = derived(from: counts, current: status)
            return PlanTransition(from: status, to: next, event: next == status ? nil : event(entering: next))
        case (.synthesizing, .synthesisSucceeded):
            return PlanTransition(from: status, to: .closed, event: .planClosed)
        case (.synthesizing, .synthesisFailed):
            return PlanTransition(from: status, to: .failed, event: .planFailed)
        case (.failed, .retrySynthesis):
            return PlanTransition(from: status, to: .synthesizing, event: .planSynthesizing)
        case (.open, .cancel), (.synthesizing, .cancel), (.blocked, .cancel), (.failed, .cancel):
            return PlanTransition(from: status, to: .cancelled, event: .planCancelled)
        case (_, .synthesisSucceeded), (_, .synthesisFailed):
            throw BoardError(.invalidState, "plan is \(status.rawValue); no synthesis is running")
        case (_, .retrySynthesis):
            throw BoardError(.invalidState, "plan is \(status.rawValue); only a failed synthesis can be retried")
        case (_, .cancel):
            throw BoardError(.invalidState, "plan is \(status.rawValue); cannot cancel it")
        }
    }

    private static func derived(from counts: TaskCounts, current: PlanStatus) -> PlanStatus {
        if current.isFinal { return current }
        if counts.pending + counts.inProgress > 0 { return .open }
        if counts.failed + counts.escalated > 0 { return .blocked }
        if counts.completed > 0 {
            // A failed synthesis stays failed until someone asks for it again.
            return current == .failed ? .failed : .synthesizing
        }
        return .cancelled
    }

    private static func event(entering status: PlanStatus) -> EventKind {
        switch status {
        case .open: .planReopened
        case .synthesizing: .planSynthesizing
        case .closed: .planClosed
        case .blocked: .planBlocked
        case .failed: .planFailed
        case .cancelled: .planCancelled
        }
    }
}
