import BoardAgents
import BoardCore
import Foundation
import Testing
@testable import BoardDaemon

@Suite("Configuration")
struct ConfigurationTests {
    static let repositoryConfig: String = {
        // Tests/BoardDaemonTests/ConfigurationTests.swift → repository root
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("config/board.json").path
    }()

    func parse(_ text: String) throws -> DaemonConfiguration {
        try DaemonConfiguration.parse(Data(text.utf8), source: "test.json")
    }

    func message(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return (error as? BoardError)?.message
        }
    }

    @Test func theShippedConfigIsExactlyTheBuiltInDefaults() throws {
        let shipped = try DaemonConfiguration.load(path: Self.repositoryConfig)
        #expect(shipped == DaemonConfiguration(), "config/board.json and the defaults in DaemonConfiguration drifted apart")
    }

    @Test func anEmptyObjectMeansDefaults() throws {
        #expect(try parse("{}") == DaemonConfiguration())
    }

    @Test func overridesApply() throws {
        let configuration = try parse("""
            {"scheduler": {"concurrency": 8, "retry_base_delay_ms": 5, "retry_max_delay_ms": 50},
             "store": {"synchronous": "normal"}, "daemon": {"socket": "/tmp/x.sock", "socket_mode": "0600", "log_level": "debug"},
             "agents": {"cfo": {"backend": "command", "command": ["/usr/bin/agent", "--fast"], "environment": {"A": "1"}},
                        "CISO": {"codename": "Guardian", "title": "Chief Information Security Officer"}},
             "planning": {"default_agents": ["cfo", "CISO"]}}
            """)
        #expect(configuration.concurrency == 8)
        #expect(configuration.retryPolicy == RetryPolicy(baseDelayMilliseconds: 5, maxDelayMilliseconds: 50))
        #expect(configuration.synchronous == .normal)
        #expect(configuration.socketPath == "/tmp/x.sock")
        #expect(configuration.socketMode == 0o600)
        #expect(configuration.logLevel == .debug)
        let cfo = try #require(configuration.registry.agent("CFO"))
        #expect(cfo.codename == "Abacus", "unmentioned fields keep their built-in value")
        #expect(cfo.backend == .command(CommandSpec(argv: ["/usr/bin/agent", "--fast"], environment: ["A": "1"])))
        #expect(configuration.registry.agent("guardian")?.role == "CISO")
        #expect(configuration.registry.agent("CISO")?.codename == "Guardian")
        #expect(configuration.registry.defaultRoles == ["CFO", "CISO"])
    }

    @Test(arguments: [
        (#"{"scheduler": {"concurency": 4}}"#, "scheduler.concurency is not a known setting"),
        (#"{"scheduler": {"concurrency": 0}}"#, "scheduler.concurrency must be an integer from 1 to 1024"),
        (#"{"scheduler": {"concurrency": "4"}}"#, "scheduler.concurrency must be an integer"),
        (#"{"store": {"synchronous": "off"}}"#, "store.synchronous must be one of full, normal (got off)"),
        (#"{"daemon": {"socket_mode": "rw"}}"#, "daemon.socket_mode must be octal"),
        (#"{"daemon": {"log_level": "loud"}}"#, "daemon.log_level must be one of"),
        (#"{"agents": {"CFO": {"backend": "command"}}}"#, "agents.CFO.command must be a non-empty array"),
        (#"{"agents": {"CFO": {"backend": "carrier-pigeon"}}}"#, "agents.CFO.backend must be one of builtin, command"),
        (#"{"agents": {"NEW": {"title": "x"}}}"#, "agents.NEW.codename is required"),
        (#"{"agents": {"CFO": {"temperature": 1}}}"#, "agents.CFO: model, temperature and context_size are only for LLM backends"),
        (#"{"agents": {"CFO": {"colour": 1}}}"#, "agents.CFO.colour is not a known setting"),
        (#"{"planning": {"default_agents": ["CXO"]}}"#, "planning.default_agents names CXO, which is not an agent"),
        (#"{"backends": {"default": "gpt"}}"#, "backends.default must be one of builtin, ollama, openai"),
        (#"{"backends": {"ollama": {"url": "ftp://x"}}}"#, "backends.ollama URL must start with http"),
        (#"{"policy": {"confidence_high": 0.4, "confidence_moderate": 0.6}}"#, "must not be above policy.confidence_high"),
        (#"{"bogus": 1}"#, "bogus is not a known setting"),
        (#"[1]"#, "must be an object"),
        (#"{"scheduler": "#, "is not valid JSON"),
    ])
    func invalidConfigurationsNameTheKey(_ text: String, _ expected: String) {
        let message = message(text)
        #expect(message?.contains(expected) == true, "\(String(describing: message))")
        #expect(message?.hasPrefix("test.json") == true)
    }

    @Test func aMissingFileIsAClearError() {
        #expect {
            _ = try DaemonConfiguration.load(path: "/nonexistent/board.json")
        } throws: { ($0 as? BoardError)?.message == "configuration file /nonexistent/board.json does not exist" }
    }
}
