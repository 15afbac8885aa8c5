/// The stable method names of the control socket.
public enum Method: String, CaseIterable, Sendable {
    case ping
    case daemonStatus = "daemon.status"
    case planCreate = "plan.create"
    case planList = "plan.list"
    case planGet = "plan.get"
    case planCancel = "plan.cancel"
    case planResult = "plan.result"
    case planRetrySynthesis = "plan.retry_synthesis"
    case taskGet = "task.get"
    case taskCancel = "task.cancel"
    case taskRetry = "task.retry"
    case eventsList = "events.list"
    case configReload = "config.reload"
    case agentsList = "agents.list"
    case metricsGet = "metrics.get"
    case backupCreate = "backup.create"

    /// Methods that change state (and, once access control lands, need a privileged caller).
    public var isMutating: Bool {
        switch self {
        case .planCreate, .planCancel, .planRetrySynthesis, .taskCancel, .taskRetry, .configReload, .backupCreate: true
        case .ping, .daemonStatus, .planList, .planGet, .planResult, .taskGet, .eventsList, .agentsList, .metricsGet: false
        }
    }
}
