import BoardCore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// How hard SQLite works to make each commit durable.
public enum SynchronousMode: String, Sendable, CaseIterable {
    /// Every commit reaches the disk before it is acknowledged (survives power loss).
    case full
    /// Commits survive a daemon crash; the last few may be lost on power loss. Much faster on slow disks.
    case normal

    /// What `PRAGMA synchronous` reports for the mode.
    var sqliteLevel: Int {
        switch self {
        case .full: 2
        case .normal: 1
        }
    }
}

public struct StoreConfiguration: Sendable, Equatable {
    public var path: String
    public var synchronous: SynchronousMode
    /// How long a write waits for a lock held by another process before failing with `storage`.
    public var busyTimeoutSeconds: Double

    public init(path: String, synchronous: SynchronousMode = .full, busyTimeoutSeconds: Double = 5) {
        self.path = path
        self.synchronous = synchronous
        self.busyTimeoutSeconds = busyTimeoutSeconds
    }
}

/// The embedded backend: one SQLite database in WAL mode. Writes go through a single group-commit
/// writer; reads run concurrently on the pool's reader connections.
public final class SQLiteStateStore: StateStore {
    public let configuration: StoreConfiguration
    private let pool: DatabasePool
    private let writer: GroupCommitWriter
    /// Using a closed GRDB pool is a programming error that crashes; this turns it into an error.
    private let closed = Atomic<Bool>(false)
    /// Holds the exclusive claim on the database file for the store's lifetime.
    private let ownership: DatabaseOwnership

    /// Opens (creating if needed) and migrates the database.
    /// A database written by a newer version of board is refused and left untouched.
    public init(configuration: StoreConfiguration) throws {
        // Before any connection of this process opens, or SQLite refuses them.
        _ = SQLiteProcessSettings.applied
        self.configuration = configuration
        let path = configuration.path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw BoardError(.storage, "cannot open database at \(path): directory \(directory) does not exist")
        }
        // Before anything reads or recovers state: a second daemon on the same database would
        // re-queue the first one's running tasks.
        ownership = try DatabaseOwnership(path: path)
        try Self.refuseNewerSchema(at: path)

