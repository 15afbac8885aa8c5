import BoardCore
import Foundation

/// A task to create as part of a plan.
public struct TaskDraft: Sendable, Equatable {
    public var agent: String
    public var description: String
    public var maxAttempts: Int
    /// Positions (in the plan's task list) of the tasks this one waits for.
    public var after: [Int]

    public init(agent: String, description: String, maxAttempts: Int, after: [Int] = []) {
        self.agent = agent
        self.description = description
        self.maxAttempts = maxAttempts
        self.after = after
    }
}

/// A plan to create, with its tasks.
public struct PlanDraft: Sendable, Equatable {
    public var goal: String
    public var context: String?
    public var idempotencyKey: String?
    public var tasks: [TaskDraft]
    /// No tasks yet: the CEO (a language model) will plan them; the plan starts `planning`.
    public var needsPlanning: Bool
    /// Attempts per task for tasks added by planning later.
    public var maxAttempts: Int

    public init(
        goal: String, context: String? = nil, idempotencyKey: String? = nil, tasks: [TaskDraft], needsPlanning: Bool = false,
        maxAttempts: Int = 2
    ) {
        self.goal = goal
        self.context = context
        self.idempotencyKey = idempotencyKey
        self.tasks = tasks
        self.needsPlanning = needsPlanning
        self.maxAttempts = maxAttempts
    }
}

public struct PlanCreation: Sendable, Equatable {
    public var plan: Plan
    /// As committed: a task claimed in the same transaction is already `in_progress` here.
    public var tasks: [BoardTask]
    /// False when the idempotency key matched an existing plan, which is returned instead.
    public var created: Bool
    /// Tasks claimed in the plan's own transaction (see ``ClaimRequest``), the oldest due first:
    /// not necessarily this plan's.
    public var claimed: [ClaimedTask] = []
}

/// Asks `createPlan` to claim due tasks in the same transaction, for a worker with free slots:
/// the new plan's first tasks then start without a second commit and a scheduler round.
public struct ClaimRequest: Sendable, Equatable {
    public var owner: String
    public var leaseMilliseconds: Int64
    public var limit: Int

    public init(owner: String, leaseMilliseconds: Int64, limit: Int) {
        self.owner = owner
        self.leaseMilliseconds = leaseMilliseconds
        self.limit = limit
    }
}

/// A page of a plan's events, newest first.
public struct EventPage: Sendable, Equatable {
    public var events: [BoardEvent]
    /// The `before` of the next (older) page: the oldest event of this one; `nil` when no older
    /// event matches.
    public var nextBefore: EventID?
}

public struct PlanPage: Sendable, Equatable {
    public var plans: [Plan]
    /// Pass back to get the next page; `nil` on the last page.
    public var nextCursor: String?
}

/// A task a worker now owns, with what the agent needs to know about its plan.
public struct ClaimedTask: Sendable, Equatable {
    public var task: BoardTask
    public var goal: String
    public var context: String?
    /// The results of the tasks it depended on, in dependency order, as context for its agent.
    public var dependencyResults: [AgentResult] = []
}

/// What one attempt came to, for `recordOutcomes`.
public struct TaskOutcome: Sendable, Equatable {
    public var taskID: TaskID
    public var command: TaskCommand
    /// Stored only when the command is `complete`.
    public let result: AgentResult?
    /// The attempt this outcome is of. With it, an outcome that arrives after the task has moved
    /// on to a later attempt (it was cancelled, retried and claimed again meanwhile, by the same
    /// owner) is refused with `invalid_state` instead of being taken for the later attempt's.
    public var attempt: Int?
    /// The result as stored, encoded here, by the caller: the store's one writer then has less to do.
    let encodedResult: String?

    public init(taskID: TaskID, command: TaskCommand, result: AgentResult? = nil, attempt: Int? = nil) {
        self.taskID = taskID
        self.command = command
        self.result = result
        self.attempt = attempt
        encodedResult = result.flatMap { try? JSONTextEncoder().encode($0) }
    }
}

/// The result of a task transition: the task as stored and its plan after the change.
public struct TaskUpdate: Sendable, Equatable {
    public var task: BoardTask
    public var transition: TaskTransition
    public var plan: Plan
    /// The plan's own transition, when the task change moved it (e.g. to `synthesizing`).
    public var planTransition: PlanTransition?
}

