/// A plan: one goal worked by the board.
public struct Plan: Sendable, Equatable, Codable {
    public var planID: PlanID
    public var goal: String
    public var context: String?
    public var status: PlanStatus
    public var idempotencyKey: String?
    public var lastError: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var closedAt: Timestamp?

    public init(
        planID: PlanID, goal: String, context: String?, status: PlanStatus, idempotencyKey: String?,
        lastError: String?, createdAt: Timestamp, updatedAt: Timestamp, closedAt: Timestamp?
    ) {
        self.planID = planID
        self.goal = goal
        self.context = context
        self.status = status
        self.idempotencyKey = idempotencyKey
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.closedAt = closedAt
    }

    enum CodingKeys: String, CodingKey {
        case planID = "plan_id", goal, context, status, idempotencyKey = "idempotency_key"
        case lastError = "last_error", createdAt = "created_at", updatedAt = "updated_at", closedAt = "closed_at"
    }

    /// Optional members are sent as `null` rather than left out, so every plan has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(planID, forKey: .planID)
        try container.encode(goal, forKey: .goal)
        try container.encode(context, forKey: .context)
        try container.encode(status, forKey: .status)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(closedAt, forKey: .closedAt)
    }
}

/// One executive's piece of work within a plan.
public struct BoardTask: Sendable, Equatable, Codable {
    public var taskID: TaskID
    public var planID: PlanID
    /// The role of the agent that works it (`CFO`, `CTO`, …).
    public var agent: String
    public var description: String
    public var state: TaskState
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String?
    public var notBefore: Timestamp?
    /// Who holds the current claim and until when; set only while `in_progress`.
    public var claimOwner: String?
    public var leaseExpiresAt: Timestamp?
    public var result: AgentResult?
    /// Tasks of the same plan that must complete before this one may run.
    public var dependsOn: [TaskID]
    /// How many of `dependsOn` have not completed yet.
    public var unmetDependencies: Int
    /// Extra passes the confidence policy asked for.
    public var extraPasses: Int = 0
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        taskID: TaskID, planID: PlanID, agent: String, description: String, state: TaskState, attempts: Int,
        maxAttempts: Int, lastError: String? = nil, notBefore: Timestamp? = nil, claimOwner: String? = nil,
        leaseExpiresAt: Timestamp? = nil, result: AgentResult? = nil, dependsOn: [TaskID] = [], unmetDependencies: Int = 0,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.dependsOn = dependsOn
        self.unmetDependencies = unmetDependencies
        self.taskID = taskID
        self.planID = planID
        self.agent = agent
        self.description = description
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.lastError = lastError
        self.notBefore = notBefore
        self.claimOwner = claimOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.result = result
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var snapshot: TaskSnapshot {
        get {
            TaskSnapshot(
                state: state, attempts: attempts, maxAttempts: maxAttempts, lastError: lastError, notBefore: notBefore,
                extraPasses: extraPasses)
        }
        set {
            state = newValue.state
            attempts = newValue.attempts
            maxAttempts = newValue.maxAttempts
            lastError = newValue.lastError
            notBefore = newValue.notBefore
            extraPasses = newValue.extraPasses
        }
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", planID = "plan_id", agent, description, state, attempts
        case maxAttempts = "max_attempts", lastError = "last_error", notBefore = "not_before"
        case claimOwner = "claim_owner", leaseExpiresAt = "lease_expires_at", result
        case dependsOn = "depends_on", unmetDependencies = "unmet_dependencies", extraPasses = "extra_passes"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    /// Optional members are sent as `null` rather than left out, so every task has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(planID, forKey: .planID)
        try container.encode(agent, forKey: .agent)
        try container.encode(description, forKey: .description)
        try container.encode(state, forKey: .state)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(maxAttempts, forKey: .maxAttempts)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(claimOwner, forKey: .claimOwner)
        try container.encode(leaseExpiresAt, forKey: .leaseExpiresAt)
        try container.encode(result, forKey: .result)
        try container.encode(dependsOn, forKey: .dependsOn)
        try container.encode(unmetDependencies, forKey: .unmetDependencies)
        try container.encode(extraPasses, forKey: .extraPasses)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// What an agent produced for a task.
public struct AgentResult: Sendable, Equatable, Codable {
    enum CodingKeys: String, CodingKey {
        case agent, codename, backend, offline, summary, findings, risks, recommendations, confidence, raw, citations, usage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        agent = try container.decode(String.self, forKey: .agent)
        codename = try container.decode(String.self, forKey: .codename)
        backend = try container.decode(String.self, forKey: .backend)
        offline = try container.decode(Bool.self, forKey: .offline)
        summary = try container.decode(String.self, forKey: .summary)
        findings = try container.decodeIfPresent([String].self, forKey: .findings) ?? []
        risks = try container.decodeIfPresent([String].self, forKey: .risks) ?? []
        recommendations = try container.decodeIfPresent([String].self, forKey: .recommendations) ?? []
        confidence = try container.decodeIfPresent(Double.self, forKey: .confidence)
        raw = try container.decodeIfPresent(String.self, forKey: .raw)
        citations = try container.decodeIfPresent([String].self, forKey: .citations) ?? []
        usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
    }

    public var agent: String
    public var codename: String
    public var backend: String
    /// True when no language model was involved (the builtin backend).
    public var offline: Bool
    public var summary: String
    public var findings: [String]
    public var risks: [String]
    public var recommendations: [String]
    public var confidence: Double?
    /// The agent's raw output when it was not in board's structured form (e.g. plain text from a command).
    public var raw: String?
    /// Sources the agent named.
    public var citations: [String]
    /// What a language model reported it used, when one was involved.
    public var usage: Usage?

    public init(
        agent: String, codename: String, backend: String, offline: Bool, summary: String, findings: [String] = [],
        risks: [String] = [], recommendations: [String] = [], confidence: Double? = nil, raw: String? = nil,
        citations: [String] = [], usage: Usage? = nil
    ) {
        self.citations = citations
        self.usage = usage
        self.agent = agent
        self.codename = codename
        self.backend = backend
        self.offline = offline
        self.summary = summary
        self.findings = findings
        self.risks = risks
        self.recommendations = recommendations
        self.confidence = confidence
        self.raw = raw
    }
}

/// A language model's bill for one answer.
public struct Usage: Sendable, Equatable, Codable {
    public var model: String
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var latencyMilliseconds: Int64

    public init(model: String, promptTokens: Int?, completionTokens: Int?, latencyMilliseconds: Int64) {
        self.model = model
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case model, promptTokens = "prompt_tokens", completionTokens = "completion_tokens", latencyMilliseconds = "latency_ms"
    }

    /// The usage of several calls (a request and its repair), one call at a time: token counts
    /// add up where the server reported them, the model is the latest call's.
    public static func total(_ earlier: Usage?, _ call: Usage) -> Usage {
        guard let earlier else { return call }
        func sum(_ a: Int?, _ b: Int?) -> Int? { a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0) }
        return Usage(
            model: call.model, promptTokens: sum(earlier.promptTokens, call.promptTokens),
            completionTokens: sum(earlier.completionTokens, call.completionTokens),
            latencyMilliseconds: earlier.latencyMilliseconds + call.latencyMilliseconds)
    }

    /// As stored in an event's payload.
    public var json: JSONValue {
        [
            "model": .string(model), "prompt_tokens": promptTokens.map { .int(Int64($0)) } ?? .null,
            "completion_tokens": completionTokens.map { .int(Int64($0)) } ?? .null, "latency_ms": .int(latencyMilliseconds),
        ]
    }
}

/// One row of the audit trail.
public struct BoardEvent: Sendable, Equatable, Codable {
    public var eventID: EventID
    public var planID: PlanID
    public var taskID: TaskID?
    public var kind: EventKind
    public var payload: JSONValue
    public var createdAt: Timestamp

