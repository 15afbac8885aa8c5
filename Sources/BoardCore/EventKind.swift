/// Every kind of audit event. The raw values are stable: they are stored and returned to clients.
public enum EventKind: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case planCreated = "plan_created"
    case planPlanning = "plan_planning"
    case planPlanned = "plan_planned"
    case planSynthesizing = "plan_synthesizing"
    case planClosed = "plan_closed"
    case planBlocked = "plan_blocked"
    case planReopened = "plan_reopened"
    case planFailed = "plan_failed"
    case planCancelled = "plan_cancelled"

    case taskCreated = "task_created"
    case taskStarted = "task_started"
    case taskCompleted = "task_completed"
    case taskRetry = "task_retry"
    case taskFailed = "task_failed"
    case taskEscalated = "task_escalated"
    case taskCancelled = "task_cancelled"
    case taskRequeued = "task_requeued"
    case taskRecovered = "task_recovered"
    case taskInterrupted = "task_interrupted"

    public var description: String { rawValue }
}
