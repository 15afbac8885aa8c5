import BoardCore

/// How an agent does its work.
public enum AgentBackend: Sendable, Equatable {
    /// Offline rules; needs no language model. Its results are labelled offline.
    case builtin
    /// An executable run with argv (never through a shell): the task as JSON on stdin, the result on stdout.
    case command(CommandSpec)

    public var name: String {
        switch self {
        case .builtin: "builtin"
        case .command: "command"
        }
    }
}

public struct CommandSpec: Sendable, Equatable {
    /// argv: the executable (absolute, or found on PATH) and its arguments.
    public var argv: [String]
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(argv: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// One executive of the board.
public struct AgentDefinition: Sendable, Equatable {
    /// The role, upper-case (`CFO`); what tasks are assigned to.
    public var role: String
    public var codename: String
    public var title: String
    public var expertise: String
    public var backend: AgentBackend

    public init(role: String, codename: String, title: String, expertise: String, backend: AgentBackend = .builtin) {
        self.role = role
        self.codename = codename
        self.title = title
        self.expertise = expertise
        self.backend = backend
    }
}
