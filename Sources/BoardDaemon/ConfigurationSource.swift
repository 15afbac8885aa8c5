import BoardCore
import Foundation
import Logging
import Synchronization

/// Where the configuration comes from: a file (explicit, or the system one when it exists, or
/// none) and the command line's overrides. Kept so that a reload reads the same file and the
/// flags keep winning over it.
public struct ConfigurationSource: Sendable, Equatable {
    public var configPath: String?
    public var stateDirectory: String?
    public var socketPath: String?
    public var databasePath: String?
    public var logLevel: Logger.Level?

    public init(
        configPath: String? = nil, stateDirectory: String? = nil, socketPath: String? = nil, databasePath: String? = nil,
        logLevel: Logger.Level? = nil
    ) {
        self.configPath = configPath
        self.stateDirectory = stateDirectory
        self.socketPath = socketPath
        self.databasePath = databasePath
        self.logLevel = logLevel
    }

    /// The file this source reads, if any.
    public var filePath: String? {
        if let configPath { return configPath }
        return FileManager.default.fileExists(atPath: DaemonConfiguration.systemConfigPath) ? DaemonConfiguration.systemConfigPath : nil
    }

    public func load() throws(BoardError) -> DaemonConfiguration {
        var configuration = try filePath.map { path throws(BoardError) in try DaemonConfiguration.load(path: path) }
            ?? DaemonConfiguration()
        if let stateDirectory {
            do {
                try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            } catch {
                throw BoardError(.invalidConfig, "cannot create state directory \(stateDirectory): \(error.localizedDescription)")
            }
            let absolute = URL(fileURLWithPath: stateDirectory).standardizedFileURL.path
            configuration.socketPath = absolute + "/boardd.sock"
            configuration.databasePath = absolute + "/board.db"
        }
        if let socketPath { configuration.socketPath = socketPath }
        if let databasePath { configuration.databasePath = databasePath }
        if let logLevel { configuration.logLevel = logLevel }
        return configuration
    }
}

/// The configuration in force, replaced as a whole on reload. Read on every request, written
/// only by a reload: a mutex around a value snapshot serves that without an actor hop per request.
final class LiveConfiguration: Sendable {
    struct Snapshot: Sendable {
        var configuration: DaemonConfiguration
        var access: AccessPolicy
    }

    private let current: Mutex<Snapshot>

    init(_ configuration: DaemonConfiguration) {
        current = Mutex(Snapshot(configuration: configuration, access: Self.access(for: configuration)))
    }

    var snapshot: Snapshot { current.withLock { $0 } }
    var configuration: DaemonConfiguration { current.withLock { $0.configuration } }

    func replace(_ configuration: DaemonConfiguration) {
        let access = Self.access(for: configuration)
        current.withLock { $0 = Snapshot(configuration: configuration, access: access) }
    }

    private static func access(for configuration: DaemonConfiguration) -> AccessPolicy {
        AccessPolicy(groupName: configuration.accessGroup, readsFromAnyone: configuration.readsFromAnyone)
    }
}
