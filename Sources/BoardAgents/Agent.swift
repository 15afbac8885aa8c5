import BoardCore

/// What an agent is asked to do for one attempt of a task.
public struct AgentWork: Sendable, Equatable {
    public var taskID: TaskID
    public var planID: PlanID
    public var role: String
    public var description: String
    public var goal: String
    public var context: String?
    public var attempt: Int
    public var maxAttempts: Int
    /// The claim this attempt runs under; agents' processes carry it so a restarted daemon can
    /// find and stop the ones a crash left behind.
    public var claimOwner: String
    /// What the tasks this one depended on produced.
    public var dependencyResults: [AgentResult]

    public init(
        taskID: TaskID, planID: PlanID, role: String, description: String, goal: String, context: String?, attempt: Int,
        maxAttempts: Int, claimOwner: String = "", dependencyResults: [AgentResult] = []
    ) {
        self.claimOwner = claimOwner
        self.dependencyResults = dependencyResults
        self.taskID = taskID
        self.planID = planID
        self.role = role
        self.description = description
        self.goal = goal
        self.context = context
        self.attempt = attempt
        self.maxAttempts = maxAttempts
    }
}

/// Why an attempt did not produce a result, and what the lifecycle should do about it.
public struct AgentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Worth another attempt (a crash, a timeout, a flaky backend).
        case retryable
        /// Another attempt would fail the same way (a misconfigured agent).
        case permanent
        /// The agent asks for a person to look at the task.
        case escalate
    }

    public var kind: Kind
    public var message: String
    /// The earliest a retry makes sense (a server's Retry-After), if it said.
    public var retryAfter: Duration?

    public init(_ kind: Kind, _ message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}

/// An executive that can work a task. Implementations must honour task cancellation promptly.
public protocol Agent: Sendable {
    var definition: AgentDefinition { get }
    /// Throws `AgentFailure` for a failed attempt, `CancellationError` when cancelled.
    func perform(_ work: AgentWork) async throws -> AgentResult
    /// True for an agent that returns at once without waiting on anything (the no-op agent):
    /// the worker then skips the timeout machinery, which would cost more than the work.
    var isInstant: Bool { get }
}

extension Agent {
    public var isInstant: Bool { false }
}

/// Builds the agent for a definition. LLM agents share the daemon's one HTTP client.
public enum AgentFactory {
    public static func make(_ definition: AgentDefinition, connections: LLMConnections = .offline) -> any Agent {
        switch definition.backend {
        case .builtin: BuiltinAgent(definition: definition)
        case let .command(spec): CommandAgent(definition: definition, spec: spec)
        case let .llm(spec): LLMAgent(definition: definition, spec: spec, connections: connections)
        case .noop: NoopAgent(definition: definition)
        }
    }
}