public struct PlanCancellation: Sendable, Equatable {
    public var plan: Plan
    /// Attempts that were running and must be stopped by the worker.
    public var stoppedTasks: [StoppedAttempt]
    public var cancelledTasks: Int
}

/// An attempt a cancel stopped. The worker stops exactly this attempt: a later one of the same
/// task (a person may retry a cancelled task) is not touched.
public struct StoppedAttempt: Sendable, Hashable {
    public var taskID: TaskID
    public var attempt: Int

    public init(taskID: TaskID, attempt: Int) {
        self.taskID = taskID
        self.attempt = attempt
    }

    public init(_ task: BoardTask) {
        self.init(taskID: task.taskID, attempt: task.attempts)
    }
}

/// Counts for status displays, computed from indexes (cheap even with millions of rows).
public struct StoreStatistics: Sendable, Equatable {
    public var openPlans = 0
    public var synthesizingPlans = 0
    public var blockedPlans = 0
    public var failedPlans = 0
    public var pendingTasks = 0
    public var runningTasks = 0

    public init() {}
}

public struct BackupSummary: Sendable, Equatable {
    public var bytes: Int64
    /// The copy's own integrity check: "ok" when sound.
    public var integrity: String
}

/// Who or what caused a change, recorded in the event's payload.
public struct ChangeOrigin: Sendable, Equatable {
    public var actor: String
    public var detail: [String: JSONValue]

    public init(actor: String, detail: [String: JSONValue] = [:]) {
        self.actor = actor
        self.detail = detail
    }

    public static let daemon = ChangeOrigin(actor: "daemon")
}

/// Durable state, spoken in domain operations. Every mutating operation commits the state change
/// together with its audit event, or nothing.
///
/// The daemon depends only on this protocol so a shared backend (PostgreSQL with
/// `FOR UPDATE SKIP LOCKED` claims) can replace SQLite without touching the runtime; that is why
/// claims carry an owner and a lease even though one SQLite daemon is the only owner today.
public protocol StateStore: Sendable {
    /// Creates the plan with its tasks and their events; with `claim`, also claims up to its
    /// limit of due tasks (in `claimDueTasks` order) in the same transaction.
    func createPlan(_ draft: PlanDraft, now: Timestamp, origin: ChangeOrigin, claim: ClaimRequest?) async throws -> PlanCreation
    func plan(_ id: PlanID) async throws -> Plan?
    /// Newest first, at most `limit` plans, fewer when their texts are large (see
    /// `SQLiteStateStore.planPageTextBudget`); `nextCursor` is nil on the last page.
    func listPlans(status: PlanStatus?, limit: Int, cursor: String?) async throws -> PlanPage
    func task(_ id: TaskID) async throws -> BoardTask?
    func tasks(of plan: PlanID) async throws -> [BoardTask]
    /// A plan and its tasks from one read transaction: the same moment for both, which two
    /// separate reads do not promise.
    func planWithTasks(_ id: PlanID) async throws -> (plan: Plan, tasks: [BoardTask])?
    /// Pending tasks in the order they will run (due first), due or not.
    func pendingTasks(limit: Int) async throws -> [BoardTask]
    func taskCounts(of plan: PlanID) async throws -> TaskCounts
    func attempts(of task: TaskID) async throws -> Int

    /// Claims up to `limit` due pending tasks for `owner`, counting an attempt for each.
    func claimDueTasks(owner: String, now: Timestamp, leaseMilliseconds: Int64, limit: Int) async throws -> [ClaimedTask]
    /// When the earliest pending task becomes due; `nil` when nothing is pending.
    func nextDueTime() async throws -> Timestamp?

    /// Applies a lifecycle command. With `owner`, the task must still be claimed by that owner
    /// (a worker's report on a task that was cancelled or reclaimed is refused with `invalid_state`).
    func updateTask(
        _ id: TaskID, _ command: TaskCommand, owner: String?, result: AgentResult?, now: Timestamp, origin: ChangeOrigin
    ) async throws -> TaskUpdate

    /// Records what many of `owner`'s attempts came to, in one write: each outcome is checked and
    /// applied on its own (a refused one, say of a task cancelled meanwhile, fails alone with
    /// `invalid_state`), and each plan touched is re-derived once, after its tasks. The plan's
    /// transition, if any, is reported with the last of its task updates.
    ///
    /// With `claim`, the same transaction then claims due tasks (as `claimDueTasks` would) for
    /// the slots these attempts left: the next tasks start without a commit of their own. A claim
    /// that fails leaves the outcomes recorded and claims nothing (the scheduler retries it).
    func recordOutcomes(_ outcomes: [TaskOutcome], owner: String, now: Timestamp, origin: ChangeOrigin, claim: ClaimRequest?)
        async throws -> RecordedOutcomes

