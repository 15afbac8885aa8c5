import BoardCore
import Glibc
import Synchronization

/// An exclusive `flock` on the database file: one daemon owns a database at a time.
///
/// SQLite's own locks are per transaction; they cannot stop a second daemon from recovering the
/// first one's running tasks as if they had been interrupted. `flock` locks are independent of
/// the POSIX record locks SQLite uses, so holding one does not disturb SQLite, and the kernel
/// drops it when the process dies, so a crash never leaves a stale lock behind.
final class DatabaseOwnership: Sendable {
    private let descriptor: Mutex<Int32>

    init(path: String) throws {
        // Open read-only when the file exists, so that a refused database is not modified.
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0, errno == ENOENT {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        }
        guard fd >= 0 else {
            throw BoardError(.storage, "cannot open database at \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(fd)
            throw busy
                ? BoardError(.unavailable, "the database at \(path) is in use by another boardd")
                : BoardError(.storage, "cannot lock the database at \(path): \(reason)")
        }
        descriptor = Mutex(fd)
    }

    func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit {
        release()
    }
}
