import GRDB
import Synchronization

/// Runs write operations in shared transactions: whatever arrives while a commit is in flight
/// joins the next one, so under load many transitions share one fsync, and with a single caller
/// each write still commits at once.
///
/// Each operation runs in its own savepoint: one that throws (an `invalid_state` refusal, say)
/// rolls back alone and the rest of the batch still commits.
///
/// A class with a mutex, not an actor: the queue is drained on GRDB's writer thread itself, which
/// takes batches and answers each caller's continuation from there. As an actor, every write went
/// caller → actor → a flush task → the writer thread → the actor again → caller: two more thread
/// wake-ups per write (tens of microseconds each here) on the path of every `plan.create` and
/// every outcome. The lock is held only to append to or take from the queue, never across the
/// database work.
final class GroupCommitWriter: Sendable {
    private struct PendingWrite: Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var queue: [PendingWrite] = []
        /// A drain is scheduled on (or running on) the writer thread; it runs until the queue is empty.
        var draining = false
        var closed = false
    }

    private let pool: DatabasePool
    /// A write after the database file was deleted or replaced would be lost: refused instead.
    private let files: DatabaseFiles
    private let maxBatch: Int
    private let checkpoints: WALCheckpoints
    private let state = Mutex(State())

    init(pool: DatabasePool, checkpoints: WALCheckpoints, maxBatch: Int = 4096) {
        self.pool = pool
        self.checkpoints = checkpoints
        self.maxBatch = maxBatch
        files = DatabaseFiles(path: pool.path)
    }

    func perform<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let write = PendingWrite(work: { try work($0) }, continuation: continuation)
            let accepted = state.withLock { state -> Bool in
                if state.closed { return false }
                state.queue.append(write)
                if !state.draining {
                    state.draining = true
                    // Scheduled under the lock (it only enqueues a block), so that a `close()`
                    // cannot slip its barrier in ahead of this drain.
                    pool.asyncWriteWithoutTransaction { [self] db in drain(db) }
                }
                return true
            }
            if !accepted { continuation.resume(throwing: BoardStoreError.closed) }
        }
        guard let typed = value as? T else { throw BoardStoreError.internalInconsistency("write returned an unexpected type") }
        return typed
    }

    /// Refuses new writes and waits for the ones already queued.
    func close() async {
        // The writer's queue is serial: a block scheduled now runs after any drain scheduled
        // before, and every accepted write was (scheduling happens under the same lock).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { state in
                state.closed = true
                pool.asyncWriteWithoutTransaction { _ in continuation.resume() }
            }
        }
    }

    /// Runs on the writer thread: commits batches until the queue is empty.
    private func drain(_ db: Database) {
        while true {
            let batch = state.withLock { state -> [PendingWrite] in
                let count = min(state.queue.count, maxBatch)
                if count == 0 { state.draining = false }
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            commit(batch, db)
            // After the answers: the checkpoint delays the next batch, not this one.
            if checkpoints.isDue { checkpoints.checkpoint(db) }
        }
    }

    private func commit(_ batch: [PendingWrite], _ db: Database) {
        var results: [Result<any Sendable, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.inTransaction {
                if let refusal = files.writeRefusal() { throw refusal }
                for item in batch {
                    do {
                        results.append(.success(try db.inCachedSavepoint { try item.work(db) }))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
        } catch {
            // The commit itself failed (disk full, I/O error, locked, the file deleted): nothing of the batch was written.
            let mapped = BoardStoreError.map(error)
            for item in batch { item.continuation.resume(throwing: mapped) }
            return
        }
        for (item, result) in zip(batch, results) {
            item.continuation.resume(with: result.mapError(BoardStoreError.map))
        }
    }
}
