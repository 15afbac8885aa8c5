import BoardAgents
import BoardCore
import BoardProtocol
import BoardStore
import Foundation
import Logging

/// Answers one JSON-RPC line. Never throws: every failure becomes an error reply with a stable
/// code, so bad input can neither crash nor hang the daemon.
struct RequestHandler: Sendable {
    let store: any StateStore
    let worker: Worker
    let wake: WakeSignal
    let live: LiveConfiguration
    let reloader: Reloader
    let metrics: Metrics
    let startedAt: Timestamp
    /// Noticed by `daemon.status` too: a database deleted under the daemon is reported, not hidden.
    let databaseFiles: DatabaseFiles
    let logger: Logger
    static let version = "0.1.0"

    /// The caller of one request, for access checks and the audit trail.
    struct Caller {
        var peer: PeerCredentials?
        /// Group membership, looked up at most once per connection.
        var isMember: () -> Bool

        var origin: ChangeOrigin {
            peer.map { ChangeOrigin(actor: "uid:\($0.uid)", detail: ["pid": .int(Int64($0.pid))]) } ?? ChangeOrigin(actor: "control")
        }
    }

    /// Work a request leaves for after its reply.
    typealias FollowUp = @Sendable () async -> Void

    /// What answering one line gives its connection.
    struct Answer: Sendable {
        /// The reply line, or `nil` for a notification.
        var reply: Data?
        /// Must run, alongside the reply's write (which may wait for a client that does not
        /// read, or fail for one that left) and before the connection reads its next request:
        /// what the request committed but its client need not wait for, such as starting the
        /// tasks a `plan.create` claimed.
        var followUp: FollowUp?
    }

    func handle(_ line: Data, caller: Caller = Caller(peer: nil, isMember: { false })) async -> Answer {
        let started = ContinuousClock.now
        var followUp: FollowUp?
        let (method, reply, failed) = await answer(line, caller: caller, followUp: &followUp)
        metrics.observeRequest(method: method, seconds: (ContinuousClock.now - started).fractionalSeconds, failed: failed)
        return Answer(reply: reply, followUp: followUp)
    }

    /// The reply, with the method name to account it under and whether it was an error.
    private func answer(_ line: Data, caller: Caller, followUp: inout FollowUp?) async -> (String, Data?, Bool) {
        let request: RPCRequest
        switch Wire.decodeRequest(line) {
        case let .success(decoded): request = decoded
        case let .failure(failure): return ("invalid", Wire.errorLine(id: failure.id ?? .null, error: failure.error), true)
        }
        let id = request.id
        guard let method = Method(rawValue: request.method) else {
            let reply = id == nil ? nil : Wire.errorLine(id: id ?? .null, error: .methodNotFound(String(request.method.prefix(100))))
            return ("unknown", reply, true)
        }
        do {
            let snapshot = live.snapshot
            if let refusal = snapshot.access.check(method, peer: caller.peer, membership: caller.isMember) {
                logger.warning("refused \(method.rawValue): \(refusal.message)")
                throw refusal
            }
            let reply = try await dispatch(
                method, request.params, id: id ?? .null, configuration: snapshot.configuration, caller: caller, followUp: &followUp)
            return (method.rawValue, id == nil ? nil : reply, false)
        } catch let error as RPCError {
            return (method.rawValue, id == nil ? nil : Wire.errorLine(id: id ?? .null, error: error), true)
        } catch let error as BoardError {
            if error.reason == .storage || error.reason == .internalError {
                logger.error("request \(method.rawValue) failed: \(error.message)")
            }
            return (method.rawValue, id == nil ? nil : Wire.errorLine(id: id ?? .null, error: RPCError(error)), true)
        } catch {
            logger.error("request \(method.rawValue) failed unexpectedly: \(error)")
            let failure = RPCError(BoardError(.internalError, "internal error: \(error)"))
            return (method.rawValue, id == nil ? nil : Wire.errorLine(id: id ?? .null, error: failure), true)
        }
    }

