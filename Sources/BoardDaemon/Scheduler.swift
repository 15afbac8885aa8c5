import BoardCore
import BoardStore
import Foundation
import Logging
import ServiceLifecycle

/// Finds work and hands it to the worker: due pending tasks up to the free slots, and plans
/// whose tasks are done (for the CEO to synthesize). Sleeps until woken, until the next task is
/// due, or for the poll interval, whichever comes first; while polls find nothing to do, the
/// poll interval grows (`IdlePoll`).
///
/// The systemd watchdog is fed from this loop on purpose: if the loop or the store wedges, the
/// pings stop and systemd restarts the daemon.
final class Scheduler: Service {
    private let store: any StateStore
    private let worker: Worker
    private let wake: WakeSignal
    private let live: LiveConfiguration
    private let notifier: SystemdNotifier
    private let metrics: Metrics
    private let logger: Logger
    /// Test-only (`BOARD_TEST_WEDGE_SCHEDULER=after-claim`): hang once a task has been claimed
    /// (by this loop, or by a `plan.create` or an outcome write claiming in its own transaction)
    /// and runs, to prove that the watchdog catches a wedged scheduler.
    private let wedgeAfterClaim: Bool

    init(
        store: any StateStore, worker: Worker, wake: WakeSignal, live: LiveConfiguration, notifier: SystemdNotifier,
        metrics: Metrics, logger: Logger
    ) {
        self.store = store
        self.worker = worker
        self.wake = wake
        self.live = live
        self.notifier = notifier
        self.metrics = metrics
        self.logger = logger
        wedgeAfterClaim = ProcessInfo.processInfo.environment["BOARD_TEST_WEDGE_SCHEDULER"] == "after-claim"
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            var lastStatus = ContinuousClock.now - .seconds(10)
            var idleMemory = IdleMemoryRelease()
            var idlePoll = IdlePoll()
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                // Pinged before the round as well as after it: the rounds of an idle daemon come
                // a ping interval apart, and a slow round must not count against that interval.
                notifier.watchdog()
                let (saturated, claimed, foundPlans) = await tick()
                metrics.countSchedulerPoll()
                if claimed > 0 { idleMemory.noteActivity() }
                if wedgeAfterClaim {
                    let running = await worker.runningCount
                    if claimed > 0 || running > 0 { await wedge() }
                }
                notifier.watchdog()
                let statusOwed = await reportStatus(last: &lastStatus)
                let settings = live.configuration
                // The worker is asked only when the round itself found nothing: an actor hop less
                // per round under load.
                let quiet = !saturated && claimed == 0 && !foundPlans ? await worker.isIdle : false
                let poll = idlePoll.next(
                    afterQuietPoll: quiet, base: settings.pollIntervalMilliseconds, ceiling: settings.idlePollMaxMilliseconds)
                // With every slot busy, only a finished task (which signals) can make progress;
                // waiting for the next due time then would spin.
                let timeout = Self.waitMilliseconds(
                    poll: poll, base: settings.pollIntervalMilliseconds, nextDue: saturated ? .none : await nextDue(),
                    watchdogPing: notifier.watchdogPingInterval, statusOwed: statusOwed)
                // Submissions and finished tasks signal; a wait without one may be quiet, unless
                // the worker is still at work (a long task, the CEO's model call), which then
                // counts as activity until it ends.
                if await wake.wait(milliseconds: timeout) {
                    idleMemory.noteActivity()
                    idlePoll.reset()
                } else if idleMemory.isDue() {
                    if await worker.isIdle {
                        await releaseIdleMemory()
                    } else {
                        idleMemory.noteActivity()
                    }
                }
            }
        } onGracefulShutdown: { [wake] in
            Task { await wake.signal() }
        }
        await drain()
    }

    /// Stops claiming and gives running tasks their grace period, keeping systemd informed.
    private func drain() async {
        let grace = live.configuration.shutdownGraceSeconds
        let running = await worker.runningCount
        notifier.stopping(status: running > 0 ? "stopping: waiting up to \(grace) s for \(running) running task(s)" : "stopping")
        if running > 0 {
            logger.notice("stopping: waiting up to \(grace) s for \(running) running task(s)")
            // Whatever TimeoutStopSec says, the grace period is what the operator configured.
            notifier.extendTimeout(by: .seconds(grace + 15))
        }
        let pings = notifier.watchdogPingInterval.map { _ in
            Task { [notifier] in
                while !Task.isCancelled {
                    notifier.watchdog()
                    try? await Task.sleep(for: notifier.watchdogPingInterval ?? .seconds(1))
                }
            }
        }
        await worker.drain(graceMilliseconds: grace * 1000)
        pings?.cancel()
    }

    /// One round of claiming. Returns whether every slot is busy, how many tasks it claimed, and
    /// whether any plan waited for the CEO (planning or synthesis, started now or already running).
    private func tick() async -> (saturated: Bool, claimed: Int, foundPlans: Bool) {
        do {
            // Claims first: a free slot waits for nothing else (the plans' turn comes right after).
            // Reserved, not just read: plan.create and the worker's outcome writes claim into free
            // slots too, and two claimers reading the same free count would overfill them.
            let claim = await worker.reserveClaim()
            var claimed: [ClaimedTask] = []
            if let claim {
                do {
                    claimed = try await store.claimDueTasks(
                        owner: claim.owner, now: .now(), leaseMilliseconds: claim.leaseMilliseconds, limit: claim.limit)
                } catch {
                    await worker.start([], releasing: claim)
                    throw error
                }
                await worker.start(claimed, releasing: claim)
            }
            let planning = try await store.plansAwaitingPlanning(limit: 16)
            for plan in planning where !(await worker.isSynthesizing(plan.planID)) {
                await worker.planWithCEO(plan)
            }
            let synthesis = try await store.plansAwaitingSynthesis(limit: 16)
            for plan in synthesis where !(await worker.isSynthesizing(plan.planID)) {
                await worker.synthesize(plan)
            }
            return (claimed.count == (claim?.limit ?? 0), claimed.count, !planning.isEmpty || !synthesis.isEmpty)
        } catch {
            // A store error (disk full, locked) must not kill the loop: log and retry at the next poll.
            // Reported as saturated so that the loop waits a whole poll interval: the next due time
            // may well be past already, and waiting for it would retry (and log) in a tight loop.
            logger.error("scheduler: \(error)")
            return (true, 0, false)
        }
    }

    private func releaseIdleMemory() async {
        let logged = logger.logLevel <= .debug
        let before = logged ? IdleMemoryRelease.residentKiB() : nil
        let started = ContinuousClock.now
        await store.releaseMemory()
        IdleMemoryRelease.trimHeap()
        let took = ContinuousClock.now - started
        guard logged else { return }
        let after = IdleMemoryRelease.residentKiB()
        logger.debug("quiet: memory given back", metadata: [
            "event": "memory_released", "rss_kib_before": "\(before.map(String.init) ?? "?")",
            "rss_kib_after": "\(after.map(String.init) ?? "?")",
            "took_us": "\(took.wholeMicroseconds)",
        ])
    }

    /// "2 running, 12 pending, 3 plans open" for `systemctl status`, at most once a second.
    /// Returns how long until a report held back by that limit may be sent; nil when none is.
    private func reportStatus(last: inout ContinuousClock.Instant) async -> Duration? {
        guard notifier.isEnabled else { return nil }
        let since = ContinuousClock.now - last
        guard since >= .seconds(1) else { return .seconds(1) - since }
        last = .now
        guard let stats = try? await store.statistics() else { return nil }
        notifier.status(Self.statusLine(running: await worker.runningCount, stats))
        return nil
    }

    static func statusLine(running: Int, _ stats: StoreStatistics) -> String {
        var parts = ["\(running) running", "\(stats.pendingTasks) pending", "\(stats.openPlans) plans open"]
        if stats.blockedPlans > 0 { parts.append("\(stats.blockedPlans) blocked") }
        if stats.failedPlans > 0 { parts.append("\(stats.failedPlans) failed") }
        return parts.joined(separator: ", ")
    }

    /// When the next pending task is due, as far as the store can tell.
    enum NextDue: Equatable {
        case none
        case inMilliseconds(Int64)
        /// The store could not be read.
        case unknown
    }

    private func nextDue() async -> NextDue {
        do {
            guard let next = try await store.nextDueTime() else { return .none }
            return .inMilliseconds(next.milliseconds(since: .now()))
        } catch {
            return .unknown
        }
    }

    /// How long the loop waits for a signal after a round: the poll interval (backed off while
    /// idle), cut short by the next task due, the watchdog's ping interval, and a status report
    /// held back by its once-a-second limit.
    static func waitMilliseconds(
        poll: Int64, base: Int64, nextDue: NextDue, watchdogPing: Duration?, statusOwed: Duration?
    ) -> Int64 {
        var wait = poll
        switch nextDue {
        case .none: break
        case .inMilliseconds(let milliseconds): wait = min(wait, max(1, milliseconds))
        // A retry may be due any moment: wait no longer than without the backoff.
        case .unknown: wait = min(wait, base)
        }
        if let watchdogPing { wait = min(wait, max(1, watchdogPing.wholeMilliseconds)) }
        // Rounded up: a wait ending just short of the limit would only hold the report back again.
        if let statusOwed { wait = min(wait, statusOwed.wholeMilliseconds + 1) }
        return wait
    }

    private func wedge() async -> Never {
        logger.critical("test switch BOARD_TEST_WEDGE_SCHEDULER: the scheduler now hangs (no more watchdog pings)")
        while true {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
