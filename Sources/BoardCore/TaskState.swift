/// The six states of a task. The raw values are the wire and database spelling.
public enum TaskState: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case pending
    case inProgress = "in_progress"
    case completed
    case failed
    case escalated
    case cancelled

    /// Nothing more happens to the task unless a person retries it.
    public var isSettled: Bool {
        switch self {
        case .pending, .inProgress: false
        case .completed, .failed, .escalated, .cancelled: true
        }
    }

    public var description: String { rawValue }
}

/// The states of a plan.
///
/// `open` while tasks can run; `synthesizing` once every task has settled with at least one
/// completed and none failed or escalated (the CEO is writing the final plan; recorded so a crash
/// mid-synthesis resumes it); `closed` with a final plan; `blocked` when failed or escalated
/// tasks remain, or tasks wait on a dependency that will not complete, and nothing else can run
/// (a retry or a cancel moves it on); `failed` when synthesis failed (retryable); `cancelled` by
/// a person, or when every task was cancelled.
public enum PlanStatus: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// The CEO (a language model) is still splitting the goal into tasks.
    case planning
    case open
    case synthesizing
    case closed
    case blocked
    case failed
    case cancelled

    /// A plan in one of these states never changes again.
    public var isFinal: Bool { self == .closed || self == .cancelled }

    public var description: String { rawValue }
}

/// Counts of a plan's tasks by state.
public struct TaskCounts: Sendable, Equatable, Codable {
    public var pending = 0
    public var inProgress = 0
    public var completed = 0
    public var failed = 0
    public var escalated = 0
    public var cancelled = 0
    /// Pending tasks that cannot run yet because a task they depend on has not completed
    /// (a subset of `pending`).
    public var waiting = 0

    public init() {}

    /// Pending tasks that may be claimed now or after their backoff.
    public var runnable: Int { pending - waiting }

    public subscript(state: TaskState) -> Int {
        get {
            switch state {
            case .pending: pending
            case .inProgress: inProgress
            case .completed: completed
            case .failed: failed
            case .escalated: escalated
            case .cancelled: cancelled
            }
        }
        set {
            switch state {
            case .pending: pending = newValue
            case .inProgress: inProgress = newValue
            case .completed: completed = newValue
            case .failed: failed = newValue
            case .escalated: escalated = newValue
            case .cancelled: cancelled = newValue
            }
        }
    }

    public var total: Int { TaskState.allCases.reduce(0) { $0 + self[$1] } }

    enum CodingKeys: String, CodingKey {
        case pending, inProgress = "in_progress", completed, failed, escalated, cancelled, waiting
    }
}
