import BoardCore
import BoardProtocol
import Logging
import ServiceLifecycle
import UnixSignals

/// Applies a changed configuration file to the running daemon without dropping connections or
/// running tasks. One reload at a time, whether from SIGHUP or `config.reload`.
actor Reloader {
    private let source: ConfigurationSource
    private let live: LiveConfiguration
    private let worker: Worker
    private let wake: WakeSignal
    private let levels: LogLevelControl
    private let notifier: SystemdNotifier
    private let logger: Logger

    init(
        source: ConfigurationSource, live: LiveConfiguration, worker: Worker, wake: WakeSignal, levels: LogLevelControl,
        notifier: SystemdNotifier, logger: Logger
    ) {
        self.source = source
        self.live = live
        self.worker = worker
        self.wake = wake
        self.levels = levels
        self.notifier = notifier
        self.logger = logger
    }

    /// Reads the configuration again. An invalid file is refused with its error and the running
    /// configuration stays; settings that need a restart are reported and left as they are.
    func reload(trigger: String) async throws(BoardError) -> ReloadResult {
        notifier.reloading()
        let fresh: DaemonConfiguration
        do {
            fresh = try source.load()
        } catch {
            logger.error("configuration reload refused, keeping the running configuration: \(error.message)", metadata: [
                "trigger": "\(trigger)",
            ])
            notifier.ready(status: "reload refused: \(error.message)")
            throw error
        }
        let running = live.configuration
        let changed = fresh.changedKeys(comparedTo: running)
        let restartRequired = changed.filter(DaemonConfiguration.restartOnlyKeys.contains)
        let applied = fresh.keepingRestartOnlySettings(of: running)
        live.replace(applied)
        levels.level = applied.logLevel
        await worker.apply(applied)
        // More slots, or a shorter poll interval, apply now rather than after the current wait.
        await wake.signal()
        let appliedKeys = changed.filter { !restartRequired.contains($0) }
        logger.notice("configuration reloaded", metadata: [
            "trigger": "\(trigger)", "changed": "\(appliedKeys.joined(separator: ","))",
            "restart_required": "\(restartRequired.joined(separator: ","))",
        ])
        notifier.ready(status: "configuration reloaded")
        return ReloadResult(applied: appliedKeys, restartRequired: restartRequired)
    }
}

/// Reloads on SIGHUP, the convention `systemctl reload` (ExecReload=kill -HUP) relies on.
struct ReloadOnHangup: Service {
    let reloader: Reloader

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            // A refused reload has been logged and reported to systemd; the daemon carries on.
            _ = try? await reloader.reload(trigger: "SIGHUP")
        }
    }
}
