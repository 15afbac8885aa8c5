import BoardAgents
import BoardCore
import BoardStore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// Composes boardd: opens and recovers the store, binds the control socket, then runs the
/// control server and the scheduler under one ServiceGroup until SIGTERM or SIGINT.
public enum Daemon {
    public static func run(configuration: DaemonConfiguration, logger: Logger) async throws {
        // Refuse early, before the database is touched, when another daemon serves this socket.
        if SocketPath.isLive(configuration.socketPath) {
            throw BoardError(.unavailable, "another boardd is already listening on \(configuration.socketPath)")
        }
        let store = try SQLiteStateStore(configuration: StoreConfiguration(
            path: configuration.databasePath, synchronous: configuration.synchronous))
        do {
            try await serve(store: store, configuration: configuration, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        logger.notice("boardd stopped")
    }

    private static func serve(store: SQLiteStateStore, configuration: DaemonConfiguration, logger: Logger) async throws {
        let startedAt = Timestamp.now()
        let interrupted = try await store.runningTasks()
        let claims = Set(interrupted.compactMap { task in task.claimOwner.map { OrphanAgents.claim(owner: $0, task: task.taskID) } })
        for pid in OrphanAgents.terminate(claims: claims) {
            logger.warning("stopped an agent process left running by the previous daemon", metadata: ["pid": "\(pid)"])
        }
        for update in try await store.recoverInterruptedTasks(now: startedAt) {
            logger.warning("task recovered after an unclean stop", metadata: [
                "plan_id": "\(update.task.planID)", "task_id": "\(update.task.taskID)", "agent": "\(update.task.agent)",
                "event": "task_recovered", "state": "\(update.task.state)",
                "attempt": "\(update.task.attempts)/\(update.task.maxAttempts)",
            ])
        }
        let wake = WakeSignal()
        let pid = ProcessInfo.processInfo.processIdentifier
        let owner = "boardd-\(pid)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let worker = Worker(store: store, wake: wake, configuration: configuration, owner: owner, logger: logger)
        let handler = RequestHandler(
            store: store, worker: worker, wake: wake, configuration: configuration, startedAt: startedAt, logger: logger)
        let server = try await ControlServer(
            path: configuration.socketPath, mode: configuration.socketMode, maxLineBytes: configuration.maxLineBytes,
            handler: handler, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let scheduler = Scheduler(store: store, worker: worker, wake: wake, configuration: configuration, logger: logger)

        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                // Shut down in reverse: the scheduler drains running tasks first while the
                // control socket still answers, then the socket closes.
                .init(service: server),
                .init(service: scheduler),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds + 30)
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.notice("boardd ready", metadata: [
            "socket": "\(configuration.socketPath)", "database": "\(configuration.databasePath)",
            "concurrency": "\(configuration.concurrency)", "pid": "\(pid)",
        ])
        try await group.run()
    }
}
