import GRDB

/// Runs write operations in shared transactions: whatever arrives while a commit is in flight
/// joins the next one, so under load many transitions share one fsync, and with a single caller
/// each write still commits at once.
///
/// Each operation runs in its own savepoint: one that throws (an `invalid_state` refusal, say)
/// rolls back alone and the rest of the batch still commits.
actor GroupCommitWriter {
    private struct PendingWrite: Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private let pool: DatabasePool
    /// A write after the database file was deleted or replaced would be lost: refused instead.
    private let files: DatabaseFiles
    private let maxBatch: Int
    private let checkpoints: WALCheckpoints
    private var queue: [PendingWrite] = []
    private var flushing = false
    private var closed = false

    init(pool: DatabasePool, checkpoints: WALCheckpoints, maxBatch: Int = 4096) {
        self.pool = pool
        self.checkpoints = checkpoints
        self.maxBatch = maxBatch
        files = DatabaseFiles(path: pool.path)
    }

    func perform<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if closed { throw BoardStoreError.closed }
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            queue.append(PendingWrite(work: { try work($0) }, continuation: continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
        guard let typed = value as? T else { throw BoardStoreError.internalInconsistency("write returned an unexpected type") }
        return typed
    }

    /// Refuses new writes and waits for the ones already queued.
    func close() async {
        closed = true
        while flushing { await Task.yield() }
    }

    private func flush() async {
        while !queue.isEmpty {
            let count = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            do {
                let results = try await pool.write { [files] db in
                    if let refusal = files.writeRefusal() { throw refusal }
                    return batch.map { item -> Result<any Sendable, any Error> in
                        do {
                            return .success(try db.inCachedSavepoint { try item.work(db) })
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                for (item, result) in zip(batch, results) {
                    item.continuation.resume(with: result.mapError(BoardStoreError.map))
                }
                // After the answers: the checkpoint delays the next batch, not this one.
                if checkpoints.isDue {
                    try? await pool.writeWithoutTransaction { [checkpoints] db in checkpoints.checkpoint(db) }
                }
            } catch {
                // The commit itself failed (disk full, I/O error, locked, the file deleted): nothing of the batch was written.
                let mapped = BoardStoreError.map(error)
                for item in batch { item.continuation.resume(throwing: mapped) }
            }
        }
        flushing = false
    }
}
