import BoardCore
import Foundation
import Glibc

/// Finds and stops agent processes that outlived a crashed daemon.
///
/// A command agent runs in its own process group, so when boardd is killed (SIGKILL, OOM) its
/// agents keep running. The restarted daemon recovers their tasks and may run them again; the
/// stale agents must not run on beside them. Every agent process carries its claim in the
/// environment variable `BOARD_CLAIM` (inherited by its children); at start-up the daemon looks
/// for the claims of the tasks it recovers and kills those processes and their groups.
/// (Under systemd the unit's cgroup is cleaned up anyway; this covers foreground runs.)
public enum OrphanAgents {
    public static let claimVariable = "BOARD_CLAIM"

    public static func claim(owner: String, task: TaskID) -> String {
        "\(owner) \(task.rawValue)"
    }

    /// An agent process found running, and the claim it carries.
    public struct Found: Sendable, Equatable {
        public var pid: pid_t
        public var owner: String
        public var task: TaskID
    }

    /// Every readable process carrying a `BOARD_CLAIM` (agents of any boardd, this one excepted).
    public static func scan(procRoot: String = "/proc") -> [Found] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: procRoot) else { return [] }
        let own = getpid()
        var found: [Found] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != own,
                  let environ = FileManager.default.contents(atPath: "\(procRoot)/\(entry)/environ"),
                  let claim = value(of: claimVariable, in: environ)
            else { continue }
            let parts = claim.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let task = TaskID(parts[1]) else { continue }
            found.append(Found(pid: pid, owner: parts[0], task: task))
        }
        return found
    }

    /// SIGKILL to the process and, when it leads one, its process group.
    public static func kill(_ pid: pid_t) {
        let group = getpgid(pid)
        if group == pid { Glibc.kill(-group, SIGKILL) }
        Glibc.kill(pid, SIGKILL)
    }

    /// Sends SIGKILL to every process (and its process group) whose `BOARD_CLAIM` is in `claims`.
    /// Returns the pids it signalled. Processes of other users cannot be read and are skipped.
    @discardableResult
    public static func terminate(claims: Set<String>, procRoot: String = "/proc") -> [pid_t] {
        guard !claims.isEmpty else { return [] }
        let matches = scan(procRoot: procRoot).filter { claims.contains(claim(owner: $0.owner, task: $0.task)) }
        for match in matches { kill(match.pid) }
        return matches.map(\.pid)
    }

    /// Reads `NAME=value` out of a NUL-separated environment block.
    static func value(of name: String, in environ: Data) -> String? {
        let prefix = Array((name + "=").utf8)
        for entry in environ.split(separator: 0, omittingEmptySubsequences: true) where entry.starts(with: prefix) {
            return String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)
        }
        return nil
    }
}
