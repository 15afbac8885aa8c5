import BoardCore
import Glibc

/// Notices when the database's files are deleted, moved or replaced under a running daemon.
///
/// SQLite keeps working on the files it has open: after `rm board.db` every write still
/// succeeds, into a file that no longer has a name, and everything is gone when boardd exits.
/// This remembers the device and inode of `board.db`, `board.db-wal` and `board.db-shm` as they
/// were when the store opened them, and compares them with what the paths name now (one `stat`
/// per file, no SQLite involved). SQLite itself never recreates these files while a connection
/// is open, so any difference is someone else's doing.
public struct DatabaseFiles: Sendable {
    private struct Opened: Sendable {
        var path: String
        var device: UInt64
        var inode: UInt64
    }

    public let path: String
    private let opened: [Opened]

    /// Call once the database is open: a file that does not exist yet is not watched.
    public init(path: String) {
        self.path = path
        opened = ["", "-wal", "-shm"].compactMap { suffix in
            var info = stat()
            guard stat(path + suffix, &info) == 0 else { return nil }
            return Opened(path: path + suffix, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
    }

    /// `nil` while every path still names the file opened at start; otherwise what happened,
    /// e.g. "the database file /var/lib/board/board.db was deleted or moved".
    public func change() -> String? {
        for file in opened {
            let what = file.path == path ? "the database file \(file.path)" : "the database's companion file \(file.path)"
            var info = stat()
            if stat(file.path, &info) != 0 {
                // Another failure (a permission changed on the way, say) proves nothing about the file.
                if errno == ENOENT || errno == ENOTDIR { return "\(what) was deleted or moved" }
            } else if UInt64(info.st_dev) != file.device || UInt64(info.st_ino) != file.inode {
                return "\(what) was replaced by another file"
            }
        }
        return nil
    }

    /// The `storage` error for a write (or a status request) once the files changed.
    public func writeRefusal() -> BoardError? {
        guard let change = change() else { return nil }
        return BoardError(.storage, """
            \(change) while boardd was running; writes are refused, they would be lost with the file boardd \
            still has open. Reads still answer from it: save it with `boardctl backup PATH`, stop boardd, \
            and put the copy in place as \(path) (docs/OPERATIONS.md)
            """)
    }
}
