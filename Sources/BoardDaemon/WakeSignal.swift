/// Wakes the scheduler early: a submission, a retry or a finished task should start the next
/// task at once, not at the next poll. Signals while nobody waits are remembered (once).
actor WakeSignal {
    private var pending = false
    private var waiter: CheckedContinuation<Bool, Never>?
    private var generation = 0

    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: true)
        } else {
            pending = true
        }
    }

    /// Returns `true` on a signal, `false` after `milliseconds` or when the calling task is cancelled.
    func wait(milliseconds: Int64) async -> Bool {
        if pending {
            pending = false
            return true
        }
        generation += 1
        let token = generation
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(max(0, milliseconds)))
            await self?.expire(token)
        }
        let signalled = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: false)
                } else {
                    waiter = continuation
                }
            }
        } onCancel: {
            Task { await self.expire(nil) }
        }
        timer.cancel()
        return signalled
    }

    /// Ends the current wait if it is still the one `token` belongs to (`nil`: whichever).
    private func expire(_ token: Int?) {
        guard token == nil || token == generation, let waiter else { return }
        self.waiter = nil
        waiter.resume(returning: false)
    }
}
