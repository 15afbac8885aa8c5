/// What happened to a plan as a whole.
public enum PlanCommand: Sendable, Equatable {
    /// The counts of its tasks changed.
    case tasksChanged(TaskCounts)
    case synthesisSucceeded
    case synthesisFailed(error: String)
    /// The CEO's decomposition produced these tasks.
    case planned(TaskCounts)
    case planningFailed(error: String)
    /// Try a failed plan again: its synthesis, or its planning when it never got tasks.
    case retryFailed(hasTasks: Bool)
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
        case (.planning, .tasksChanged):
            return PlanTransition(from: status, to: status, event: nil)
        case let (.planning, .planned(counts)):
            var next = derived(from: counts, current: .open)
            if next == .cancelled { next = .open }
            return PlanTransition(from: status, to: next, event: .planPlanned)
        case (.planning, .planningFailed):
            return PlanTransition(from: status, to: .failed, event: .planFailed)
        case let (_, .tasksChanged(counts)):
            let next = derived(from: counts, current: status)
            return PlanTransition(from: status, to: next, event: next == status ? nil : event(entering: next))
        case (.synthesizing, .synthesisSucceeded):
            return PlanTransition(from: status, to: .closed, event: .planClosed)
        case (.synthesizing, .synthesisFailed):
            return PlanTransition(from: status, to: .failed, event: .planFailed)
        case let (.failed, .retryFailed(hasTasks)):
            return hasTasks
                ? PlanTransition(from: status, to: .synthesizing, event: .planSynthesizing)
                : PlanTransition(from: status, to: .planning, event: .planPlanning)
        case (.planning, .cancel), (.open, .cancel), (.synthesizing, .cancel), (.blocked, .cancel), (.failed, .cancel):
            return PlanTransition(from: status, to: .cancelled, event: .planCancelled)
        case (_, .synthesisSucceeded), (_, .synthesisFailed):
            throw BoardError(.invalidState, "plan is \(status.rawValue); no synthesis is running")
        case (_, .planned), (_, .planningFailed):
            throw BoardError(.invalidState, "plan is \(status.rawValue); no planning is running")
        case (_, .retryFailed):
            throw BoardError(.invalidState, "plan is \(status.rawValue); only a failed plan can be retried")
        case (_, .cancel):
            throw BoardError(.invalidState, "plan is \(status.rawValue); cannot cancel it")
        }
    }

    private static func derived(from counts: TaskCounts, current: PlanStatus) -> PlanStatus {
        if current.isFinal { return current }
        if counts.runnable + counts.inProgress > 0 { return .open }
        // Tasks still waiting now wait on a dependency that failed, escalated or was cancelled.
        if counts.failed + counts.escalated + counts.waiting > 0 { return .blocked }
        if counts.completed > 0 {
            // A failed synthesis stays failed until someone asks for it again.
            return current == .failed ? .failed : .synthesizing
        }
        return .cancelled
    }

    private static func event(entering status: PlanStatus) -> EventKind {
        switch status {
        case .planning: .planPlanning
        case .open: .planReopened
        case .synthesizing: .planSynthesizing
        case .closed: .planClosed
        case .blocked: .planBlocked
        case .failed: .planFailed
        case .cancelled: .planCancelled
        }
    }
}
