import BoardAgents
import BoardCore
import BoardStore
import Logging

/// Runs claimed tasks on their agents, at most `concurrency` at once, and reports each outcome
/// to the store through the task lifecycle. Also runs the CEO's syntheses.
actor Worker {
    private enum StopReason { case cancelled, interrupted }

    private struct Running {
        var handle: Task<Void, Never>
        /// The task's attempt number: a cancel stops only the attempt it was meant for.
        var attempt: Int
        var stopReason: StopReason?
    }

    private enum Outcome {
        case result(AgentResult)
        case failure(AgentFailure)
        case stopped
    }

    private let store: any StateStore
    private let wake: WakeSignal
    private let logger: Logger
    let owner: String
    private var registry: AgentRegistry
    private var agents: [String: any Agent]
    private var concurrency: Int
    private var taskTimeoutMilliseconds: Int64
    private var retryPolicy: RetryPolicy
    private var confidencePolicy: ConfidencePolicy
    private let connections: LLMConnections
    private let metrics: Metrics
    private var running: [TaskID: Running] = [:]
    /// Earlier attempts whose task a later attempt took over under the same id: one being
    /// recorded by the very write that claimed the next attempt, or a cancelled one still
    /// stopping after a person retried the task. Each holds its slot until it is recorded or
    /// dropped.
    private var stopping: [StoppedAttempt: Running] = [:]
    /// Outcomes waiting to be recorded. While one write is in flight the next ones gather here
    /// and go to the store together: one write (and one plan refresh per plan) for many tasks.
    private var outbox: [(claimed: ClaimedTask, outcome: TaskOutcome)] = []
    private var recording = false
    /// Outcomes in the write in flight.
    private var recordingCount = 0
    /// The CEO's work in flight (planning or synthesis), one per plan.
    private var syntheses: [PlanID: Task<Void, Never>] = [:]
    /// Set once a graceful shutdown began: an attempt that fails from then on was most likely
    /// killed by the shutdown itself (a service manager signalling the whole cgroup), so it is
    /// given back like an interrupted one rather than counted.
    private var draining = false
    /// Slots promised to claims in flight (`reserveClaim`: the scheduler's, a `plan.create`'s,
    /// an outcome write's), held until `start(_:releasing:)`.
    private var reserved = 0
    /// The drain's grace period is over: a claim handed over from now on (one that outlasted it)
    /// starts no agent; its tasks are interrupted back to pending at once, like running ones.
    private var interrupting = false
    /// Attempts cancelled after a claim took them but before `start` ran (a `plan.create` starts
    /// its claims after replying, so its client can cancel in between): they must not start.
    /// Emptied whenever no claim is in flight, so it holds at most the cancels of one busy spell.
    private var cancelledBeforeStart: Set<StoppedAttempt> = []

    init(
        store: any StateStore, wake: WakeSignal, configuration: DaemonConfiguration, owner: String, connections: LLMConnections,
        metrics: Metrics, logger: Logger
    ) {
        self.metrics = metrics
        self.store = store
        self.wake = wake
        self.owner = owner
        self.logger = logger
        self.connections = connections
        registry = configuration.registry
        agents = Self.makeAgents(configuration.registry, connections)
        confidencePolicy = configuration.confidencePolicy
        concurrency = configuration.concurrency
        taskTimeoutMilliseconds = configuration.taskTimeoutSeconds * 1000
        retryPolicy = configuration.retryPolicy
    }

    private static func makeAgents(_ registry: AgentRegistry, _ connections: LLMConnections) -> [String: any Agent] {
        Dictionary(uniqueKeysWithValues: registry.agents.map { ($0.role, AgentFactory.make($0, connections: connections)) })
    }

    /// Takes a reloaded configuration: new attempts use the new agents, limits and policy;
    /// running attempts finish as they started.
    func apply(_ configuration: DaemonConfiguration) {
        registry = configuration.registry
        agents = Self.makeAgents(configuration.registry, connections)
        concurrency = configuration.concurrency
        taskTimeoutMilliseconds = configuration.taskTimeoutSeconds * 1000
        retryPolicy = configuration.retryPolicy
        confidencePolicy = configuration.confidencePolicy
    }

    /// A slot is free once its agent is done, before the outcome is stored: the write that
    /// records the outcome claims the slot's next task. (Its entry in `running` stays until the
    /// outcome is stored, so a drain still waits for it.)
    var freeSlots: Int { max(0, concurrency - runningCount - reserved) }
    /// Attempts whose agent is still at work.
    var runningCount: Int { running.count + stopping.count - outbox.count - recordingCount }
    private var leaseMilliseconds: Int64 { taskTimeoutMilliseconds + 60_000 }

    func isSynthesizing(_ plan: PlanID) -> Bool { syntheses[plan] != nil }

    /// Nothing at work: no attempt running or being recorded, no slot reserved, no CEO planning
    /// or synthesis (a CEO's model call can take minutes and signals nothing until it is stored).
    var isIdle: Bool { running.isEmpty && stopping.isEmpty && syntheses.isEmpty && reserved == 0 }

    // MARK: Tasks

    /// Promises up to `count` free slots to a caller about to claim tasks (the scheduler, a
    /// `plan.create`, an outcome write) and returns the claim to make for them; `nil` for none,
    /// and always while stopping. Every claim returned must be handed back through
    /// `start(_:releasing:)`, with whatever was claimed, or nothing if the claim failed.
    func reserveClaim(upTo count: Int = .max) -> ClaimRequest? {
        let granted = draining ? 0 : min(max(0, count), freeSlots)
        guard granted > 0 else { return nil }
        reserved += granted
        return ClaimRequest(owner: owner, leaseMilliseconds: leaseMilliseconds, limit: granted)
    }

    /// Returns how many of `batch` were not started because they were cancelled meanwhile (their
    /// slots are free again).
    @discardableResult
    func start(_ batch: [ClaimedTask], releasing reservation: ClaimRequest) -> Int {
        reserved = max(0, reserved - reservation.limit)
        var skipped = 0
        // Claimed tasks are in_progress in the store: they run even if a drain began meanwhile
        // (the drain waits for them, or interrupts them back to pending).
        for claimed in batch {
            if cancelledBeforeStart.remove(StoppedAttempt(claimed.task)) != nil {
                // The store already recorded the cancel, after the claim.
                logger.info("task not started: cancelled before its attempt began", metadata: metadata(claimed.task, event: .taskCancelled))
                skipped += 1
                continue
            }
            start(claimed)
        }
        if reserved == 0 { cancelledBeforeStart.removeAll() }
        return skipped
    }

    /// Every claim goes through a reservation, so tasks start only through `start(_:releasing:)`.
    private func start(_ claimed: ClaimedTask) {
        let task = claimed.task
        let agent = agents[task.agent]
        let timeout = taskTimeoutMilliseconds
        logger.info("task started", metadata: metadata(task, event: .taskStarted, ["attempt": "\(task.attempts)/\(task.maxAttempts)"]))
        let metrics = metrics
        // After the drain's grace period no agent starts: the attempt is interrupted at once.
        let interrupted = interrupting
        let handle = Task {
            if interrupted { return await self.finish(claimed, .stopped) }
            let started = ContinuousClock.now
            let outcome = await Self.attempt(claimed, agent: agent, timeoutMilliseconds: timeout)
            metrics.observeTask(agent: task.agent, seconds: (ContinuousClock.now - started).fractionalSeconds)
            await self.finish(claimed, outcome)
        }
        if let earlier = running[task.taskID] {
            // An earlier attempt of this task is being recorded, or was cancelled and is still
            // stopping: it keeps its slot until then.
            stopping[StoppedAttempt(taskID: task.taskID, attempt: earlier.attempt)] = earlier
        }
        running[task.taskID] = Running(handle: handle, attempt: task.attempts, stopReason: interrupted ? .interrupted : nil)
    }

    /// Stops a running attempt because a person cancelled it; its result, if any, is discarded.
    func cancel(_ attempt: StoppedAttempt) {
        if var entry = running[attempt.taskID], entry.attempt == attempt.attempt {
            entry.stopReason = .cancelled
            running[attempt.taskID] = entry
            entry.handle.cancel()
            return
        }
        // Not running (an entry under this id, if any, is another attempt: an earlier one still
        // being recorded, or a later one after a retry). A claim in flight may hold this attempt,
        // and `start` must not run it.
        if reserved > 0 { cancelledBeforeStart.insert(attempt) }
    }

    /// Waits up to `graceMilliseconds` for running attempts, then interrupts the rest: they go
    /// back to pending without using up an attempt.
    func drain(graceMilliseconds: Int64) async {
        draining = true
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(graceMilliseconds))
        // Claims in flight too: their tasks are in_progress in the store and start once the claim
        // is handed over (a `plan.create`'s after its reply), so the drain waits for those as well.
        while !running.isEmpty || !stopping.isEmpty || reserved > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        interrupting = true
        for (id, var entry) in running {
            entry.stopReason = entry.stopReason ?? .interrupted
            running[id] = entry
            entry.handle.cancel()
        }
        for synthesis in syntheses.values { synthesis.cancel() }
        while !running.isEmpty || !stopping.isEmpty || !syntheses.isEmpty {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private static func attempt(_ claimed: ClaimedTask, agent: (any Agent)?, timeoutMilliseconds: Int64) async -> Outcome {
        let task = claimed.task
        guard let agent else {
            return .failure(AgentFailure(.permanent, "no agent with role \(task.agent) is configured"))
        }
        let work = AgentWork(
            taskID: task.taskID, planID: task.planID, role: task.agent, description: task.description, goal: claimed.goal,
            context: claimed.context, attempt: task.attempts, maxAttempts: task.maxAttempts, claimOwner: task.claimOwner ?? "",
            dependencyResults: claimed.dependencyResults)
        do {
            if agent.isInstant { return .result(try await agent.perform(work)) }
            return .result(try await withTimeout(milliseconds: timeoutMilliseconds) { try await agent.perform(work) })
        } catch let failure as AgentFailure {
            return .failure(failure)
        } catch is TimeoutError {
            return .failure(AgentFailure(.retryable, "\(task.agent): timed out after \(timeoutMilliseconds / 1000) s"))
        } catch is CancellationError {
            return .stopped
        } catch {
            return .failure(AgentFailure(.retryable, "\(task.agent): \(error)"))
        }
    }

    private func finish(_ claimed: ClaimedTask, _ outcome: Outcome) async {
        let task = claimed.task
        guard let entry = running[task.taskID], entry.attempt == task.attempts else {
            // A later attempt holds the task's entry: this one was cancelled, and a person retried
            // the task before this attempt had stopped. Its result belongs to no claim any more.
            stopping[StoppedAttempt(task)] = nil
            logger.info("task attempt stopped after cancel; the task has moved on", metadata: metadata(task, event: .taskCancelled))
            await wake.signal()
            return
        }
        // The entry stays until the outcome is stored, so a drain waits for the write too.
        let reason = entry.stopReason
        let command: TaskCommand
        var result: AgentResult?
        switch (outcome, reason) {
        case (_, .cancelled?):
            // The store already recorded the cancel; whatever the agent produced is discarded.
            logger.info("task attempt stopped after cancel", metadata: metadata(task, event: .taskCancelled))
            running[task.taskID] = nil
            await wake.signal()
            return
        case (_, .interrupted?), (.stopped, nil):
            command = .interrupt
        case (.failure, nil) where draining:
            command = .interrupt
        case let (.result(value), nil):
            // The offline analyst is deterministic: another pass would give the same answer.
            let verdict = value.offline ? .accept : confidencePolicy.judge(
                confidence: value.confidence, attemptsLeft: task.maxAttempts - task.attempts, extraPasses: task.extraPasses)
            switch verdict {
            case .accept:
                command = .complete
                result = value
            case let .passAgain(reason):
                command = .passAgain(reason: reason)
            case let .retry(reason):
                command = .fail(error: "\(task.agent): \(reason)", permanent: false, retryDelayMilliseconds: 0)
            case let .escalate(reason):
                command = .escalate(reason: "\(task.agent): \(reason)")
            }
        case let (.failure(failure), nil):
            switch failure.kind {
            case .permanent:
                command = .fail(error: failure.message, permanent: true, retryDelayMilliseconds: 0)
            case .escalate:
                command = .escalate(reason: failure.message)
            case .retryable:
                var delay = retryPolicy.delay(afterAttempt: task.attempts, unit: Double.random(in: 0...1))
                if let after = failure.retryAfter {
                    // A server that said when to come back is believed, up to a day.
                    delay = max(delay, min(after.components.seconds, 86_400) * 1000)
                }
                command = .fail(error: failure.message, permanent: false, retryDelayMilliseconds: delay)
            }
        }
        outbox.append((claimed, TaskOutcome(taskID: task.taskID, command: command, result: result, attempt: task.attempts)))
        // The slot is free now; the write that records this outcome claims its next task too
        // (no scheduler round: `record` wakes the scheduler once the batch is stored).
        guard !recording else { return }
        recording = true
        while !outbox.isEmpty {
            let batch = outbox
            outbox = []
            recordingCount = batch.count
            await record(batch)
            recordingCount = 0
        }
        recording = false
    }

    /// Stores a batch of outcomes. The running entries stay until then, so a drain waits for it.
    private func record(_ batch: [(claimed: ClaimedTask, outcome: TaskOutcome)]) async {
        var delay = Duration.milliseconds(200)
        var wakesScheduler = true
        while true {
            // The slots these attempts left are claimed in the same write: the next tasks start
            // without a commit of their own.
            let claim = reserveClaim()
            do {
                let recorded = try await store.recordOutcomes(
                    batch.map(\.outcome), owner: owner, now: .now(), origin: ChangeOrigin(actor: owner), claim: claim)
                let skipped = claim.map { start(recorded.claimed, releasing: $0) } ?? 0
                wakesScheduler = Self.needsScheduler(
                    after: recorded, claimLimit: claim?.limit, skipped: skipped, slotsLeft: slotsNoWriteWillFill)
                for (entry, result) in zip(batch, recorded.results) {
                    switch result {
                    case let .success(update):
                        metrics.record(update)
                        log(update)
                    case let .failure(error) where error.reason == .invalidState:
                        logger.info("task result discarded: \(error.message)", metadata: metadata(entry.claimed.task, event: nil))
                    case let .failure(error):
                        logger.error("cannot record the outcome of a task: \(error)", metadata: metadata(entry.claimed.task, event: nil))
                    }
                }
            } catch let error as BoardError where error.reason == .storage && !draining {
                if let claim { start([], releasing: claim) }
                // A full disk or a lock: keep the outcomes and write them once the store takes them
                // (their slots stay busy meanwhile, so no new work piles up behind them).
                logger.error("cannot record the outcome of \(batch.count) task(s), retrying in \(delay): \(error.message)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
                continue
            } catch {
                if let claim { start([], releasing: claim) }
                // The claims stay in_progress in the store; start-up recovery will settle them.
                logger.error("cannot record the outcome of \(batch.count) task(s): \(error)")
            }
            break
        }
        // Only these attempts' entries: this very write may have claimed and started the next
        // attempt of one of these tasks (another pass, a retry due at once) under the same id,
        // and a cancelled attempt's entry may have moved to `stopping` (see `start`).
        for entry in batch {
            let task = entry.claimed.task
            if running[task.taskID]?.attempt == task.attempts {
                running[task.taskID] = nil
            } else {
                stopping[StoppedAttempt(task)] = nil
            }
        }
        // Before the wake (a suspension, during which the scheduler may reserve slots): these
        // attempts' slots were counted free through `recordingCount` while their entries stood.
        recordingCount = 0
        if wakesScheduler { await wake.signal() }
    }

    /// Free slots that no outcome write in flight or waiting will claim for (outcomes in the
    /// outbox claim for their own slots when they are written).
    private var slotsNoWriteWillFill: Int { max(0, freeSlots - outbox.count) }

    /// Whether an outcome write left the scheduler something to do. Waking it after every write
    /// cost a round (two store reads and their hand-offs) per task, and the write had already
    /// claimed the slots its outcomes freed, dependents made due included. What is left:
    /// - a claim it could not make or that failed: its slots' tasks were not looked for;
    /// - a claim that took all it asked for while other slots are free: more may be due (another
    ///   claimer may have looked before these outcomes made them due);
    /// - a claimed task not started because it was cancelled meanwhile: its slot is free;
    /// - an outcome refused for another reason than a cancel in between;
    /// - any outcome `needsScheduler(_:)` names.
    static func needsScheduler(after recorded: RecordedOutcomes, claimLimit: Int?, skipped: Int, slotsLeft: Int) -> Bool {
        guard let claimLimit, !recorded.claimFailed, skipped == 0 else { return true }
        if recorded.claimed.count == claimLimit, slotsLeft > 0 { return true }
        return recorded.results.contains { result in
            switch result {
            case let .success(update): needsScheduler(update)
            case let .failure(error): error.reason != .invalidState
            }
        }
    }

    /// Whether one stored outcome left the scheduler something to do: a plan that moved (its
    /// synthesis, a block) or a task that did not simply complete (a retry with a new due time,
    /// another pass, a failure).
    static func needsScheduler(_ update: TaskUpdate) -> Bool {
        if let plan = update.planTransition, plan.from != plan.to { return true }
        return update.task.state != .completed
    }

    private func log(_ update: TaskUpdate) {
        let task = update.task
        let level: Logger.Level = task.state == .escalated || task.state == .failed ? .warning : .info
        // Building the metadata costs more than the transition itself at high rates: only when logged.
        guard logger.logLevel <= level else { return }
        var extra: Logger.Metadata = ["state": "\(task.state)", "attempt": "\(task.attempts)/\(task.maxAttempts)"]
        if let error = task.lastError, task.state != .completed { extra["error"] = "\(error)" }
        if let notBefore = task.notBefore { extra["not_before"] = "\(notBefore)" }
        logger.log(level: level, "task \(update.transition.event.rawValue)", metadata: metadata(task, event: update.transition.event, extra))
        if let planTransition = update.planTransition, let event = planTransition.event {
            logger.info("plan \(planTransition.to)", metadata: ["plan_id": "\(update.plan.planID)", "event": "\(event)"])
        }
    }

    private func metadata(_ task: BoardTask, event: EventKind?, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var result: Logger.Metadata = ["plan_id": "\(task.planID)", "task_id": "\(task.taskID)", "agent": "\(task.agent)"]
        if let event { result["event"] = "\(event)" }
        return result.merging(extra) { _, new in new }
    }

    // MARK: Synthesis

    func synthesize(_ plan: Plan) {
        guard syntheses[plan.planID] == nil else { return }
        let synthesizer = Synthesizer(ceo: registry.ceo, connections: connections)
        let store = store
        let logger = logger
        let metrics = metrics
        syntheses[plan.planID] = Task {
            do {
                let tasks = try await store.tasks(of: plan.planID)
                let contributions = tasks.compactMap { task -> Contribution? in
                    guard task.state == .completed, let result = task.result else { return nil }
                    return Contribution(taskID: task.taskID, result: result)
                }
                let finalPlan = try await synthesizer.synthesize(plan: plan, contributions: contributions, now: .now())
                let now = Timestamp.now()
                _ = try await store.saveFinalPlan(finalPlan, now: now)
                metrics.record(.planClosed)
                metrics.observePlan(seconds: Double(now.milliseconds(since: plan.createdAt)) / 1000)
                logger.info("plan closed", metadata: [
                    "plan_id": "\(plan.planID)", "event": "plan_closed", "confidence": "\(finalPlan.confidence)",
                ])
            } catch is CancellationError {
                // Shutdown: the plan stays `synthesizing` and is picked up again at the next start.
            } catch let failure as AgentFailure {
                metrics.record(.planFailed)
                await Self.recordSynthesisFailure(plan.planID, failure.message, store: store, logger: logger)
            } catch let error as BoardError where error.reason == .invalidState {
                logger.info("synthesis result discarded: \(error.message)", metadata: ["plan_id": "\(plan.planID)"])
            } catch let error as BoardError where error.reason == .storage {
                // The final plan could not be stored (a full disk, a lock): the plan stays
                // `synthesizing` and the scheduler tries again at a later poll. Recording a
                // failure instead would be a smaller write that might fit, failing a sound plan.
                logger.error("cannot store the final plan, will try again: \(error.message)", metadata: ["plan_id": "\(plan.planID)"])
            } catch {
                await Self.recordSynthesisFailure(plan.planID, "\(error)", store: store, logger: logger)
            }
            self.synthesisEnded(plan.planID)
        }
    }

    /// Stops the CEO's planning or synthesis for a plan that was cancelled; the call's late
    /// answer would be refused by the store anyway, but the model server should stop working.
    func cancelCEOWork(_ plan: PlanID) {
        syntheses[plan]?.cancel()
    }

    /// The CEO (a language model) splits a `planning` plan into tasks.
    func planWithCEO(_ plan: Plan) {
        guard syntheses[plan.planID] == nil else { return }
        let planner = CEOPlanner(registry: registry, connections: connections)
        let store = store
        let logger = logger
        let wake = wake
        let metrics = metrics
        syntheses[plan.planID] = Task {
            do {
                let brief = GoalBrief(goal: plan.goal, context: plan.context)
                let (planned, usage) = try await planner.planWithUsage(brief)
                let maxAttempts = try await store.plannedMaxAttempts(of: plan.planID)
                let drafts = planned.map {
                    TaskDraft(agent: $0.role, description: $0.description, maxAttempts: maxAttempts, after: $0.after)
                }
                let origin = usage.map { ChangeOrigin(actor: "daemon", detail: ["usage": $0.json]) } ?? .daemon
                _ = try await store.addPlannedTasks(plan.planID, drafts, now: .now(), origin: origin)
                metrics.record(.planPlanned)
                metrics.record(.taskCreated, count: drafts.count)
                logger.info("plan planned", metadata: [
                    "plan_id": "\(plan.planID)", "event": "plan_planned", "agents": "\(planned.map(\.role).joined(separator: ","))",
                ])
                await wake.signal()
            } catch is CancellationError {
                // Shutdown: the plan stays `planning` and is planned at the next start.
            } catch let error as BoardError where error.reason == .invalidState {
                logger.info("planning result discarded: \(error.message)", metadata: ["plan_id": "\(plan.planID)"])
            } catch let error as BoardError where error.reason == .storage {
                // As for a final plan: the plan stays `planning` and is planned again at a later poll.
                logger.error("cannot store the CEO's plan, will try again: \(error.message)", metadata: ["plan_id": "\(plan.planID)"])
            } catch {
                let message = (error as? AgentFailure)?.message ?? (error as? BoardError)?.message ?? "\(error)"
                logger.warning("planning failed: \(message)", metadata: ["plan_id": "\(plan.planID)", "event": "plan_failed"])
                _ = try? await store.failPlanning(plan.planID, error: "planning failed: " + message, now: .now())
                metrics.record(.planFailed)
            }
            self.synthesisEnded(plan.planID)
        }
    }

    private static func recordSynthesisFailure(_ plan: PlanID, _ message: String, store: any StateStore, logger: Logger) async {
        logger.warning("synthesis failed: \(message)", metadata: ["plan_id": "\(plan)", "event": "plan_failed"])
        _ = try? await store.failSynthesis(plan, error: message, now: .now())
    }

    private func synthesisEnded(_ plan: PlanID) {
        syntheses[plan] = nil
    }
}

struct TimeoutError: Error {}

/// Runs `body`, cancelling it after `milliseconds`. The cancelled body is awaited, so a command
/// agent's process is gone before this returns.
func withTimeout<T: Sendable>(milliseconds: Int64, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(milliseconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimeoutError() }
        return value
    }
}
