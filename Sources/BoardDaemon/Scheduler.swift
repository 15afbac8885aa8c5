import BoardCore
import BoardStore
import Foundation
import Logging
import ServiceLifecycle

/// Finds work and hands it to the worker: due pending tasks up to the free slots, and plans
/// whose tasks are done (for the CEO to synthesize). Sleeps until woken, until the next task is
/// due, or for the poll interval, whichever comes first.
///
/// The systemd watchdog is fed from this loop on purpose: if the loop or the store wedges, the
/// pings stop and systemd restarts the daemon.
final class Scheduler: Service {
    private let store: any StateStore
    private let worker: Worker
    private let wake: WakeSignal
    private let live: LiveConfiguration
    private let notifier: SystemdNotifier
    private let logger: Logger
    /// Test-only (`BOARD_TEST_WEDGE_SCHEDULER=after-claim`): hang once a task has been claimed
    /// (by this loop, or by a `plan.create` or an outcome write claiming in its own transaction)
    /// and runs, to prove that the watchdog catches a wedged scheduler.
    private let wedgeAfterClaim: Bool

    init(
        store: any StateStore, worker: Worker, wake: WakeSignal, live: LiveConfiguration, notifier: SystemdNotifier,
        logger: Logger
    ) {
        self.store = store
        self.worker = worker
        self.wake = wake
        self.live = live
        self.notifier = notifier
        self.logger = logger
        wedgeAfterClaim = ProcessInfo.processInfo.environment["BOARD_TEST_WEDGE_SCHEDULER"] == "after-claim"
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            var lastStatus = ContinuousClock.now - .seconds(10)
            var idleMemory = IdleMemoryRelease()
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let (saturated, claimed) = await tick()
                if claimed > 0 { idleMemory.noteActivity() }
                if wedgeAfterClaim {
                    let running = await worker.runningCount
                    if claimed > 0 || running > 0 { await wedge() }
                }
                notifier.watchdog()
                await reportStatus(last: &lastStatus)
                let poll = live.configuration.pollIntervalMilliseconds
                // With every slot busy, only a finished task (which signals) can make progress;
                // waiting for the next due time then would spin.
                var timeout = saturated ? poll : await sleepMilliseconds(poll: poll)
                if let ping = notifier.watchdogPingInterval {
                    timeout = min(timeout, max(1, ping.wholeMilliseconds))
                }
                // Submissions and finished tasks signal; a wait without one may be quiet, unless
                // the worker is still at work (a long task, the CEO's model call), which then
                // counts as activity until it ends.
                if await wake.wait(milliseconds: timeout) {
                    idleMemory.noteActivity()
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

    /// One round of claiming. Returns whether every slot is busy, and how many tasks it claimed.
    private func tick() async -> (saturated: Bool, claimed: Int) {
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
            for plan in try await store.plansAwaitingPlanning(limit: 16) where !(await worker.isSynthesizing(plan.planID)) {
                await worker.planWithCEO(plan)
            }
            for plan in try await store.plansAwaitingSynthesis(limit: 16) where !(await worker.isSynthesizing(plan.planID)) {
                await worker.synthesize(plan)
            }
            return (claimed.count == (claim?.limit ?? 0), claimed.count)
        } catch {
            // A store error (disk full, locked) must not kill the loop: log and retry at the next poll.
            // Reported as saturated so that the loop waits a whole poll interval: the next due time
            // may well be past already, and waiting for it would retry (and log) in a tight loop.
            logger.error("scheduler: \(error)")
            return (true, 0)
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
    private func reportStatus(last: inout ContinuousClock.Instant) async {
        guard ContinuousClock.now - last >= .seconds(1) else { return }
        last = .now
        guard let stats = try? await store.statistics() else { return }
        notifier.status(Self.statusLine(running: await worker.runningCount, stats))
    }

    static func statusLine(running: Int, _ stats: StoreStatistics) -> String {
        var parts = ["\(running) running", "\(stats.pendingTasks) pending", "\(stats.openPlans) plans open"]
        if stats.blockedPlans > 0 { parts.append("\(stats.blockedPlans) blocked") }
        if stats.failedPlans > 0 { parts.append("\(stats.failedPlans) failed") }
        return parts.joined(separator: ", ")
    }

    private func sleepMilliseconds(poll: Int64) async -> Int64 {
        guard let next = try? await store.nextDueTime() else { return poll }
        return min(poll, max(1, next.milliseconds(since: .now())))
    }

    private func wedge() async -> Never {
        logger.critical("test switch BOARD_TEST_WEDGE_SCHEDULER: the scheduler now hangs (no more watchdog pings)")
        while true {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
