import BoardAgents
import BoardCore
import BoardStore
import Foundation
import Logging

/// Everything boardd can be configured with. Defaults suit a system service; the config file
/// (`/etc/board/board.json`, documented in docs/CONFIGURATION.md) overrides any of them, and
/// command-line flags override the file.
public struct DaemonConfiguration: Sendable, Equatable {
    public static let systemConfigPath = "/etc/board/board.json"
    public static let systemSocketPath = "/run/board/boardd.sock"
    public static let systemDatabasePath = "/var/lib/board/board.db"

    public var socketPath = systemSocketPath
    /// Permission bits of the control socket: owner and group may connect.
    public var socketMode: Int = 0o660
    public var databasePath = systemDatabasePath
    public var synchronous: SynchronousMode = .full
    public var logLevel: Logger.Level = .info

    public var concurrency = 4
    public var pollIntervalMilliseconds: Int64 = 1_000
    /// While polls find nothing to do, the wait between them doubles up to this (see `IdlePoll`).
    public var idlePollMaxMilliseconds: Int64 = 60_000
    public var taskTimeoutSeconds: Int64 = 600
    public var maxAttempts = 2
    public var retryPolicy = RetryPolicy(baseDelayMilliseconds: 1_000, maxDelayMilliseconds: 60_000)
    public var shutdownGraceSeconds: Int64 = 30
    public var confidencePolicy = ConfidencePolicy()

    public var maxLineBytes = 1 << 20
    /// Connections served at once; more are refused with `unavailable`.
    public var maxConnections = 1024
    /// A connection that sends nothing for this long is closed.
    public var idleTimeoutSeconds: Int64 = 600
    /// Members of this group may call every method (as may root and the daemon's own user).
    public var accessGroup = "board"
    /// Read-only methods for anyone who can open the socket.
    public var readsFromAnyone = false
    public var registry: AgentRegistry

    public init() {
        // The essentials always form a valid registry.
        registry = (try? AgentRegistry()) ?? Self.unreachableRegistry()
    }

    private static func unreachableRegistry() -> AgentRegistry {
        fatalError("the built-in agent registry is invalid")
    }

    /// Parses a configuration file's text. Unknown keys and out-of-range values are refused with
    /// the key's dotted path in the message.
    public static func parse(_ data: Data, source: String) throws(BoardError) -> DaemonConfiguration {
        let value: JSONValue
        do {
            value = try data.withUnsafeBytes { (bytes) throws(JSONParseError) in try JSONValue.parse(bytes) }
        } catch {
            throw BoardError(.invalidConfig, "\(source) is not valid JSON: \(error)")
        }
        var configuration = DaemonConfiguration()
        do {
            try configuration.apply(value)
        } catch {
            throw BoardError(.invalidConfig, "\(source): \(error.message)")
        }
        return configuration
    }

    /// Settings a running daemon cannot change: they need a restart.
    public static let restartOnlyKeys = ["daemon.socket", "daemon.socket_mode", "daemon.database", "store.synchronous",
                                         "control.max_line_bytes"]