    public init(eventID: EventID, planID: PlanID, taskID: TaskID?, kind: EventKind, payload: JSONValue, createdAt: Timestamp) {
        self.eventID = eventID
        self.planID = planID
        self.taskID = taskID
        self.kind = kind
        self.payload = payload
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", planID = "plan_id", taskID = "task_id", kind, payload, createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(planID, forKey: .planID)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(kind, forKey: .kind)
        try container.encode(payload, forKey: .payload)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// The CEO's synthesis of a plan's results.
public struct FinalPlan: Sendable, Equatable, Codable {
    public struct Contributor: Sendable, Equatable, Codable {
        public var agent: String
        public var codename: String
        public var taskID: TaskID
        public var confidence: Double?

        public init(agent: String, codename: String, taskID: TaskID, confidence: Double?) {
            self.agent = agent
            self.codename = codename
            self.taskID = taskID
            self.confidence = confidence
        }

        enum CodingKeys: String, CodingKey { case agent, codename, taskID = "task_id", confidence }
    }

    public var planID: PlanID
    public var goal: String
    public var synthesizedBy: String
    public var offline: Bool
    public var executiveSummary: String
    public var strategy: [String]
    public var contributors: [Contributor]
    public var risks: [String]
    public var recommendations: [String]
    public var confidence: Double
    /// Sources the agents cited.
    public var references: [String]
    /// The CEO's own language-model usage for this synthesis (every attempt, the repair
    /// included); `nil` for an offline synthesis. The tasks' usage is in their results.
    public var usage: Usage?
    public var createdAt: Timestamp

    public init(
        planID: PlanID, goal: String, synthesizedBy: String, offline: Bool, executiveSummary: String, strategy: [String],
        contributors: [Contributor], risks: [String], recommendations: [String], confidence: Double, references: [String] = [],
        usage: Usage? = nil, createdAt: Timestamp
    ) {
        self.references = references
        self.usage = usage
        self.planID = planID
        self.goal = goal
        self.synthesizedBy = synthesizedBy
        self.offline = offline
        self.executiveSummary = executiveSummary
        self.strategy = strategy
        self.contributors = contributors
        self.risks = risks
        self.recommendations = recommendations
        self.confidence = confidence
        self.createdAt = createdAt
    }

    /// The prototype's confidence bands: ≥ 0.80 high, 0.50–0.79 moderate, below that uncertain.
    public var confidencePhrase: String { Confidence.phrase(confidence) }

    enum CodingKeys: String, CodingKey {
        case planID = "plan_id", goal, synthesizedBy = "synthesized_by", offline
        case executiveSummary = "executive_summary", strategy, contributors, risks, recommendations
        case confidence, references, usage, createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        planID = try container.decode(PlanID.self, forKey: .planID)
        goal = try container.decode(String.self, forKey: .goal)
        synthesizedBy = try container.decode(String.self, forKey: .synthesizedBy)
        offline = try container.decode(Bool.self, forKey: .offline)
        executiveSummary = try container.decode(String.self, forKey: .executiveSummary)
        strategy = try container.decode([String].self, forKey: .strategy)
        contributors = try container.decode([Contributor].self, forKey: .contributors)
        risks = try container.decode([String].self, forKey: .risks)
        recommendations = try container.decode([String].self, forKey: .recommendations)
        confidence = try container.decode(Double.self, forKey: .confidence)
        references = try container.decodeIfPresent([String].self, forKey: .references) ?? []
        usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
        createdAt = try container.decode(Timestamp.self, forKey: .createdAt)
    }
}

public enum Confidence {
    public static func phrase(_ value: Double) -> String {
        switch value {
        case 0.8...: "high confidence"
        case 0.5..<0.8: "moderate confidence"
        default: "uncertain"
        }
    }
}
