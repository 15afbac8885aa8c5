import GRDB
import GRDBSQLite
import Synchronization

/// Takes SQLite's automatic WAL checkpoint out of the commit.
///
/// SQLite runs its checkpoint inside the commit that takes the log past 1,000 pages, so the
/// request behind that commit waited for pages to be copied into the database file and for its
/// fsync: a few milliseconds, the whole tail of `plan.create`'s latency. With this hook the
/// commit only records the log's size; the writer answers the batch first and then runs the
/// same passive checkpoint at the same threshold, before it takes the next batch. The log stays
/// as bounded as before (a checkpoint that cannot finish, say on a full disk, is retried after
/// the next commit, as SQLite would).
final class WALCheckpoints: Sendable {
    /// SQLite's own default for `wal_autocheckpoint`.
    static let thresholdFrames: Int32 = 1000

    /// Frames in the log after the last commit, as the hook reported them.
    private let frames = Atomic<Int32>(0)

    /// Installs the hook on a connection. Setting a WAL hook replaces SQLite's automatic
    /// checkpoint on that connection (the two share one slot).
    func install(on db: Database) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(db.sqliteConnection, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALCheckpoints>.fromOpaque(context).takeUnretainedValue().frames.store(frames, ordering: .relaxed)
            return SQLITE_OK
        }, context)
    }

    var isDue: Bool { frames.load(ordering: .relaxed) >= Self.thresholdFrames }

    /// Runs after a batch was answered, on the writer (no transaction open).
    func checkpoint(_ db: Database) {
        // PASSIVE, as SQLite's automatic one: copies what no reader still needs, never waits.
        // Errors (a full disk, say) are left for the next round, as SQLite leaves them.
        _ = try? db.checkpoint(.passive)
        frames.store(0, ordering: .relaxed)
    }
}