    /// The dotted keys whose values differ between two configurations.
    public func changedKeys(comparedTo other: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ key: String, _ path: KeyPath<DaemonConfiguration, T>) {
            if self[keyPath: path] != other[keyPath: path] { keys.append(key) }
        }
        check("daemon.socket", \.socketPath)
        check("daemon.socket_mode", \.socketMode)
        check("daemon.database", \.databasePath)
        check("daemon.log_level", \.logLevel)
        check("store.synchronous", \.synchronous)
        check("scheduler.concurrency", \.concurrency)
        check("scheduler.poll_interval_ms", \.pollIntervalMilliseconds)
        check("scheduler.idle_poll_max_ms", \.idlePollMaxMilliseconds)
        check("scheduler.task_timeout_s", \.taskTimeoutSeconds)
        check("scheduler.max_attempts", \.maxAttempts)
        check("scheduler.retry_base_delay_ms", \.retryPolicy.baseDelayMilliseconds)
        check("scheduler.retry_max_delay_ms", \.retryPolicy.maxDelayMilliseconds)
        check("scheduler.shutdown_grace_s", \.shutdownGraceSeconds)
        check("control.max_line_bytes", \.maxLineBytes)
        check("control.max_connections", \.maxConnections)
        check("control.idle_timeout_s", \.idleTimeoutSeconds)
        check("control.access_group", \.accessGroup)
        check("control.allow_reads_from_anyone", \.readsFromAnyone)
        check("policy", \.confidencePolicy)
        check("agents", \.registry)
        return keys
    }

    /// `self` with the restart-only settings of `running` kept.
    public func keepingRestartOnlySettings(of running: DaemonConfiguration) -> DaemonConfiguration {
        var merged = self
        merged.socketPath = running.socketPath
        merged.socketMode = running.socketMode
        merged.databasePath = running.databasePath
        merged.synchronous = running.synchronous
        merged.maxLineBytes = running.maxLineBytes
        return merged
    }

    public static func load(path: String) throws(BoardError) -> DaemonConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw BoardError(.invalidConfig, "configuration file \(path) \(reason)")
        }
        return try parse(data, source: path)
    }

    private mutating func apply(_ value: JSONValue) throws(BoardError) {
        var root = try ConfigReader(value)
        if var daemon = try root.object("daemon") {
            socketPath = try daemon.string("socket") ?? socketPath
            if let mode = try daemon.string("socket_mode") {
                guard let bits = Int(mode, radix: 8), (0...0o777).contains(bits) else {
                    throw BoardError(.invalidConfig, "daemon.socket_mode must be octal permission bits such as \"0660\"")
                }
                socketMode = bits
            }
            databasePath = try daemon.string("database") ?? databasePath
            if let level = try daemon.string("log_level") {
                guard let parsed = Logger.Level(rawValue: level) else {
                    throw BoardError(.invalidConfig, """
                        daemon.log_level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
                        """)
                }
                logLevel = parsed
            }
            try daemon.finish()
        }
        if var store = try root.object("store") {
            synchronous = try store.choice("synchronous", SynchronousMode.self) ?? synchronous
            try store.finish()
        }
        if var scheduler = try root.object("scheduler") {
            concurrency = try scheduler.int("concurrency", in: 1...1024) ?? concurrency
            pollIntervalMilliseconds = Int64(try scheduler.int("poll_interval_ms", in: 10...3_600_000) ?? Int(pollIntervalMilliseconds))
            idlePollMaxMilliseconds = Int64(try scheduler.int("idle_poll_max_ms", in: 10...3_600_000) ?? Int(idlePollMaxMilliseconds))
            taskTimeoutSeconds = Int64(try scheduler.int("task_timeout_s", in: 1...604_800) ?? Int(taskTimeoutSeconds))
            maxAttempts = try scheduler.int("max_attempts", in: 1...100) ?? maxAttempts
            let base = try scheduler.int("retry_base_delay_ms", in: 0...86_400_000).map(Int64.init)
            let maxDelay = try scheduler.int("retry_max_delay_ms", in: 0...86_400_000).map(Int64.init)
            retryPolicy = RetryPolicy(
                baseDelayMilliseconds: base ?? retryPolicy.baseDelayMilliseconds,
                maxDelayMilliseconds: maxDelay ?? retryPolicy.maxDelayMilliseconds)
            shutdownGraceSeconds = Int64(try scheduler.int("shutdown_grace_s", in: 0...3600) ?? Int(shutdownGraceSeconds))
            try scheduler.finish()
        }
        if var policy = try root.object("policy") {
            let high = try policy.double("confidence_high", in: 0...1) ?? confidencePolicy.high
            let moderate = try policy.double("confidence_moderate", in: 0...1) ?? confidencePolicy.moderate
            guard moderate <= high else {
                throw BoardError(.invalidConfig, "policy.confidence_moderate must not be above policy.confidence_high")
            }
            confidencePolicy = ConfidencePolicy(high: high, moderate: moderate)
            try policy.finish()
        }
        if var control = try root.object("control") {
            maxLineBytes = try control.int("max_line_bytes", in: 1024...(64 << 20)) ?? maxLineBytes
            maxConnections = try control.int("max_connections", in: 1...65_536) ?? maxConnections
            idleTimeoutSeconds = Int64(try control.int("idle_timeout_s", in: 1...604_800) ?? Int(idleTimeoutSeconds))
            accessGroup = try control.string("access_group") ?? accessGroup
            readsFromAnyone = try control.bool("allow_reads_from_anyone") ?? readsFromAnyone
            try control.finish()
        }
        registry = try AgentRegistry.parse(agents: root.raw("agents"), planning: root.raw("planning"), backends: root.raw("backends"))
        try root.finish()
    }
}
