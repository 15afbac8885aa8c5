import AsyncHTTPClient
import BoardAgents
import BoardCore
import BoardStore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// Composes boardd: opens and recovers the store, binds (or adopts) the control socket, tells
/// systemd it is ready, then runs the control server, the scheduler and the reload handler under
/// one ServiceGroup until SIGTERM or SIGINT.
public enum Daemon {
    public static func run(source: ConfigurationSource, configuration: DaemonConfiguration, levels: LogLevelControl, logger: Logger)
        async throws
    {
        let notifier = SystemdNotifier()
        do {
            try await run(source: source, configuration: configuration, levels: levels, notifier: notifier, logger: logger)
        } catch {
            notifier.failed((error as? BoardError)?.message ?? "\(error)")
            throw error
        }
    }

    private static func run(
        source: ConfigurationSource, configuration: DaemonConfiguration, levels: LogLevelControl, notifier: SystemdNotifier,
        logger: Logger
    ) async throws {
        let activated: Int32?
        do {
            activated = try SocketActivation.controlSocket()
        } catch {
            throw BoardError(.unavailable, error.message)
        }
        // Refuse early, before the database is touched, when another daemon serves this socket
        // (a socket systemd passed is live by design: systemd itself listens on it).
        if activated == nil, SocketPath.isLive(configuration.socketPath) {
            throw BoardError(.unavailable, "another boardd is already listening on \(configuration.socketPath)")
        }
        // Opening may run schema migrations; ask systemd for the time they take.
        notifier.extendTimeout(by: .seconds(90))
        let store = try SQLiteStateStore(configuration: StoreConfiguration(
            path: configuration.databasePath, synchronous: configuration.synchronous))
        if !SQLiteStateStore.processSettingsApplied {
            logger.notice("SQLite was initialized before the store opened: its memory statistics stay on (slower writes)")
        }
        let files = DatabaseFiles(path: configuration.databasePath)
        do {
            try await serve(
                store: store, files: files, activated: activated, source: source, configuration: configuration,
                levels: levels, notifier: notifier, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        // Checked before closing: a clean close removes the -wal and -shm files itself.
        let change = files.change()
        do {
            try await store.close()
        } catch {
            // A full disk, typically: the checkpoint could not copy the log into the database file.
            let reason = (error as? BoardError)?.message ?? "\(error)"
            throw BoardError(.storage, """
                cannot fold the write-ahead log back into the database at stop: \(reason). Nothing acknowledged \
                is lost: keep \(configuration.databasePath)-wal beside the database, the next start applies it
                """)
        }
        if let change {
            throw BoardError(.storage, """
                \(change) while boardd was running: what it held is gone unless it was saved with `boardctl backup` \
                (writes were refused from then on)
                """)
        }
        logger.notice("boardd stopped")
    }

    private static func serve(
        store: SQLiteStateStore, files: DatabaseFiles, activated: Int32?, source: ConfigurationSource,
        configuration: DaemonConfiguration, levels: LogLevelControl, notifier: SystemdNotifier, logger: Logger
    ) async throws {
        let startedAt = Timestamp.now()
        // Agents a crashed daemon left running: any process claiming a task of this database.
        // (Holding the database's lock means no other live daemon works on these tasks; an agent
        // of a task cancelled just before the crash counts too.)
        for agent in OrphanAgents.scan() where try await store.task(agent.task) != nil {
            OrphanAgents.kill(agent.pid)
            logger.warning("stopped an agent process left running by the previous daemon", metadata: [
                "pid": "\(agent.pid)", "task_id": "\(agent.task)", "claim": "\(agent.owner)",
            ])
        }
        let metrics = Metrics()
        for update in try await store.recoverInterruptedTasks(now: startedAt) {
            metrics.record(update)
            logger.warning("task recovered after an unclean stop", metadata: [
                "plan_id": "\(update.task.planID)", "task_id": "\(update.task.taskID)", "agent": "\(update.task.agent)",
                "event": "task_recovered", "state": "\(update.task.state)",
                "attempt": "\(update.task.attempts)/\(update.task.maxAttempts)",
            ])
        }
        let live = LiveConfiguration(configuration)
        let wake = WakeSignal()
        let pid = ProcessInfo.processInfo.processIdentifier
        let owner = "boardd-\(pid)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        // One HTTP client for every LLM agent. A refused connection fails the attempt at once
        // (the task's own retry policy, with backoff, decides what happens next) instead of the
        // client silently retrying until its connect timeout.
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.timeout.connect = .seconds(10)
        let httpClient = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: httpConfiguration)
        defer { httpClient.shutdown { _ in } }
        let worker = Worker(
            store: store, wake: wake, configuration: configuration, owner: owner,
            connections: LLMConnections(httpClient: httpClient), metrics: metrics, logger: logger)
        let reloader = Reloader(
            source: source, live: live, worker: worker, wake: wake, levels: levels, notifier: notifier, logger: logger)
        let handler = RequestHandler(
            store: store, worker: worker, wake: wake, live: live, reloader: reloader, metrics: metrics, startedAt: startedAt,
            databaseFiles: files, logger: logger)
        let listener: ControlServer.Listener = activated.map { .inherited($0, path: configuration.socketPath) }
            ?? .path(configuration.socketPath, mode: configuration.socketMode)
        let server = try await ControlServer(
            listener: listener, maxLineBytes: configuration.maxLineBytes, handler: handler,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let scheduler = Scheduler(
            store: store, worker: worker, wake: wake, live: live, notifier: notifier, metrics: metrics, logger: logger)

        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                // Shut down in reverse: the scheduler drains running tasks first while the
                // control socket still answers, then the socket closes.
                .init(service: server),
                .init(service: ReloadOnHangup(reloader: reloader)),
                .init(service: scheduler),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds + 30)
        let group = ServiceGroup(configuration: groupConfiguration)

        let stats = try await store.statistics()
        notifier.ready(status: Scheduler.statusLine(running: 0, stats))
        logger.notice("boardd ready", metadata: [
            "socket": "\(configuration.socketPath)", "database": "\(configuration.databasePath)",
            "concurrency": "\(configuration.concurrency)", "pid": "\(pid)",
            "activation": "\(activated == nil ? "bound" : "systemd socket")",
        ])
        try await group.run()
    }
}