        var config = Configuration()
        config.busyMode = .timeout(configuration.busyTimeoutSeconds)
        config.foreignKeysEnabled = true
        let synchronous = configuration.synchronous.rawValue.uppercased()
        let checkpoints = WALCheckpoints()
        config.prepareDatabase { db in checkpoints.install(on: db) }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB's pool switches its writer to WAL mode *after* `prepareDatabase`, and sets
            // `synchronous = NORMAL` while doing so: without this, `full` (the default) was never
            // in force and no commit was fsynced (only checkpoints were). Set it again on the
            // writer, the only connection that commits (the readers are opened read-only), before
            // the migrations commit anything, and read it back.
            let level = try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                // Each operation of a group commit runs in a savepoint, and SQLite keeps the
                // pages a savepoint may have to restore in a statement journal that spills to a
                // temporary file (in /var/tmp) past 64 KiB. Under load that was most of the
                // writer's system calls (19 writes a task, 17 of them to that file) and a fifth
                // of the throughput. The journal is never synced and dies with the transaction:
                // memory is its place. Bounded by one operation's pages: it is emptied whenever
                // the savepoint is released.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard level == configuration.synchronous.sqliteLevel else {
                try? pool.close()
                throw BoardError(.storage, "SQLite did not accept synchronous = \(synchronous) (it reports level \(level.map(String.init) ?? "none"))")
            }
            // The read-only check above cannot see a newer schema still in the WAL of a crashed
            // newer daemon; look again, now with the log, before migrating anything.
            if try pool.read({ db in try Schema.migrator.hasBeenSuperseded(db) }) {
                try pool.close()
                throw Self.newerSchemaError(path)
            }
            try Schema.migrator.migrate(pool)
        } catch let error as BoardError {
            throw error
        } catch {
            throw BoardError(.storage, "cannot open database at \(path): \(Self.describe(error))")
        }
        writer = GroupCommitWriter(pool: pool, checkpoints: checkpoints)
    }

    /// Checks the schema through an immutable read-only connection first, so that a refused
    /// file is left exactly as it was (not even a `-wal` or `-shm` file appears beside it).
    private static func refuseNewerSchema(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        var config = Configuration()
        config.readonly = true
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["?", "#", "%"])) ?? path
        do {
            let queue = try DatabaseQueue(path: "file:" + encoded + "?immutable=1", configuration: config)
            let superseded = try queue.read { db -> Bool in
                guard try db.tableExists("grdb_migrations") else { return false }
                return try Schema.migrator.hasBeenSuperseded(db)
            }
            try queue.close()
            if superseded { throw newerSchemaError(path) }
        } catch let error as BoardError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            // Read without its log, the file can look damaged: a checkpoint cut short (a crash, a
            // full disk) leaves some of the log's pages in it. The check after opening, with the log, decides.
            return
        } catch {
            throw BoardError(.storage, "cannot open database at \(path): \(describe(error))")
        }
    }

    private static func newerSchemaError(_ path: String) -> BoardError {
        BoardError(.storage, "the database at \(path) was written by a newer version of board; refusing to open it (it was not modified)")
    }

    private static func describe(_ error: any Error) -> String {
        if let database = error as? DatabaseError { return database.message ?? "\(database.resultCode)" }
        return "\(error)"
    }

    // MARK: Plans

    public func createPlan(_ draft: PlanDraft, now: Timestamp, origin: ChangeOrigin, claim: ClaimRequest?) async throws -> PlanCreation {
        // SQLite's text binding stops at a NUL, so such text could not be returned byte-exact: refuse it.
        let texts = [draft.goal, draft.context ?? "", draft.idempotencyKey ?? ""] + draft.tasks.flatMap { [$0.agent, $0.description] }
        if texts.contains(where: { $0.utf8.contains(0) }) {
            throw BoardError(.invalidArgument, "plan text must not contain NUL characters")
        }
        _ = try TaskGraph.order(names: draft.tasks.map(\.agent), after: draft.tasks.map(\.after))
        return try await writer.perform { db in
            if let key = draft.idempotencyKey,
               let row = try fetchRow(db, sql: "SELECT * FROM plans WHERE idempotency_key = ?", arguments: [key]) {
                let existing = try Self.plan(from: row)
                let tasks = try Self.tasks(of: existing.planID, db)
                // A plan the CEO model planned got its tasks later: only the goal and context identify it.
                guard existing.goal == draft.goal, existing.context == draft.context,
                      draft.needsPlanning || tasks.map(\.agent) == draft.tasks.map(\.agent)
                else {
                    throw BoardError(.conflict, """
                        idempotency key \(key) was already used for plan \(existing.planID) with a different goal, context or agents
                        """)
                }
                return PlanCreation(plan: existing, tasks: tasks, created: false)
            }
            let status: PlanStatus = draft.needsPlanning ? .planning : (draft.tasks.isEmpty ? .cancelled : .open)
            let plan = Plan(
                planID: Self.ids.next(at: now), goal: draft.goal, context: draft.context, status: status,
                idempotencyKey: draft.idempotencyKey, lastError: nil, createdAt: now, updatedAt: now, closedAt: nil)
            try execute(
                db,
                sql: """
                    INSERT INTO plans (plan_id, goal, context, status, idempotency_key, max_attempts, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [plan.planID.rawValue, plan.goal, plan.context, plan.status.rawValue, plan.idempotencyKey,
                            draft.maxAttempts, now.iso8601, now.iso8601])
            var payload = origin.detail
            payload["actor"] = .string(origin.actor)
            payload["tasks"] = .int(Int64(draft.tasks.count))
            if draft.needsPlanning { payload["planning"] = true }
            try Self.insertEvent(db, plan: plan.planID, task: nil, kind: .planCreated, payload: .object(payload), now: now)
            var tasks = try Self.insertTasks(draft.tasks, into: plan.planID, now: now, db)
            var claimed: [ClaimedTask] = []
            if let claim, claim.limit > 0 {
                claimed = try Self.claimDue(owner: claim.owner, now: now, leaseMilliseconds: claim.leaseMilliseconds, limit: claim.limit, db)
                let states = Dictionary(claimed.map { ($0.task.taskID, $0.task) }, uniquingKeysWith: { first, _ in first })
                tasks = tasks.map { states[$0.taskID] ?? $0 }
            }
            return PlanCreation(plan: plan, tasks: tasks, created: true, claimed: claimed)
        }
    }

    public func plan(_ id: PlanID) async throws -> Plan? {
        try await read { db in
            try fetchRow(db, sql: "SELECT * FROM plans WHERE plan_id = ?", arguments: [id.rawValue]).map(Self.plan(from:))
        }
    }

    public func listPlans(status: PlanStatus?, limit: Int, cursor: String?) async throws -> PlanPage {
        let before: Int64
        if let cursor {
            guard let value = Int64(cursor), value > 0 else {
                throw BoardError(.invalidArgument, "cursor must be a next_cursor value from a previous page")
            }
            before = value
        } else {
            before = .max
        }
        let pageSize = max(1, min(limit, 1000))
        return try await read { db in
            let (sql, arguments): (String, StatementArguments) =
                if let status {
                    ("SELECT * FROM plans WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?", [status.rawValue, before, pageSize + 1])
                } else {
                    ("SELECT * FROM plans WHERE seq < ? ORDER BY seq DESC LIMIT ?", [before, pageSize + 1])
                }
            let page = try fetchPage(db, sql: sql, arguments: arguments, limit: pageSize, byteBudget: Self.planPageTextBudget) { row in
                let plan = try Self.plan(from: row)
                let seq: Int64 = row["seq"]
                return ((plan, seq), plan.goal.utf8.count + (plan.context?.utf8.count ?? 0))
            }
            return PlanPage(plans: page.items.map(\.0), nextCursor: page.more ? page.items.last.map { String($0.1) } : nil)
        }
    }

    /// A page of `plan.list` ends early, with a cursor to the rest, once its plans' goals and
    /// contexts pass this many bytes (one plan per page at least). Both may be 1 MiB: a page of a
    /// thousand such plans would have been a reply of gigabytes, built in the daemon's memory.
    static let planPageTextBudget = 8 << 20

    public func cancelPlan(_ id: PlanID, now: Timestamp, origin: ChangeOrigin) async throws -> PlanCancellation {
        try await writer.perform { db in
            var plan = try Self.requirePlan(id, db)
            let transition = try PlanLifecycle.apply(.cancel, to: plan.status)
            var stopped: [StoppedAttempt] = []
            var cancelled = 0
            for var task in try Self.tasks(of: id, db) where !task.state.isSettled {
                let step = try TaskLifecycle.apply(.cancel(reason: "plan cancelled"), to: task.snapshot, now: now)
                try Self.store(step, into: &task, result: nil, now: now, origin: origin, db)
                if step.stopsRunningWork { stopped.append(StoppedAttempt(task)) }
                cancelled += 1
            }
            try Self.store(transition, into: &plan, error: nil, now: now, origin: origin, db)
            return PlanCancellation(plan: plan, stoppedTasks: stopped, cancelledTasks: cancelled)
        }
    }

    public func plansAwaitingSynthesis(limit: Int) async throws -> [Plan] {
        try await oldestPlans(in: .synthesizing, limit: limit)
    }

    public func saveFinalPlan(_ finalPlan: FinalPlan, now: Timestamp) async throws -> Plan {
        let content = try Self.encoder.encode(finalPlan)
        return try await writer.perform { db in
            var plan = try Self.requirePlan(finalPlan.planID, db)
            let transition = try PlanLifecycle.apply(.synthesisSucceeded, to: plan.status)
            try execute(
                db,
                sql: "INSERT OR REPLACE INTO final_plans (plan_id, content, created_at) VALUES (?, ?, ?)",
                arguments: [plan.planID.rawValue, content, now.iso8601])
            try Self.store(transition, into: &plan, error: nil, now: now, origin: .daemon, db)
            return plan
        }
    }

    public func failSynthesis(_ id: PlanID, error: String, now: Timestamp) async throws -> Plan {
        try await writer.perform { db in
            var plan = try Self.requirePlan(id, db)
            let transition = try PlanLifecycle.apply(.synthesisFailed(error: error), to: plan.status)
            try Self.store(transition, into: &plan, error: error, now: now, origin: .daemon, db)
            return plan
        }
    }

    public func retrySynthesis(_ id: PlanID, now: Timestamp, origin: ChangeOrigin) async throws -> Plan {
        try await writer.perform { db in
            var plan = try Self.requirePlan(id, db)
            let hasTasks = (try Int.fetchOne(db, sql: "SELECT count(*) FROM tasks WHERE plan_id = ?", arguments: [id.rawValue]) ?? 0) > 0
            let transition = try PlanLifecycle.apply(.retryFailed(hasTasks: hasTasks), to: plan.status)
            try Self.store(transition, into: &plan, error: nil, now: now, origin: origin, db)
            return plan
        }
    }

    public func plansAwaitingPlanning(limit: Int) async throws -> [Plan] {
        try await oldestPlans(in: .planning, limit: limit)
    }

    /// The oldest plans in a status, for the CEO's work queues (uses `plans_by_status`).
    private func oldestPlans(in status: PlanStatus, limit: Int) async throws -> [Plan] {
        try await read { db in
            try fetchRows(
                db, sql: "SELECT * FROM plans WHERE status = ? ORDER BY seq LIMIT ?", arguments: [status.rawValue, limit]
            ).map(Self.plan(from:))
        }
    }

    public func plannedMaxAttempts(of plan: PlanID) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT max_attempts FROM plans WHERE plan_id = ?", arguments: [plan.rawValue]) ?? 2
        }
    }

    public func addPlannedTasks(_ id: PlanID, _ drafts: [TaskDraft], now: Timestamp, origin: ChangeOrigin) async throws -> PlanCreation {
        _ = try TaskGraph.order(names: drafts.map(\.agent), after: drafts.map(\.after))
        return try await writer.perform { db in
            var plan = try Self.requirePlan(id, db)
            guard plan.status == .planning else {
                throw BoardError(.invalidState, "plan is \(plan.status.rawValue); it is not waiting for planning")
            }
            let tasks = try Self.insertTasks(drafts, into: id, now: now, db)
            let transition = try PlanLifecycle.apply(.planned(try Self.counts(of: id, db)), to: plan.status)
            try Self.store(transition, into: &plan, error: nil, now: now, origin: origin, db)
            return PlanCreation(plan: plan, tasks: tasks, created: true)
        }
    }

    public func failPlanning(_ id: PlanID, error: String, now: Timestamp) async throws -> Plan {
        try await writer.perform { db in
            var plan = try Self.requirePlan(id, db)
            let transition = try PlanLifecycle.apply(.planningFailed(error: error), to: plan.status)
            try Self.store(transition, into: &plan, error: error, now: now, origin: .daemon, db)
            return plan
        }
    }

    public func finalPlan(of plan: PlanID) async throws -> FinalPlan? {
        let content = try await read { db in
            try String.fetchOne(db, sql: "SELECT content FROM final_plans WHERE plan_id = ?", arguments: [plan.rawValue])
        }
        guard let content else { return nil }
        return try Self.decoder.decode(FinalPlan.self, fromJSON: content)
    }

    // MARK: Tasks

    public func task(_ id: TaskID) async throws -> BoardTask? {
        try await read { db in
            try fetchRow(db, sql: "SELECT * FROM tasks WHERE task_id = ?", arguments: [id.rawValue]).map(Self.task(from:))
        }
    }

    public func tasks(of plan: PlanID) async throws -> [BoardTask] {
        try await read { db in try Self.tasks(of: plan, db) }
    }

    public func planWithTasks(_ id: PlanID) async throws -> (plan: Plan, tasks: [BoardTask])? {
        try await read { db in
            guard let row = try fetchRow(db, sql: "SELECT * FROM plans WHERE plan_id = ?", arguments: [id.rawValue]) else {
                return nil
            }
            return (try Self.plan(from: row), try Self.tasks(of: id, db))
        }
    }

    public func pendingTasks(limit: Int) async throws -> [BoardTask] {
        try await read { db in
            try fetchRows(
                db, sql: "SELECT * FROM tasks WHERE state = 'pending' ORDER BY due_at, seq LIMIT ?", arguments: [limit]
            ).map(Self.task(from:))
        }
    }

    public func taskCounts(of plan: PlanID) async throws -> TaskCounts {
        try await read { db in try Self.counts(of: plan, db) }
    }

    public func attempts(of task: TaskID) async throws -> Int {
        let value = try await read { db in
            try Int.fetchOne(db, sql: "SELECT attempts FROM tasks WHERE task_id = ?", arguments: [task.rawValue])
        }
        guard let value else { throw BoardError.notFound("task", task.rawValue) }
        return value
    }

    public func claimDueTasks(owner: String, now: Timestamp, leaseMilliseconds: Int64, limit: Int) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        return try await writer.perform { db in
            try Self.claimDue(owner: owner, now: now, leaseMilliseconds: leaseMilliseconds, limit: limit, db)
        }
    }

    /// Claims due, ready tasks, oldest due first, inside the caller's transaction.
    private static func claimDue(owner: String, now: Timestamp, leaseMilliseconds: Int64, limit: Int, _ db: Database) throws
        -> [ClaimedTask]
    {
        // Read in full before the first update: the updates change the rows this query walks.
        let due = try fetchDecoded(
            db,
            sql: """
                SELECT * FROM tasks WHERE state = 'pending' AND unmet_dependencies = 0 AND due_at <= ?
                ORDER BY due_at, seq LIMIT ?
                """,
            arguments: [now.iso8601, limit], Self.task(from:))
        // Each plan's goal and context read once and shared by its claimed tasks: a context may be
        // megabytes, and a join copied it out of SQLite once per task (64 copies for a plan of 64).
        var plans: [PlanID: (goal: String, context: String?)] = [:]
        for task in due where plans[task.planID] == nil {
            plans[task.planID] = try fetchDecoded(
                db, sql: "SELECT goal, context FROM plans WHERE plan_id = ?", arguments: [task.planID.rawValue]
            ) { row -> (goal: String, context: String?) in (row[0], row[1]) }.first
        }
        var claimed: [ClaimedTask] = []
        claimed.reserveCapacity(due.count)
        let lease = now.adding(milliseconds: leaseMilliseconds)
        for var task in due {
            // A task without its plan (possible only in a database edited with foreign keys off)
            // stays unclaimed, as the join left it, rather than stopping every claim.
            guard let (goal, context) = plans[task.planID] else { continue }
            let step = try TaskLifecycle.apply(.claim, to: task.snapshot, now: now)
            task.claimOwner = owner
            task.leaseExpiresAt = lease
            try Self.store(step, into: &task, result: nil, now: now, origin: ChangeOrigin(actor: owner), db)
            var claim = ClaimedTask(task: task, goal: goal, context: context)
            if !task.dependsOn.isEmpty {
                claim.dependencyResults = try fetchDecoded(
                    db,
                    sql: """
                        SELECT t.* FROM task_dependencies d JOIN tasks t ON t.task_id = d.depends_on
                        WHERE d.task_id = ? ORDER BY t.position
                        """,
                    arguments: [task.taskID.rawValue], Self.task(from:)
                ).compactMap(\.result)
            }
            claimed.append(claim)
        }
        return claimed
    }

    public func nextDueTime() async throws -> Timestamp? {
        try await read { db in
            try String.fetchOne(
                db, sql: "SELECT due_at FROM tasks WHERE state = 'pending' AND unmet_dependencies = 0 ORDER BY due_at, seq LIMIT 1")
                .flatMap(Timestamp.init(iso8601:))
        }
    }

    public func updateTask(
        _ id: TaskID, _ command: TaskCommand, owner: String?, result: AgentResult?, now: Timestamp, origin: ChangeOrigin
    ) async throws -> TaskUpdate {
        try await writer.perform { db in
            let (task, step) = try Self.apply(
                command, to: id, owner: owner, result: result, encodedResult: nil, now: now, origin: origin, db)
            let (plan, planTransition) = try Self.refreshPlan(task.planID, now: now, origin: origin, db)
            return TaskUpdate(task: task, transition: step, plan: plan, planTransition: planTransition)
        }
    }

    /// One task's transition with its event: reads the task, checks the claim (with `owner`)
    /// and, for a retry, the plan; applies the lifecycle and stores the result. The plan's status
    /// is the caller's to re-derive.
    private static func apply(
        _ command: TaskCommand, to id: TaskID, owner: String?, attempt: Int? = nil, result: AgentResult?, encodedResult: String?,
        now: Timestamp, origin: ChangeOrigin, _ db: Database
    ) throws -> (BoardTask, TaskTransition) {
        guard var task = try fetchDecoded(db, sql: "SELECT * FROM tasks WHERE task_id = ?", arguments: [id.rawValue], Self.task(from:)).first
        else {
            throw BoardError.notFound("task", id.rawValue)
        }
        if let owner, task.state != .inProgress || task.claimOwner != owner {
            throw BoardError(.invalidState, "task is \(task.state.rawValue); the result of this attempt was discarded")
        }
        if let attempt, task.attempts != attempt {
            throw BoardError(.invalidState, "attempt \(attempt) ended after attempt \(task.attempts) began; its result was discarded")
        }
        if command == .retry {
            let plan = try Self.requirePlan(task.planID, db)
            if plan.status.isFinal {
                throw BoardError(.invalidState, "plan \(plan.planID) is \(plan.status.rawValue); its tasks cannot be retried")
            }
        }
        let step = try TaskLifecycle.apply(command, to: task.snapshot, now: now)
        let complete = command == .complete
        try Self.store(
            step, into: &task, result: complete ? result : nil, encodedResult: complete ? encodedResult : nil, now: now,
            origin: origin, db)
        return (task, step)
    }

    public func recordOutcomes(
        _ outcomes: [TaskOutcome], owner: String, now: Timestamp, origin: ChangeOrigin, claim: ClaimRequest?
    ) async throws -> RecordedOutcomes {
        guard !outcomes.isEmpty else { return RecordedOutcomes(results: [], claimed: []) }
        return try await writer.perform { db in
            var applied: [Result<(BoardTask, TaskTransition), BoardError>] = []
            applied.reserveCapacity(outcomes.count)
            var indicesOfPlan: [PlanID: [Int]] = [:]
            var planOrder: [PlanID] = []
            for outcome in outcomes {
                do {
                    let change = try db.inCachedSavepoint {
                        try Self.apply(
                            outcome.command, to: outcome.taskID, owner: owner, attempt: outcome.attempt, result: outcome.result,
                            encodedResult: outcome.encodedResult, now: now, origin: origin, db)
                    }
                    if indicesOfPlan[change.0.planID] == nil { planOrder.append(change.0.planID) }
                    indicesOfPlan[change.0.planID, default: []].append(applied.count)
                    applied.append(.success(change))
                } catch {
                    applied.append(.failure((BoardStoreError.map(error) as? BoardError) ?? BoardError(.storage, "\(error)")))
                }
            }
            // Each plan once, after all of its tasks in this batch: the same status a task-by-task
            // write would reach, at a fraction of the cost for a plan of many tasks.
            var results = applied.map { $0.map { _ in TaskUpdate?.none } }
            for planID in planOrder {
                let (plan, transition) = try Self.refreshPlan(planID, now: now, origin: origin, db)
                let indices = indicesOfPlan[planID] ?? []
                for index in indices {
                    guard case let .success((task, step)) = applied[index] else { continue }
                    results[index] = .success(TaskUpdate(
                        task: task, transition: step, plan: plan, planTransition: index == indices.last ? transition : nil))
                }
            }
            let updates = results.map { result in
                result.flatMap { update in
                    update.map { .success($0) } ?? .failure(BoardError(.storage, "internal: an outcome's plan was not refreshed"))
                }
            }
            // After the outcomes, so that the tasks they made ready can be claimed at once.
            var recorded = RecordedOutcomes(results: updates, claimed: [])
            if let claim, claim.limit > 0 {
                // Its own savepoint: a claim that fails must not take the recorded outcomes with it.
                // Nothing is lost, the tasks stay pending and the scheduler's next claim meets the error.
                do {
                    recorded.claimed = try db.inCachedSavepoint {
                        try Self.claimDue(owner: claim.owner, now: now, leaseMilliseconds: claim.leaseMilliseconds, limit: claim.limit, db)
                    }
                } catch {
                    recorded.claimFailed = true
                }
            }
            return recorded
        }
    }

    public func runningTasks() async throws -> [BoardTask] {
        try await read { db in
            try fetchRows(db, sql: "SELECT * FROM tasks WHERE state = 'in_progress' ORDER BY seq").map(Self.task(from:))
        }
    }

    public func recoverInterruptedTasks(now: Timestamp) async throws -> [TaskUpdate] {
        try await writer.perform { db in
            let rows = try fetchRows(db, sql: "SELECT * FROM tasks WHERE state = 'in_progress' ORDER BY seq")
            var updates: [TaskUpdate] = []
            for row in rows {
                var task = try Self.task(from: row)
                let step = try TaskLifecycle.apply(.recover, to: task.snapshot, now: now)
                try Self.store(step, into: &task, result: nil, now: now, origin: .daemon, db)
                let (plan, planTransition) = try Self.refreshPlan(task.planID, now: now, origin: .daemon, db)
                updates.append(TaskUpdate(task: task, transition: step, plan: plan, planTransition: planTransition))
            }
            return updates
        }
    }

    // MARK: Events

    public func recordEvent(plan: PlanID, task: TaskID?, kind: EventKind, payload: JSONValue, now: Timestamp) async throws -> BoardEvent {
        try await writer.perform { db in
            _ = try Self.requirePlan(plan, db)
            return try Self.insertEvent(db, plan: plan, task: task, kind: kind, payload: payload, now: now)
        }
    }

    public func eventPage(of plan: PlanID, task: TaskID?, before: EventID?, limit: Int) async throws -> EventPage {
        let count = max(1, min(limit, 10_000))
        return try await read { db in
            var bound = Int64.max
            if let before {
                // event_id has no index of its own (one more page per event written); the
                // plan's range of events_by_plan is searched instead.
                guard let seq = try Int64.fetchOne(
                    db, sql: "SELECT seq FROM events WHERE plan_id = ? AND event_id = ?", arguments: [plan.rawValue, before.rawValue])
                else {
                    throw BoardError(.notFound, "no event with id \(before.rawValue) in plan \(plan.rawValue)")
                }
                bound = seq
            }
            let (sql, arguments): (String, StatementArguments) =
                if let task {
                    ("SELECT * FROM events WHERE task_id = ? AND plan_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                     [task.rawValue, plan.rawValue, bound, count + 1])
                } else {
                    ("SELECT * FROM events WHERE plan_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?", [plan.rawValue, bound, count + 1])
                }
            let page = try fetchPage(db, sql: sql, arguments: arguments, limit: count, byteBudget: Self.eventPagePayloadBudget) { row in
                let payload: String = row["payload"]
                return (try Self.event(from: row, payloadText: payload), payload.utf8.count)
            }
            return EventPage(events: page.items, nextBefore: page.more ? page.items.last?.eventID : nil)
        }
    }

    /// A page of `events.list` ends early, with `next_before` set, once its payloads pass this
    /// many bytes (one event per page at least). An event's payload carries its error text (an
    /// agent's stderr tail, a model server's reply): ten thousand of them could have made a
    /// reply of tens of megabytes, built in the daemon's memory.
    static let eventPagePayloadBudget = 4 << 20

    public func statistics() async throws -> StoreStatistics {
        try await read { db in
            var stats = StoreStatistics()
            let rows = try fetchRows(
                db,
                sql: """
                    SELECT status, count(*) AS n FROM plans
                    WHERE status IN ('planning', 'open', 'synthesizing', 'blocked', 'failed') GROUP BY status
                    """)
            for row in rows {
                let count: Int = row["n"]
                switch PlanStatus(rawValue: row["status"]) {
                case .open, .planning: stats.openPlans += count
                case .synthesizing: stats.synthesizingPlans = count
                case .blocked: stats.blockedPlans = count
                case .failed: stats.failedPlans = count
                default: break
                }
            }
            stats.pendingTasks = try Int.fetchOne(db, sql: "SELECT count(*) FROM tasks WHERE state = 'pending'") ?? 0
            stats.runningTasks = try Int.fetchOne(db, sql: "SELECT count(*) FROM tasks WHERE state = 'in_progress'") ?? 0
            return stats
        }
    }

    /// A setting of the connection that commits, as SQLite reports it (`synchronous`: 2 FULL,
    /// 1 NORMAL; `temp_store`: 2 MEMORY). For tests: `name` goes into the SQL as it is.
    func committingConnectionSetting(_ name: String) async throws -> Int? {
        if closed.load(ordering: .sequentiallyConsistent) { throw BoardStoreError.closed }
        return try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    public func backup(to path: String) async throws -> BackupSummary {
        guard path.hasPrefix("/") else { throw BoardError(.invalidArgument, "the backup path must be absolute: \(path)") }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw BoardError(.conflict, "\(path) already exists; a backup never overwrites a file")
        }
        if closed.load(ordering: .sequentiallyConsistent) { throw BoardStoreError.closed }
        do {
            // SQLite's online backup API: a consistent snapshot while the daemon keeps writing. It
            // blocks for as long as the copy takes (minutes for a big store), so it gets a thread
            // of its own: on Linux, `DispatchQueue.global()` is the same thread pool as Swift's
            // cooperative executor (2 threads on 2 cores), and a copy there halved the daemon.
            let pool = pool
            let integrity = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result {
                        let copy = try DatabaseQueue(path: path)
                        defer { try? copy.close() }
                        try pool.backup(to: copy)
                        return try copy.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "unknown" }
                    })
                }
                thread.name = "board-backup"
                thread.start()
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            return BackupSummary(bytes: size, integrity: integrity)
        } catch {
            // Leave nothing half-written behind.
            try? FileManager.default.removeItem(atPath: path)
            let message = (error as? DatabaseError)?.message ?? "\(error)"
            throw BoardError(.storage, "cannot write a backup to \(path): \(message)")
        }
    }

    /// Whether the process-wide SQLite settings took effect (see SQLiteSettings.swift): false
    /// only if something in the process initialized SQLite before the first store opened.
    public static var processSettingsApplied: Bool { SQLiteProcessSettings.applied }

    public func releaseMemory() async {
        if closed.load(ordering: .sequentiallyConsistent) { return }
        // The writer's page cache only. Not GRDB's `releaseMemory()`, which also drops every
        // prepared statement: the first write after a quiet spell then took 0.8 ms longer to
        // prepare them again. Not the readers': the scheduler's poll reads through them every
        // second and would read the same pages straight back (its empty claim transaction on
        // the writer takes back a few pages too; what a burst left there stays released).
        try? await pool.writeWithoutTransaction { db in
            if let connection = db.sqliteConnection { _ = sqlite3_db_release_memory(connection) }
        }
    }

    public func close() async throws {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        await writer.close()
        do {
            // Folding the WAL back into the main file leaves a single self-contained file behind.
            try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try pool.close()
            ownership.release()
        } catch {
            throw BoardStoreError.map(error)
        }
    }

    // MARK: Helpers

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if closed.load(ordering: .sequentiallyConsistent) { throw BoardStoreError.closed }
        do {
            return try await pool.read(body)
        } catch {
            throw BoardStoreError.map(error)
        }
    }

    /// Stored JSON is written the way replies are: one pass, members in declaration order,
    /// dictionaries sorted.
    private static let encoder = JSONTextEncoder()

    private static let decoder = JSONValueDecoder()
    private static let ids = IDSequence()

    private static func requirePlan(_ id: PlanID, _ db: Database) throws -> Plan {
        guard let row = try fetchRow(db, sql: "SELECT * FROM plans WHERE plan_id = ?", arguments: [id.rawValue]) else {
            throw BoardError.notFound("plan", id.rawValue)
        }
        return try plan(from: row)
    }

    private static func tasks(of plan: PlanID, _ db: Database) throws -> [BoardTask] {
        try fetchDecoded(db, sql: "SELECT * FROM tasks WHERE plan_id = ? ORDER BY position", arguments: [plan.rawValue], task(from:))
    }

    private static func counts(of plan: PlanID, _ db: Database) throws -> TaskCounts {
        var counts = TaskCounts()
        for row in try fetchRows(
            db,
            sql: """
                SELECT state, count(*) AS n, sum(unmet_dependencies > 0) AS waiting FROM tasks
                WHERE plan_id = ? GROUP BY state
                """,
            arguments: [plan.rawValue]) {
            guard let state = TaskState(rawValue: row["state"]) else { continue }
            counts[state] = row["n"]
            if state == .pending { counts.waiting = row["waiting"] }
        }
        return counts
    }

    /// Re-derives the plan's status from its tasks and records the change, if any.
    private static func refreshPlan(_ id: PlanID, now: Timestamp, origin: ChangeOrigin, _ db: Database) throws -> (Plan, PlanTransition?) {
        var plan = try requirePlan(id, db)
        let transition = try PlanLifecycle.apply(.tasksChanged(try counts(of: id, db)), to: plan.status)
        guard transition.event != nil else { return (plan, nil) }
        try store(transition, into: &plan, error: nil, now: now, origin: origin, db)
        return (plan, transition)
    }

    private static func store(
        _ step: TaskTransition, into task: inout BoardTask, result: AgentResult?, encodedResult: String? = nil, now: Timestamp,
        origin: ChangeOrigin, _ db: Database
    ) throws {
        task.snapshot = step.task
        task.updatedAt = now
        if step.task.state != .inProgress {
            task.claimOwner = nil
            task.leaseExpiresAt = nil
        }
        if let result { task.result = result }
        // Errors quote agents' stderr, which may hold any bytes; a NUL would cut the text short.
        task.lastError = task.lastError.map { $0.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }
        // Written only when it changes (a result is never taken away): NULL keeps the stored one.
        let resultText = try result.map { result in try encodedResult ?? encoder.encode(result) }
        let due = step.task.notBefore ?? now
        try db.execute(
            cached: """
                UPDATE tasks SET state = ?, attempts = ?, max_attempts = ?, last_error = ?, due_at = ?, claim_owner = ?,
                                 lease_expires_at = ?, result = coalesce(?, result), extra_passes = ?, updated_at = ?
                WHERE task_id = ?
                """
        ) { values in
            values.bind(task.state.rawValue)
            values.bind(task.attempts)
            values.bind(task.maxAttempts)
            values.bind(task.lastError)
            values.bind(due.iso8601)
            values.bind(task.claimOwner)
            values.bind(task.leaseExpiresAt?.iso8601)
            values.bind(resultText)
            values.bind(task.extraPasses)
            values.bind(now.iso8601)
            values.bind(task.taskID.rawValue)
        }
        var payload = origin.detail
        payload["actor"] = .string(origin.actor)
        payload["from"] = .string(step.from.rawValue)
        payload["to"] = .string(step.task.state.rawValue)
        payload["attempts"] = .int(Int64(step.task.attempts))
        payload["max_attempts"] = .int(Int64(step.task.maxAttempts))
        if let error = step.task.lastError, step.task.state != .completed, step.task.state != .inProgress {
            payload["error"] = .string(error)
        }
        if let notBefore = step.task.notBefore { payload["not_before"] = .string(notBefore.iso8601) }
        if let reason = step.reason { payload["reason"] = .string(reason) }
        try insertEvent(db, plan: task.planID, task: task.taskID, kind: step.event, payload: .object(payload), now: now)
        if step.task.state == .completed {
            // Dependents become runnable from now on (due now, so they queue fairly behind older work).
            try db.execute(
                cached: """
                    UPDATE tasks SET unmet_dependencies = unmet_dependencies - 1, due_at = max(due_at, ?)
                    WHERE task_id IN (SELECT task_id FROM task_dependencies WHERE depends_on = ?)
                    """
            ) { values in
                values.bind(now.iso8601)
                values.bind(task.taskID.rawValue)
            }
        }
    }

    /// Inserts a plan's tasks with their dependencies and `task_created` events.
    private static func insertTasks(_ drafts: [TaskDraft], into planID: PlanID, now: Timestamp, _ db: Database) throws -> [BoardTask] {
        var tasks: [BoardTask] = []
        let ids = drafts.map { _ in Self.ids.next(TaskID.self, at: now) }
        for (position, taskDraft) in drafts.enumerated() {
            let dependsOn = Array(Set(taskDraft.after)).sorted().map { ids[$0] }
            let task = BoardTask(
                taskID: ids[position], planID: planID, agent: taskDraft.agent, description: taskDraft.description,
                state: .pending, attempts: 0, maxAttempts: max(1, taskDraft.maxAttempts), dependsOn: dependsOn,
                unmetDependencies: dependsOn.count, createdAt: now, updatedAt: now)
            let created = now.iso8601
            try db.execute(
                cached: """
                    INSERT INTO tasks (task_id, plan_id, position, agent, description, state, attempts, max_attempts,
                                       due_at, depends_on, unmet_dependencies, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?)
                    """
            ) { values in
                values.bind(task.taskID.rawValue)
                values.bind(planID.rawValue)
                values.bind(position)
                values.bind(task.agent)
                values.bind(task.description)
                values.bind(task.maxAttempts)
                values.bind(created)
                values.bind(dependsOn.isEmpty ? nil : idList(dependsOn))
                values.bind(dependsOn.count)
                values.bind(created)
                values.bind(created)
            }
            for dependency in dependsOn {
                try execute(
                db,
                    sql: "INSERT INTO task_dependencies (depends_on, task_id) VALUES (?, ?)",
                    arguments: [dependency.rawValue, task.taskID.rawValue])
            }
            try insertEvent(
                db, plan: planID, task: task.taskID, kind: .taskCreated,
                payload: ["agent": .string(task.agent), "max_attempts": .int(Int64(task.maxAttempts))], now: now)
            tasks.append(task)
        }
        return tasks
    }

    private static func idList(_ ids: [TaskID]) -> String {
        JSONValue.array(ids.map { .string($0.rawValue) }).serialized
    }

    private static func store(
        _ transition: PlanTransition, into plan: inout Plan, error: String?, now: Timestamp, origin: ChangeOrigin,
        _ db: Database
    ) throws {
        plan.status = transition.to
        plan.updatedAt = now
        if transition.to == .failed { plan.lastError = error }
        if [.synthesizing, .open, .planning].contains(transition.to) { plan.lastError = nil }
        if transition.to.isFinal { plan.closedAt = now }
        try db.execute(cached: "UPDATE plans SET status = ?, last_error = ?, updated_at = ?, closed_at = ? WHERE plan_id = ?") { values in
            values.bind(plan.status.rawValue)
            values.bind(plan.lastError)
            values.bind(now.iso8601)
            values.bind(plan.closedAt?.iso8601)
            values.bind(plan.planID.rawValue)
        }
        guard let kind = transition.event else { return }
        var payload = origin.detail
        payload["actor"] = .string(origin.actor)
        payload["from"] = .string(transition.from.rawValue)
        payload["to"] = .string(transition.to.rawValue)
        if let error { payload["error"] = .string(error) }
        try insertEvent(db, plan: plan.planID, task: nil, kind: kind, payload: .object(payload), now: now)
    }

    @discardableResult
    private static func insertEvent(
        _ db: Database, plan: PlanID, task: TaskID?, kind: EventKind, payload: JSONValue, now: Timestamp
    ) throws -> BoardEvent {
        let event = BoardEvent(eventID: Self.ids.next(at: now), planID: plan, taskID: task, kind: kind, payload: payload, createdAt: now)
        try db.execute(cached: "INSERT INTO events (event_id, plan_id, task_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)") {
            values in
            values.bind(event.eventID.rawValue)
            values.bind(plan.rawValue)
            values.bind(task?.rawValue)
            values.bind(kind.rawValue)
            values.bind(payload.serialized)
            values.bind(now.iso8601)
        }
        return event
    }

    // MARK: Row decoding

    private static func timestamp(_ row: Row, _ column: String) throws -> Timestamp {
        let text: String = row[column]
        guard let value = Timestamp(iso8601: text) else { throw corrupt("\(column) = \(text)") }
        return value
    }

    private static func optionalTimestamp(_ row: Row, _ column: String) throws -> Timestamp? {
        guard let text: String = row[column] else { return nil }
        guard let value = Timestamp(iso8601: text) else { throw corrupt("\(column) = \(text)") }
        return value
    }

    private static func corrupt(_ what: String) -> BoardError {
        BoardError(.storage, "the database holds a value this version cannot read: \(what)")
    }

    private static func plan(from row: Row) throws -> Plan {
        let id: String = row["plan_id"]
        let statusText: String = row["status"]
        guard let planID = PlanID(id) else { throw corrupt("plan_id = \(id)") }
        guard let status = PlanStatus(rawValue: statusText) else { throw corrupt("plan status = \(statusText)") }
        return Plan(
            planID: planID, goal: row["goal"], context: row["context"], status: status, idempotencyKey: row["idempotency_key"],
            lastError: row["last_error"], createdAt: try timestamp(row, "created_at"), updatedAt: try timestamp(row, "updated_at"),
            closedAt: try optionalTimestamp(row, "closed_at"))
    }

    /// The columns of `tasks` in table order, as `SELECT *` (and `t.*`) returns them: the order
    /// migrations v1 and v2 create, on a new database and an upgraded one alike. Decoding by
    /// position: looking a column up by name costs more than reading it (GRDB compares names
    /// case-insensitively), and a task row is read at every transition.
    private static let taskColumns = [
        "seq", "task_id", "plan_id", "position", "agent", "description", "state", "attempts", "max_attempts", "last_error",
        "due_at", "claim_owner", "lease_expires_at", "result", "created_at", "updated_at", "depends_on",
        "unmet_dependencies", "extra_passes",
    ]

    private static func task(from row: Row) throws -> BoardTask {
        // A migration that changed the column order would misread every task: tests (debug) stop here.
        assert(Array(row.columnNames.prefix(taskColumns.count)) == taskColumns, "tasks columns: \(Array(row.columnNames))")
        guard row.count >= taskColumns.count else { throw corrupt("tasks has \(row.count) columns") }
        let id: String = row[1]
        let planText: String = row[2]
        let stateText: String = row[6]
        guard let taskID = TaskID(id) else { throw corrupt("task_id = \(id)") }
        guard let planID = PlanID(planText) else { throw corrupt("plan_id = \(planText)") }
        guard let state = TaskState(rawValue: stateText) else { throw corrupt("task state = \(stateText)") }
        func timestamp(_ index: Int) throws -> Timestamp {
            let text: String = row[index]
            guard let value = Timestamp(iso8601: text) else { throw corrupt("\(taskColumns[index]) = \(text)") }
            return value
        }
        let updatedAt = try timestamp(15)
        let due = try timestamp(10)
        var result: AgentResult?
        if let text: String = row[13] {
            result = try? decoder.decode(AgentResult.self, fromJSON: text)
        }
        var dependsOn: [TaskID] = []
        if let text: String = row[16], let ids = try? decoder.decode([TaskID].self, fromJSON: text) {
            dependsOn = ids
        }
        var leaseExpiresAt: Timestamp?
        if let text: String = row[12] {
            guard let value = Timestamp(iso8601: text) else { throw corrupt("lease_expires_at = \(text)") }
            leaseExpiresAt = value
        }
        var task = BoardTask(
            taskID: taskID, planID: planID, agent: row[4], description: row[5], state: state,
            attempts: row[7], maxAttempts: row[8], lastError: row[9],
            notBefore: state == .pending && due > updatedAt ? due : nil, claimOwner: row[11],
            leaseExpiresAt: leaseExpiresAt, result: result, dependsOn: dependsOn,
            unmetDependencies: row[17], createdAt: try timestamp(14), updatedAt: updatedAt)
        task.extraPasses = row[18]
        return task
    }

    /// `payloadText` is the row's payload, which the caller has read already (to measure it).
    private static func event(from row: Row, payloadText: String) throws -> BoardEvent {
        let id: String = row["event_id"]
        let planText: String = row["plan_id"]
        let taskText: String? = row["task_id"]
        let kindText: String = row["kind"]
        guard let eventID = EventID(id), let planID = PlanID(planText) else { throw corrupt("event \(id)") }
        guard let kind = EventKind(rawValue: kindText) else { throw corrupt("event kind = \(kindText)") }
        let payload = (try? JSONValue.parse(payloadText)) ?? .string(payloadText)
        return BoardEvent(
            eventID: eventID, planID: planID, taskID: taskText.flatMap(TaskID.init), kind: kind, payload: payload,
            createdAt: try timestamp(row, "created_at"))
    }
}

// Hot statements are prepared once per connection and reused: preparing a statement (and GRDB's
// authorizer pass over it) cost more than running it, and every task transition runs several.
// Only for constant SQL text; the cache holds one statement per distinct text.

private func execute(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws {
    try db.cachedStatement(sql: sql).execute(arguments: arguments)
}

private func fetchRows(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
    try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
}

private func fetchRow(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
    try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
}

/// A page of at most `limit` items decoded from the rows of `sql`, which must ask for one row
/// past the page (`LIMIT limit + 1`) so that `more` can tell whether another page follows. The
/// page also ends, with `more`, once its items' sizes (as `decode` counts them) pass
/// `byteBudget`, keeping one item at least: a reply must not grow with the size of the texts.
private func fetchPage<Item>(
    _ db: Database, sql: String, arguments: StatementArguments, limit: Int, byteBudget: Int,
    _ decode: (Row) throws -> (item: Item, bytes: Int)
) throws -> (items: [Item], more: Bool) {
    let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
    var items: [Item] = []
    var bytes = 0
    while let row = try rows.next() {
        if items.count == limit { return (items, true) }
        let (item, size) = try decode(row)
        bytes += size
        if !items.isEmpty, bytes > byteBudget { return (items, true) }
        items.append(item)
    }
    return (items, false)
}

/// Decodes each row where the statement stands, without the copy of every column that
/// `Row.fetchAll` and `fetchOne` make (a task row's description and result included).
private func fetchDecoded<T>(
    _ db: Database, sql: String, arguments: StatementArguments, _ decode: (Row) throws -> T
) throws -> [T] {
    let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
    var decoded: [T] = []
    while let row = try rows.next() { decoded.append(try decode(row)) }
    return decoded
}
