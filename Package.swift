// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "board",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "boardd", targets: ["boardd"]),
        .executable(name: "boardctl", targets: ["boardctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Pure domain: ids, states, the task lifecycle state machine, errors. No I/O, no dependencies.
        .target(name: "BoardCore", swiftSettings: swiftSettings),
        // JSON-RPC wire types shared by boardd and boardctl.
        .target(name: "BoardProtocol", dependencies: ["BoardCore"], swiftSettings: swiftSettings),
        // Durable state behind a protocol of domain operations; SQLite (GRDB) is the embedded backend.
        .target(
            name: "BoardStore",
            dependencies: [
                "BoardCore", .product(name: "GRDB", package: "GRDB.swift"),
                // sqlite3_wal_hook, which GRDB does not wrap (see WALCheckpoints.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CSQLiteConfig",
            ],
            swiftSettings: swiftSettings
        ),
        // The board of executives: registry, builtin (offline) and command backends, planning, synthesis.
        .target(
            name: "BoardAgents",
            dependencies: [
                "BoardCore", "BoardLLM", "CLinuxProcess", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // pidfd_open (through variadic syscall(2) in C), for ProcessRunner's one I/O thread.
        .systemLibrary(name: "CLinuxProcess"),
        // HTTP clients for language-model servers (Ollama, OpenAI-compatible): requests, error classification.
        .target(
            name: "BoardLLM",
            dependencies: [
                "BoardCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Only to name NIOConnectionError (connection refused, DNS) in error messages.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // sqlite3_config (variadic in C), for the process-wide settings of SQLiteSettings.swift.
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
        // libsystemd: sd_notify, the watchdog, socket activation, the journal.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The daemon runtime: services under a ServiceGroup (control server, scheduler, worker).
        .target(
            name: "BoardDaemon",
            dependencies: [
                "BoardCore", "BoardProtocol", "BoardStore", "BoardAgents", "CSystemd",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "boardd",
            dependencies: [
                "BoardDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client stays thin: protocol types and a blocking Unix socket, no NIO, no database.
        .executableTarget(
            name: "boardctl",
            dependencies: [
                "BoardCore", "BoardProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by test targets (the fake language-model server). A plain target so
        // that several test targets can depend on it; no product may depend on it.
        .target(
            name: "BoardTestSupport",
            dependencies: [
                "BoardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardCoreTests",
            dependencies: ["BoardCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardProtocolTests",
            dependencies: ["BoardProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardStoreTests",
            dependencies: [
                "BoardStore", "BoardCore", .product(name: "GRDB", package: "GRDB.swift"),
                // sqlite3_limit, to make SQLite refuse a bound value.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardAgentsTests",
            dependencies: [
                "BoardAgents", "BoardCore", "BoardLLM", "BoardTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardLLMTests",
            dependencies: [
                "BoardLLM", "BoardCore", "BoardTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardDaemonTests",
            dependencies: ["BoardDaemon", "BoardCore", "BoardAgents", "BoardProtocol", "BoardStore", "BoardTestSupport",
                           .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BoardEndToEndTests",
            // GRDB only to inspect a stopped daemon's database and to hold a lock on a live one.
            dependencies: ["BoardProtocol", "BoardCore", "BoardDaemon", "BoardTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
    ]
)
