import CSystemd
import Foundation
import Glibc
import Synchronization

/// Tells systemd how boardd is doing (`sd_notify`): readiness, a status line, watchdog pings,
/// reloads and stops. Every call is a no-op when boardd was not started by systemd
/// (`$NOTIFY_SOCKET` unset), so foreground runs need nothing special.
final class SystemdNotifier: Sendable {
    /// Half the watchdog interval systemd asked for, or nil when no watchdog is configured.
    let watchdogPingInterval: Duration?
    private let enabled: Bool
    /// Whether boardd was started by systemd: a status line nobody reads need not be computed.
    var isEnabled: Bool { enabled }
    private let lastStatus = Mutex<String>("")

    init() {
        enabled = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil
        var microseconds: UInt64 = 0
        // sd_watchdog_enabled also checks WATCHDOG_PID, so a child that inherited the variables is not confused.
        if sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 {
            watchdogPingInterval = .microseconds(Int64(microseconds / 2))
        } else {
            watchdogPingInterval = nil
        }
    }

    func ready(status: String) {
        send("READY=1\nSTATUS=\(status)")
        lastStatus.withLock { $0 = status }
    }

    /// Updates the status line shown by `systemctl status`; unchanged text is not resent.
    func status(_ text: String) {
        let changed = lastStatus.withLock { last -> Bool in
            guard last != text else { return false }
            last = text
            return true
        }
        if changed { send("STATUS=\(text)") }
    }

    func watchdog() {
        if watchdogPingInterval != nil { send("WATCHDOG=1") }
    }

    /// Starting a reload: systemd waits for the matching `ready` (Type=notify-reload semantics,
    /// which systemd 253+ checks; earlier versions accept and ignore it).
    func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(status)")
    }

    /// Asks systemd for more time before it gives up on the current start or stop.
    func extendTimeout(by duration: Duration) {
        send("EXTEND_TIMEOUT_USEC=\(duration.wholeMicroseconds)")
    }

    /// Reports why start-up failed, for `systemctl status`.
    func failed(_ reason: String) {
        send("STATUS=failed to start: \(reason)")
    }

    private func send(_ message: String) {
        guard enabled else { return }
        _ = sd_notify(0, message)
    }
}
