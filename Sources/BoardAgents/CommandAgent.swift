import BoardCore
import Foundation

/// Runs an executable per attempt. Protocol, documented in docs/CONFIGURATION.md:
/// - stdin: one JSON object (`kind`, `task_id`, `plan_id`, `agent`, `codename`, `description`,
///   `goal`, `context`, `attempt`, `max_attempts`);
/// - stdout: a JSON object with `summary` (and optionally `findings`, `risks`, `recommendations`,
///   `confidence`), or `{"escalate": "reason"}` to ask for human review, or plain text;
/// - a non-zero exit is a failed attempt whose `last_error` is the tail of stderr.
public struct CommandAgent: Agent {
    public let definition: AgentDefinition
    public let spec: CommandSpec
    /// Results larger than this are cut; an agent is not a file transfer.
    public static let maxOutputBytes = 1 << 20

    public init(definition: AgentDefinition, spec: CommandSpec) {
        self.definition = definition
        self.spec = spec
    }

    public func perform(_ work: AgentWork) async throws -> AgentResult {
        let input: JSONValue = [
            "kind": "task",
            "task_id": .string(work.taskID.rawValue),
            "plan_id": .string(work.planID.rawValue),
            "agent": .string(definition.role),
            "codename": .string(definition.codename),
            "description": .string(work.description),
            "goal": .string(work.goal),
            "context": work.context.map(JSONValue.string) ?? .null,
            "attempt": .int(Int64(work.attempt)),
            "max_attempts": .int(Int64(work.maxAttempts)),
        ]
        let marks = [
            "BOARD_TASK_ID": work.taskID.rawValue, "BOARD_PLAN_ID": work.planID.rawValue, "BOARD_ATTEMPT": "\(work.attempt)",
            OrphanAgents.claimVariable: OrphanAgents.claim(owner: work.claimOwner, task: work.taskID),
        ]
        let output = try await Self.run(spec, input: input, role: definition.role, marks: marks)
        return try Self.parse(output, definition: definition)
    }

    /// boardd's own environment, read once: nothing in the daemon changes it after start, and
    /// copying it out of the C environment for every attempt was a few percent of a command
    /// task's CPU.
    private static let inheritedEnvironment = ProcessInfo.processInfo.environment

    /// Runs the command with `input` on stdin and returns its stdout, mapping every way it can
    /// fail to an `AgentFailure`.
    static func run(_ spec: CommandSpec, input: JSONValue, role: String, marks: [String: String] = [:]) async throws -> String {
        guard let executable = spec.argv.first else { throw AgentFailure(.permanent, "\(role): empty command") }
        let environment = inheritedEnvironment
            .merging(spec.environment) { _, configured in configured }
            .merging(marks) { _, mark in mark }
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(
                executable: executable, arguments: Array(spec.argv.dropFirst()), environment: environment,
                workingDirectory: spec.workingDirectory, stdin: Array((input.serialized + "\n").utf8),
                stdoutLimit: maxOutputBytes)
        } catch let error as ProcessRunnerError {
            throw AgentFailure(.permanent, "\(role): cannot run \(executable): \(error)")
        }
        let stderr = output.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        switch output.termination {
        case .exited(0):
            break
        case let .exited(code):
            throw AgentFailure(.retryable, "\(role): \(executable) exited with status \(code)" + (stderr.isEmpty ? "" : ": \(stderr)"))
        case let .signaled(signal):
            throw AgentFailure(.retryable, "\(role): \(executable) was killed by signal \(signal)" + (stderr.isEmpty ? "" : ": \(stderr)"))
        }
        let text = String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AgentFailure(.retryable, "\(role): \(executable) printed nothing") }
        return text
    }

    static func parse(_ text: String, definition: AgentDefinition) throws -> AgentResult {
        var result = AgentResult(
            agent: definition.role, codename: definition.codename, backend: "command", offline: false, summary: "")
        guard text.hasPrefix("{"), let value = try? JSONValue.parse(text),
              case let .object(fields) = value
        else {
            // Plain text: the first line is the summary, the whole text is kept.
            let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
            result.summary = String(firstLine.prefix(500))
            result.raw = text
            return result
        }
        if case let .string(reason)? = fields["escalate"] {
            throw AgentFailure(.escalate, "\(definition.role) asked for human review: \(reason)")
        }
        guard case let .string(summary)? = fields["summary"] else {
            result.summary = "(structured output without a summary)"
            result.raw = text
            return result
        }
        result.summary = summary
        result.findings = strings(fields["findings"])
        result.risks = strings(fields["risks"])
        result.recommendations = strings(fields["recommendations"])
        switch fields["confidence"] {
        case let .double(number)?: result.confidence = min(max(number, 0), 1)
        case let .int(number)?: result.confidence = min(max(Double(number), 0), 1)
        default: break
        }
        return result
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        guard case let .array(items)? = value else { return [] }
        return items.compactMap(\.stringValue)
    }
}
