import CSystemd
import Foundation

/// When a daemon gone quiet gives memory back: once per stretch of activity, after
/// `quietPeriod` without any. A burst of plans leaves glibc's arenas (up to eight per core,
/// shared by the threads that allocated) holding freed memory, and SQLite's page cache full; an
/// idle daemon should not sit on them. systemd's daemons trim the same way, though on memory
/// pressure rather than on quiet (`sd_event_trim_memory`).
struct IdleMemoryRelease {
    static let quietPeriod: Duration = .seconds(2)

    private var lastActivity: ContinuousClock.Instant
    /// Nothing to give back at start.
    private var releasedSinceActivity = true

    init(now: ContinuousClock.Instant = .now) {
        lastActivity = now
    }

    mutating func noteActivity(now: ContinuousClock.Instant = .now) {
        lastActivity = now
        releasedSinceActivity = false
    }

    /// Whether to release now; true at most once per stretch of activity.
    mutating func isDue(now: ContinuousClock.Instant = .now) -> Bool {
        guard !releasedSinceActivity, now - lastActivity >= Self.quietPeriod else { return false }
        releasedSinceActivity = true
        return true
    }

    /// Returns the heap's free memory to the kernel (every arena, not only the top of the main one).
    static func trimHeap() {
        _ = malloc_trim(0)
    }

    /// The process's resident memory in KiB (`/proc/self/statm`), for the log; nil where unknown.
    static func residentKiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }
}