    /// Cancels the plan and every pending or running task of it.
    func cancelPlan(_ id: PlanID, now: Timestamp, origin: ChangeOrigin) async throws -> PlanCancellation
    func plansAwaitingSynthesis(limit: Int) async throws -> [Plan]
    /// Plans waiting for the CEO to split them into tasks.
    func plansAwaitingPlanning(limit: Int) async throws -> [Plan]
    /// Adds the CEO's tasks to a `planning` plan and opens it, atomically.
    /// `origin`'s detail goes into the `plan_planned` event (the CEO's model usage, say).
    func addPlannedTasks(_ id: PlanID, _ tasks: [TaskDraft], now: Timestamp, origin: ChangeOrigin) async throws -> PlanCreation
    func failPlanning(_ id: PlanID, error: String, now: Timestamp) async throws -> Plan
    /// Attempts per task that a `planning` plan's tasks will get.
    func plannedMaxAttempts(of plan: PlanID) async throws -> Int
    /// Stores the final plan and closes the plan, atomically.
    func saveFinalPlan(_ finalPlan: FinalPlan, now: Timestamp) async throws -> Plan
    func failSynthesis(_ id: PlanID, error: String, now: Timestamp) async throws -> Plan
    /// Tries a failed plan again: its synthesis, or its planning if it has no tasks.
    func retrySynthesis(_ id: PlanID, now: Timestamp, origin: ChangeOrigin) async throws -> Plan
    func finalPlan(of plan: PlanID) async throws -> FinalPlan?

    func recordEvent(plan: PlanID, task: TaskID?, kind: EventKind, payload: JSONValue, now: Timestamp) async throws -> BoardEvent
    /// Newest first; with `before`, only events written before that one (a page further back).
    /// `before` must be an event of the plan (`not_found` otherwise). A page may end before
    /// `limit` (its payloads' size is bounded); `nextBefore` says whether more events follow.
    func eventPage(of plan: PlanID, task: TaskID?, before: EventID?, limit: Int) async throws -> EventPage

    /// Tasks currently `in_progress`, oldest claim first.
    func runningTasks() async throws -> [BoardTask]
    /// At start-up: every task still `in_progress` was interrupted by a crash; recover each.
    func recoverInterruptedTasks(now: Timestamp) async throws -> [TaskUpdate]
    func statistics() async throws -> StoreStatistics
    /// A consistent online copy of the whole store at `path` (which must not exist), checked after writing.
    func backup(to path: String) async throws -> BackupSummary
    /// Gives back memory kept for speed: the committing connection's page cache, which refills
    /// on use. For a daemon gone idle.
    func releaseMemory() async
    /// Flushes and closes; later calls fail with `unavailable`.
    func close() async throws
}

/// What `recordOutcomes` did: one result per outcome, in order, and the tasks it claimed.
public struct RecordedOutcomes: Sendable {
    public var results: [Result<TaskUpdate, BoardError>]
    public var claimed: [ClaimedTask]
    /// The claim failed (and claimed nothing); the outcomes are recorded all the same.
    public var claimFailed = false

    public init(results: [Result<TaskUpdate, BoardError>], claimed: [ClaimedTask], claimFailed: Bool = false) {
        self.results = results
        self.claimed = claimed
        self.claimFailed = claimFailed
    }
}

extension StateStore {
    public func addPlannedTasks(_ id: PlanID, _ tasks: [TaskDraft], now: Timestamp) async throws -> PlanCreation {
        try await addPlannedTasks(id, tasks, now: now, origin: .daemon)
    }

    public func recordOutcomes(_ outcomes: [TaskOutcome], owner: String, now: Timestamp, origin: ChangeOrigin) async throws
        -> [Result<TaskUpdate, BoardError>]
    {
        try await recordOutcomes(outcomes, owner: owner, now: now, origin: origin, claim: nil).results
    }

    public func createPlan(_ draft: PlanDraft, now: Timestamp, origin: ChangeOrigin) async throws -> PlanCreation {
        try await createPlan(draft, now: now, origin: origin, claim: nil)
    }
}
