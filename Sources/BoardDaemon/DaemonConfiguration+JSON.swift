import BoardAgents
import BoardCore
import Foundation

extension DaemonConfiguration {
    /// The configuration as a config file would say it: every setting, every agent.
    /// `boardd --print-config` prints it; `config/board.json` is the defaults printed this way.
    public var json: JSONValue {
        var agents: [String: JSONValue] = [:]
        for agent in registry.agents {
            var fields: [String: JSONValue] = [
                "codename": .string(agent.codename), "title": .string(agent.title), "expertise": .string(agent.expertise),
                "system_prompt": .string(agent.systemPrompt), "backend": .string(agent.backend.name),
            ]
            switch agent.backend {
            case .builtin, .noop: break
            case let .command(spec):
                fields["command"] = .array(spec.argv.map(JSONValue.string))
                if !spec.environment.isEmpty { fields["environment"] = .object(spec.environment.mapValues(JSONValue.string)) }
                if let directory = spec.workingDirectory { fields["working_directory"] = .string(directory) }
            case let .llm(spec):
                fields["model"] = .string(spec.model)
                if let temperature = spec.temperature { fields["temperature"] = .double(temperature) }
                if let size = spec.contextSize { fields["context_size"] = .int(Int64(size)) }
            }
            agents[agent.role] = .object(fields)
        }
        return [
            "daemon": [
                "socket": .string(socketPath), "socket_mode": .string("0" + String(socketMode, radix: 8)),
                "database": .string(databasePath), "log_level": .string(logLevel.rawValue),
            ],
            "store": ["synchronous": .string(synchronous.rawValue)],
            "scheduler": [
                "concurrency": .int(Int64(concurrency)), "poll_interval_ms": .int(pollIntervalMilliseconds),
                "idle_poll_max_ms": .int(idlePollMaxMilliseconds),
                "task_timeout_s": .int(taskTimeoutSeconds), "max_attempts": .int(Int64(maxAttempts)),
                "retry_base_delay_ms": .int(retryPolicy.baseDelayMilliseconds),
                "retry_max_delay_ms": .int(retryPolicy.maxDelayMilliseconds), "shutdown_grace_s": .int(shutdownGraceSeconds),
            ],
            "policy": ["confidence_high": .double(confidencePolicy.high), "confidence_moderate": .double(confidencePolicy.moderate)],
            "control": [
                "max_line_bytes": .int(Int64(maxLineBytes)), "access_group": .string(accessGroup),
                "max_connections": .int(Int64(maxConnections)), "idle_timeout_s": .int(idleTimeoutSeconds),
                "allow_reads_from_anyone": .bool(readsFromAnyone),
            ],
            "backends": backendsJSON,
            "planning": ["default_agents": .array(registry.defaultRoles.map(JSONValue.string))],
            "agents": .object(agents),
        ]
    }

    private var backendsJSON: JSONValue {
        var result: [String: JSONValue] = ["default": .string(registry.backendDefaults.defaultName)]
        for (flavor, spec) in registry.backendDefaults.servers {
            var fields: [String: JSONValue] = [
                flavor == .ollama ? "url" : "base_url": .string(spec.baseURL), "model": .string(spec.model),
                "timeout_s": .int(Int64(spec.timeoutSeconds)),
            ]
            if let temperature = spec.temperature { fields["temperature"] = .double(temperature) }
            if let size = spec.contextSize { fields["context_size"] = .int(Int64(size)) }
            if flavor == .ollama {
                if let keepAlive = spec.keepAlive { fields["keep_alive"] = .string(keepAlive) }
            } else {
                if let file = spec.apiKeyFile { fields["api_key_file"] = .string(file) }
                if let credential = spec.apiKeyCredential { fields["api_key_credential"] = .string(credential) }
                fields["json_schema"] = .bool(spec.useJSONSchema)
            }
            result[flavor.rawValue] = .object(fields)
        }
        return .object(result)
    }

    /// Pretty, key-sorted JSON text for people (and for `config/board.json`).
    public var prettyJSON: String {
        let compact = Data(json.serialized.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: compact),
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return json.serialized }
        return String(decoding: pretty, as: UTF8.self) + "\n"
    }
}
