import ArgumentParser
import BoardCore
import BoardDaemon
import Foundation
import Logging

/// boardd: the board daemon. Everything it does lives in BoardDaemon; this only reads the
/// command line and the configuration.
@main
struct Boardd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boardd",
        abstract: "The board daemon: durable plans worked by a board of AI executives.",
        discussion: """
            Defaults suit a system service: configuration \(DaemonConfiguration.systemConfigPath) (if present), \
            socket \(DaemonConfiguration.systemSocketPath), database \(DaemonConfiguration.systemDatabasePath). \
            For a developer run, --state-dir DIR keeps the socket and database in DIR.
            """)

    @Option(name: .long, help: "Configuration file (JSON). Default: \(DaemonConfiguration.systemConfigPath) when it exists.")
    var config: String?

    @Option(name: .long, help: "Directory for the socket (boardd.sock) and database (board.db); created if missing.")
    var stateDir: String?

    @Option(name: .long, help: "Control socket path (overrides the configuration).")
    var socket: String?

    @Option(name: .long, help: "SQLite database path (overrides the configuration).")
    var database: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        do {
            var configuration = try loadConfiguration()
            if let level = logLevel {
                guard let parsed = Logger.Level(rawValue: level) else { throw BoardError(.invalidConfig, "--log-level \(level) is not a level") }
                configuration.logLevel = parsed
            }
            let level = configuration.logLevel
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "boardd")
            try await Daemon.run(configuration: configuration, logger: logger)
        } catch let error as BoardError {
            FileHandle.standardError.write(Data("boardd: \(error.message)\n".utf8))
            throw ExitCode(error.reason == .invalidConfig ? 78 : 1)
        }
    }

    private func loadConfiguration() throws -> DaemonConfiguration {
        var configuration: DaemonConfiguration
        if let config {
            configuration = try DaemonConfiguration.load(path: config)
        } else if FileManager.default.fileExists(atPath: DaemonConfiguration.systemConfigPath) {
            configuration = try DaemonConfiguration.load(path: DaemonConfiguration.systemConfigPath)
        } else {
            configuration = DaemonConfiguration()
        }
        if let stateDir {
            do {
                try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            } catch {
                throw BoardError(.invalidConfig, "cannot create state directory \(stateDir): \(error.localizedDescription)")
            }
            let absolute = URL(fileURLWithPath: stateDir).standardizedFileURL.path
            configuration.socketPath = absolute + "/boardd.sock"
            configuration.databasePath = absolute + "/board.db"
        }
        if let socket { configuration.socketPath = socket }
        if let database { configuration.databasePath = database }
        return configuration
    }
}
