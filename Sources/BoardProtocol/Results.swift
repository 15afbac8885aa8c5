import BoardCore

/// `ping`
public struct PingResult: Sendable, Equatable, Codable {
    public var pong: Bool
    public var version: String

    public init(version: String) {
        pong = true
        self.version = version
    }
}

/// `daemon.status`
public struct DaemonStatus: Sendable, Equatable, Codable {
    public struct Plans: Sendable, Equatable, Codable {
        public var open: Int
        public var synthesizing: Int
        public var blocked: Int
        public var failed: Int

        public init(open: Int, synthesizing: Int, blocked: Int, failed: Int) {
            self.open = open
            self.synthesizing = synthesizing
            self.blocked = blocked
            self.failed = failed
        }
    }

    public struct Tasks: Sendable, Equatable, Codable {
        public var pending: Int
        public var inProgress: Int

        public init(pending: Int, inProgress: Int) {
            self.pending = pending
            self.inProgress = inProgress
        }

        enum CodingKeys: String, CodingKey { case pending, inProgress = "in_progress" }
    }

    public var version: String
    public var pid: Int
    public var startedAt: Timestamp
    public var uptimeSeconds: Double
    public var socket: String
    public var database: String
    public var synchronous: String
    public var concurrency: Int
    public var running: Int
    public var plans: Plans
    public var tasks: Tasks
    public var agents: [String]

    public init(
        version: String, pid: Int, startedAt: Timestamp, uptimeSeconds: Double, socket: String, database: String,
        synchronous: String, concurrency: Int, running: Int, plans: Plans, tasks: Tasks, agents: [String]
    ) {
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.socket = socket
        self.database = database
        self.synchronous = synchronous
        self.concurrency = concurrency
        self.running = running
        self.plans = plans
        self.tasks = tasks
        self.agents = agents
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, startedAt = "started_at", uptimeSeconds = "uptime_seconds", socket, database, synchronous
        case concurrency, running, plans, tasks, agents
    }
}

/// A plan with its tasks: the result of `plan.get`, `plan.create` and `plan.cancel`.
/// On the wire the plan's own members sit at the top level, next to `tasks` and `task_counts`.
public struct PlanDetail: Sendable, Equatable, Codable {
    public var plan: Plan
    public var tasks: [BoardTask]
    public var taskCounts: TaskCounts
    /// Only for `plan.create`: false when an idempotency key returned an existing plan.
    public var created: Bool?

    public init(plan: Plan, tasks: [BoardTask], created: Bool? = nil) {
        self.plan = plan
        self.tasks = tasks
        var counts = TaskCounts()
        for task in tasks {
            counts[task.state] += 1
            if task.state == .pending, task.unmetDependencies > 0 { counts.waiting += 1 }
        }
        taskCounts = counts
        self.created = created
    }

    /// Language-model usage of the plan's results so far.
    public var usage: UsageTotals { UsageTotals(tasks: tasks) }

    enum CodingKeys: String, CodingKey { case tasks, taskCounts = "task_counts", created, usage }

    public init(from decoder: any Decoder) throws {
        plan = try Plan(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tasks = try container.decode([BoardTask].self, forKey: .tasks)
        taskCounts = try container.decode(TaskCounts.self, forKey: .taskCounts)
        created = try container.decodeIfPresent(Bool.self, forKey: .created)
    }

    public func encode(to encoder: any Encoder) throws {
        try plan.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tasks, forKey: .tasks)
        try container.encode(taskCounts, forKey: .taskCounts)
        try container.encodeIfPresent(created, forKey: .created)
        try container.encode(usage, forKey: .usage)
    }
}

/// `plan.list`
public struct PlanListResult: Sendable, Equatable, Codable {
    public var plans: [Plan]
    public var nextCursor: String?

