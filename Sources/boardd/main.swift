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
            For a developer run, --state-dir DIR keeps the socket and database in DIR. \
            SIGHUP reloads the configuration; SIGTERM and SIGINT stop gracefully.
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

    @Flag(name: .long, help: "Print the configuration boardd would run with (every setting and agent) and exit.")
    var printConfig = false

    func run() async throws {
        do {
            var level: Logger.Level?
            if let logLevel {
                guard let parsed = Logger.Level(rawValue: logLevel) else {
                    throw BoardError(.invalidConfig, "--log-level \(logLevel) is not a level")
                }
                level = parsed
            }
            let source = ConfigurationSource(
                configPath: config, stateDirectory: stateDir, socketPath: socket, databasePath: database, logLevel: level)
            let configuration = try source.load()
            if printConfig {
                FileHandle.standardOutput.write(Data(configuration.prettyJSON.utf8))
                return
            }
            let levels = LogLevelControl(configuration.logLevel)
            LoggingSystem.bootstrap { label in BoardLogHandler(label: label, control: levels) }
            try await Daemon.run(source: source, configuration: configuration, levels: levels, logger: Logger(label: "boardd"))
        } catch let error as BoardError {
            FileHandle.standardError.write(Data("boardd: \(error.message)\n".utf8))
            throw ExitCode(error.reason == .invalidConfig ? 78 : 1)
        }
    }
}
