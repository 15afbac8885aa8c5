import BoardCore
import BoardStore
import Logging
import ServiceLifecycle

/// Finds work and hands it to the worker: due pending tasks up to the free slots, and plans
/// whose tasks are done (for the CEO to synthesize). Sleeps until woken, until the next task is
/// due, or for the poll interval, whichever comes first.
final class Scheduler: Service {
    private let store: any StateStore
    private let worker: Worker
    private let wake: WakeSignal
    private let logger: Logger
    private let pollIntervalMilliseconds: Int64
    private let shutdownGraceMilliseconds: Int64

    init(store: any StateStore, worker: Worker, wake: WakeSignal, configuration: DaemonConfiguration, logger: Logger) {
        self.store = store
        self.worker = worker
        self.wake = wake
        self.logger = logger
        pollIntervalMilliseconds = configuration.pollIntervalMilliseconds
        shutdownGraceMilliseconds = configuration.shutdownGraceSeconds * 1000
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let saturated = await tick()
                // With every slot busy, only a finished task (which signals) can make progress;
                // waiting for the next due time then would spin.
                await wake.wait(milliseconds: saturated ? pollIntervalMilliseconds : await sleepMilliseconds())
            }
        } onGracefulShutdown: { [wake] in
            Task { await wake.signal() }
        }
        let running = await worker.runningCount
        if running > 0 {
            logger.notice("stopping: waiting up to \(shutdownGraceMilliseconds / 1000) s for \(running) running task(s)")
        }
        await worker.drain(graceMilliseconds: shutdownGraceMilliseconds)
    }

    /// One round of claiming. Returns true when every slot is busy.
    private func tick() async -> Bool {
        do {
            for plan in try await store.plansAwaitingSynthesis(limit: 16) where !(await worker.isSynthesizing(plan.planID)) {
                await worker.synthesize(plan)
            }
            let free = await worker.freeSlots
            guard free > 0 else { return true }
            let claimed = try await store.claimDueTasks(
                owner: worker.owner, now: .now(), leaseMilliseconds: await worker.leaseMilliseconds, limit: free)
            for task in claimed { await worker.start(task) }
            return claimed.count == free
        } catch {
            // A store error (disk full, locked) must not kill the loop: log and retry at the next poll.
            logger.error("scheduler: \(error)")
            return false
        }
    }

    private func sleepMilliseconds() async -> Int64 {
        guard let next = try? await store.nextDueTime() else { return pollIntervalMilliseconds }
        return min(pollIntervalMilliseconds, max(1, next.milliseconds(since: .now())))
    }
}
