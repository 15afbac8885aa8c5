import BoardCore
import GRDB

enum BoardStoreError {
    static let closed = BoardError(.unavailable, "the store is closed")

    static func internalInconsistency(_ message: String) -> BoardError {
        BoardError(.internalError, "store: \(message)")
    }

    /// Domain errors pass through; SQLite's become `storage` errors that say what failed and what
    /// still works (SQLite's own text stays at the end, after a colon).
    static func map(_ error: any Error) -> any Error {
        if error is BoardError { return error }
        if let database = error as? DatabaseError {
            let detail = database.message ?? "\(database.resultCode)"
            switch database.resultCode {
            case .SQLITE_FULL:
                return BoardError(.storage, "storage is full (free space on the file system holding the database; writes fail until then, reads still work): \(detail)")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return BoardError(.storage, "the database is locked by another process (gave up after the busy timeout; reads still work): \(detail)")
            case .SQLITE_READONLY:
                return BoardError(.storage, "the database is read-only: \(detail)")
            case .SQLITE_CANTOPEN:
                return BoardError(.storage, "cannot open the database file (deleted or moved while boardd runs?): \(detail)")
            default:
                return BoardError(.storage, "storage error (SQLite code \(database.extendedResultCode.rawValue)): \(detail)")
            }
        }
        if error is CancellationError { return error }
        return BoardError(.storage, "storage error: \(error)")
    }
}