    private func dispatch(
        _ method: Method, _ params: JSONValue?, id: JSONValue, configuration: DaemonConfiguration, caller: Caller,
        followUp: inout FollowUp?
    ) async throws -> Data {
        let origin = caller.origin
        switch method {
        case .ping:
            _ = try ParamReader(params).finish()
            return try Wire.successLine(id: id, result: PingResult(version: Self.version))

        case .daemonStatus:
            try ParamReader(params).finish()
            if let refusal = databaseFiles.writeRefusal() { throw refusal }
            let stats = try await store.statistics()
            let now = Timestamp.now()
            let status = DaemonStatus(
                version: Self.version, pid: Int(ProcessInfo.processInfo.processIdentifier), startedAt: startedAt,
                uptimeSeconds: Double(now.milliseconds(since: startedAt)) / 1000, socket: configuration.socketPath,
                database: configuration.databasePath, synchronous: configuration.synchronous.rawValue,
                concurrency: configuration.concurrency, running: await worker.runningCount,
                plans: .init(open: stats.openPlans, synthesizing: stats.synthesizingPlans, blocked: stats.blockedPlans,
                             failed: stats.failedPlans),
                tasks: .init(pending: stats.pendingTasks, inProgress: stats.runningTasks),
                agents: configuration.registry.agents.map { "\($0.role) \($0.codename) (\($0.backend.name))" })
            return try Wire.successLine(id: id, result: status)

        case .planCreate:
            let request = try PlanCreateParams(params: params)
            let brief = GoalBrief(
                goal: request.goal, context: request.context, constraints: request.constraints, deadline: request.deadline,
                budget: request.budget)
            let registry = configuration.registry
            let planned: [PlannedTask]
            var needsPlanning = false
            if let specs = request.tasks {
                planned = try specs.map { spec throws(BoardError) in
                    guard let agent = registry.agent(spec.agent) else {
                        throw BoardError(.invalidArgument, "unknown agent \(spec.agent); known: \(registry.agents.map(\.role).joined(separator: ", "))")
                    }
                    return PlannedTask(
                        role: agent.role, description: spec.description ?? BuiltinAnalyst.defaultTaskDescription(role: agent.role, goal: brief.goal),
                        after: spec.after)
                }
            } else if request.agents == nil, CEOPlanner(registry: registry, connections: .offline).usesModel {
                // A language-model CEO plans in the background; the plan starts `planning`.
                planned = []
                needsPlanning = true
            } else {
                planned = try Planner(registry: registry).plan(brief, requested: request.agents)
            }
            let maxAttempts = request.maxAttempts ?? configuration.maxAttempts
            let draft = PlanDraft(
                goal: request.goal, context: brief.combinedContext, idempotencyKey: request.idempotencyKey,
                tasks: planned.map { TaskDraft(agent: $0.role, description: $0.description, maxAttempts: maxAttempts, after: $0.after) },
                needsPlanning: needsPlanning, maxAttempts: maxAttempts)
            // With free slots, the plan's first tasks are claimed in its own transaction: they
            // start without a second commit and a scheduler round (submit → in_progress).
            let claim = await worker.reserveClaim(upTo: draft.tasks.count)
            let creation: PlanCreation
            do {
                creation = try await store.createPlan(draft, now: .now(), origin: origin, claim: claim)
            } catch {
                if let claim { await worker.start([], releasing: claim) }
                throw error
            }
            if creation.created {
                metrics.record(.planCreated)
                metrics.record(.taskCreated, count: creation.tasks.count)
            }
            // The plan and its claims are committed, so the reply can go now: logging, starting
            // the claimed tasks and waking the scheduler are two actor hops and a journald write
            // that the submitter need not wait for (about a quarter of an idle daemon's submit
            // latency, docs/PERFORMANCE.md). The connection runs them alongside the reply's write.
            // A cancel that reaches the worker before these tasks start is kept for them
            // (`Worker.cancel`).
            let (worker, wake, logger, claimed, created) = (worker, wake, logger, creation.claimed, creation.created)
            let planID = creation.plan.planID
            let agents = planned.map(\.role).joined(separator: ",")
            followUp = {
                if created {
                    logger.info("plan created", metadata: [
                        "plan_id": "\(planID)", "event": "plan_created", "by": "\(origin.actor)", "agents": "\(agents)",
                    ])
                }
                // A task cancelled before it started frees its slot for the scheduler to fill.
                let skipped = if let claim { await worker.start(claimed, releasing: claim) } else { 0 }
                if created || skipped > 0 { await wake.signal() }
            }
            return try Wire.successLine(id: id, result: PlanDetail(plan: creation.plan, tasks: creation.tasks, created: creation.created))

        case .planList:
            let request = try PlanListParams(params: params)
            let page = try await store.listPlans(status: request.status, limit: request.limit, cursor: request.cursor)
            return try Wire.successLine(id: id, result: PlanListResult(plans: page.plans, nextCursor: page.nextCursor))

        case .planGet:
            let request = try PlanIDParams(params: params)
            return try Wire.successLine(id: id, result: try await detail(request.planID))

        case .planCancel:
            let request = try PlanIDParams(params: params)
            let cancellation = try await store.cancelPlan(request.planID, now: .now(), origin: origin)
            metrics.record(.planCancelled)
            metrics.record(.taskCancelled, count: cancellation.cancelledTasks)
            for task in cancellation.stoppedTasks { await worker.cancel(task) }
            await worker.cancelCEOWork(request.planID)
            // Nothing to start, but the status line and the idle poll should know at once.
            await wake.signal()
            logger.info("plan cancelled", metadata: [
                "plan_id": "\(request.planID)", "event": "plan_cancelled", "tasks_cancelled": "\(cancellation.cancelledTasks)",
                "by": "\(origin.actor)",
            ])
            return try Wire.successLine(id: id, result: try await detail(request.planID))

        case .planResult:
            let request = try PlanIDParams(params: params)
            guard let plan = try await store.plan(request.planID) else { throw BoardError.notFound("plan", request.planID.rawValue) }
            guard let finalPlan = try await store.finalPlan(of: request.planID) else {
                let when = plan.status.isFinal ? "it has no final plan" : "it has no final plan yet"
                throw BoardError(.invalidState, "plan is \(plan.status.rawValue); \(when)")
            }
            return try Wire.successLine(id: id, result: PlanResult(finalPlan: finalPlan))

        case .planRetrySynthesis:
            let request = try PlanIDParams(params: params)
            let plan = try await store.retrySynthesis(request.planID, now: .now(), origin: origin)
            logger.info("plan synthesis retried", metadata: [
                "plan_id": "\(plan.planID)", "event": "plan_synthesizing", "by": "\(origin.actor)",
            ])
            await wake.signal()
            return try Wire.successLine(id: id, result: try await detail(request.planID))

        case .taskGet:
            let request = try TaskIDParams(params: params)
            guard let task = try await store.task(request.taskID) else { throw BoardError.notFound("task", request.taskID.rawValue) }
            return try Wire.successLine(id: id, result: task)

        case .taskCancel:
            let request = try TaskIDParams(params: params)
            let update = try await store.updateTask(
                request.taskID, .cancel(reason: "cancelled by request"), owner: nil, result: nil, now: .now(),
                origin: origin)
            metrics.record(update)
            if update.transition.stopsRunningWork { await worker.cancel(StoppedAttempt(update.task)) }
            logger.info("task cancelled", metadata: taskMetadata(update.task, .taskCancelled, by: origin))
            await wake.signal()
            return try Wire.successLine(id: id, result: update.task)

        case .taskRetry:
            let request = try TaskIDParams(params: params)
            let update = try await store.updateTask(
                request.taskID, .retry, owner: nil, result: nil, now: .now(), origin: origin)
            logger.info("task requeued", metadata: taskMetadata(update.task, .taskRequeued, by: origin))
            await wake.signal()
            return try Wire.successLine(id: id, result: update.task)

        case .agentsList:
            try ParamReader(params).finish()
            let registry = configuration.registry
            let agents = registry.agents.map {
                AgentsResult.Agent(
                    role: $0.role, codename: $0.codename, title: $0.title, expertise: $0.expertise, backend: $0.backend.name,
                    model: $0.backend.model)
            }
            return try Wire.successLine(id: id, result: AgentsResult(agents: agents, defaultAgents: registry.defaultRoles))

        case .metricsGet:
            try ParamReader(params).finish()
            let stats = try await store.statistics()
            let text = metrics.render(gauges: [
                ("board_plans_open", "Plans open or planning.", stats.openPlans),
                ("board_plans_synthesizing", "Plans whose final plan is being written.", stats.synthesizingPlans),
                ("board_plans_blocked", "Plans waiting for a retry or a cancel.", stats.blockedPlans),
                ("board_plans_failed", "Plans whose planning or synthesis failed.", stats.failedPlans),
                ("board_tasks_pending", "Tasks waiting to run.", stats.pendingTasks),
                ("board_tasks_in_progress", "Tasks running.", stats.runningTasks),
                ("board_worker_slots", "Tasks the worker may run at once.", configuration.concurrency),
            ])
            return try Wire.successLine(id: id, result: MetricsResult(text: text))

        case .backupCreate:
            var reader = try ParamReader(params)
            let path = try reader.requiredString("path", maxBytes: 4096)
            try reader.finish()
            let result = try await store.backup(to: path)
            logger.notice("backup written", metadata: ["path": "\(path)", "bytes": "\(result.bytes)", "by": "\(origin.actor)"])
            return try Wire.successLine(id: id, result: BackupResult(path: path, bytes: result.bytes, integrity: result.integrity))

        case .configReload:
            try ParamReader(params).finish()
            let result = try await reloader.reload(trigger: "config.reload by \(origin.actor)")
            return try Wire.successLine(id: id, result: result)

        case .eventsList:
            let request = try EventsListParams(params: params)
            guard try await store.plan(request.planID) != nil else { throw BoardError.notFound("plan", request.planID.rawValue) }
            let page = try await store.eventPage(of: request.planID, task: request.taskID, before: request.before, limit: request.limit)
            return try Wire.successLine(id: id, result: EventsResult(events: page.events, nextBefore: page.nextBefore))
        }
    }

    private func detail(_ id: PlanID) async throws -> PlanDetail {
        guard let (plan, tasks) = try await store.planWithTasks(id) else { throw BoardError.notFound("plan", id.rawValue) }
        return PlanDetail(plan: plan, tasks: tasks)
    }

    private func taskMetadata(_ task: BoardTask, _ event: EventKind, by origin: ChangeOrigin) -> Logger.Metadata {
        ["plan_id": "\(task.planID)", "task_id": "\(task.taskID)", "agent": "\(task.agent)", "event": "\(event)", "by": "\(origin.actor)"]
    }
}