    public init(plans: [Plan], nextCursor: String?) {
        self.plans = plans
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey { case plans, nextCursor = "next_cursor" }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(plans, forKey: .plans)
        // Always present, null on the last page, so clients need not guess.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `plan.result`: the final plan's members plus its Markdown rendering and confidence phrase.
public struct PlanResult: Sendable, Equatable, Codable {
    public var finalPlan: FinalPlan
    public var markdown: String
    public var confidencePhrase: String

    public init(finalPlan: FinalPlan) {
        self.finalPlan = finalPlan
        markdown = finalPlan.markdown
        confidencePhrase = finalPlan.confidencePhrase
    }

    enum CodingKeys: String, CodingKey { case markdown, confidencePhrase = "confidence_phrase" }

    public init(from decoder: any Decoder) throws {
        finalPlan = try FinalPlan(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        markdown = try container.decode(String.self, forKey: .markdown)
        confidencePhrase = try container.decode(String.self, forKey: .confidencePhrase)
    }

    public func encode(to encoder: any Encoder) throws {
        try finalPlan.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(markdown, forKey: .markdown)
        try container.encode(confidencePhrase, forKey: .confidencePhrase)
    }
}

/// `agents.list`: the board as configured.
public struct AgentsResult: Sendable, Equatable, Codable {
    public struct Agent: Sendable, Equatable, Codable {
        public var role: String
        public var codename: String
        public var title: String
        public var expertise: String
        public var backend: String
        public var model: String?

        public init(role: String, codename: String, title: String, expertise: String, backend: String, model: String?) {
            self.role = role
            self.codename = codename
            self.title = title
            self.expertise = expertise
            self.backend = backend
            self.model = model
        }
    }

    public var agents: [Agent]
    /// The executives the offline CEO always assigns.
    public var defaultAgents: [String]

    public init(agents: [Agent], defaultAgents: [String]) {
        self.agents = agents
        self.defaultAgents = defaultAgents
    }

    enum CodingKeys: String, CodingKey { case agents, defaultAgents = "default_agents" }
}

/// Language-model usage summed over a plan's task results.
public struct UsageTotals: Sendable, Equatable, Codable {
    public var promptTokens = 0
    public var completionTokens = 0
    public var latencyMilliseconds: Int64 = 0
    /// Results that reported usage (offline ones do not).
    public var answers = 0

    public init(tasks: [BoardTask]) {
        for usage in tasks.compactMap(\.result?.usage) {
            promptTokens += usage.promptTokens ?? 0
            completionTokens += usage.completionTokens ?? 0
            latencyMilliseconds += usage.latencyMilliseconds
            answers += 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", latencyMilliseconds = "latency_ms", answers
    }
}

/// `metrics.get`: the Prometheus text exposition, as one string.
public struct MetricsResult: Sendable, Equatable, Codable {
    public var contentType = "text/plain; version=0.0.4"
    public var text: String

    public init(text: String) { self.text = text }

    enum CodingKeys: String, CodingKey { case contentType = "content_type", text }
}

/// `backup.create`
public struct BackupResult: Sendable, Equatable, Codable {
    public var path: String
    public var bytes: Int64
    /// `PRAGMA integrity_check` of the copy: "ok".
    public var integrity: String

    public init(path: String, bytes: Int64, integrity: String) {
        self.path = path
        self.bytes = bytes
        self.integrity = integrity
    }
}

/// `config.reload`
public struct ReloadResult: Sendable, Equatable, Codable {
    public var reloaded = true
    /// Settings whose new values are now in force.
    public var applied: [String]
    /// Settings that changed in the file but need a restart; their old values stay in force.
    public var restartRequired: [String]

    public init(applied: [String], restartRequired: [String]) {
        self.applied = applied
        self.restartRequired = restartRequired
    }

    enum CodingKeys: String, CodingKey { case reloaded, applied, restartRequired = "restart_required" }
}

/// `events.list`
public struct EventsResult: Sendable, Equatable, Codable {
    public var events: [BoardEvent]
    /// The `before` of the next (older) page; `nil` when there is none.
    public var nextBefore: EventID?
    /// Whether the reply had `next_before` at all: a boardd from before it omits the member.
    public var reportsNextBefore = true

    public init(events: [BoardEvent], nextBefore: EventID?) {
        self.events = events
        self.nextBefore = nextBefore
    }

    enum CodingKeys: String, CodingKey { case events, nextBefore = "next_before" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        events = try container.decode([BoardEvent].self, forKey: .events)
        nextBefore = try container.decodeIfPresent(EventID.self, forKey: .nextBefore)
        reportsNextBefore = container.contains(.nextBefore)
    }

    /// Where the page after this one starts, for a request of `limit` events: `next_before`, or
    /// from a boardd that does not send it, the old rule (a page shorter than `limit` is the last).
    public func nextPage(limit: Int) -> EventID? {
        reportsNextBefore ? nextBefore : (events.count == limit ? events.last?.eventID : nil)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        // Always present, null on the last page, so clients need not guess.
        try container.encode(nextBefore, forKey: .nextBefore)
    }
}
