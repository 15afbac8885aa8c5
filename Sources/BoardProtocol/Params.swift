import BoardCore

/// One explicitly given task of `plan.create` (a plan submitted as a file).
public struct TaskSpec: Sendable, Equatable {
    public var agent: String
    /// Defaults to the agent's standard brief for the goal.
    public var description: String?
    /// Positions (0-based) of the tasks in the same list this one waits for.
    public var after: [Int]

    public init(agent: String, description: String? = nil, after: [Int] = []) {
        self.agent = agent
        self.description = description
        self.after = after
    }

    var json: JSONValue {
        var fields: [String: JSONValue] = ["agent": .string(agent), "after": .array(after.map { .int(Int64($0)) })]
        if let description { fields["description"] = .string(description) }
        return .object(fields)
    }
}

/// `plan.create`
public struct PlanCreateParams: Sendable, Equatable {
    public var goal: String
    public var context: String?
    public var constraints: String?
    public var deadline: String?
    public var budget: String?
    /// Roles to assign, in order; `nil` lets the CEO choose.
    public var agents: [String]?
    /// The tasks, given explicitly (exclusive with `agents`).
    public var tasks: [TaskSpec]?
    public var idempotencyKey: String?
    public var maxAttempts: Int?

    public init(
        goal: String, context: String? = nil, constraints: String? = nil, deadline: String? = nil, budget: String? = nil,
        agents: [String]? = nil, tasks: [TaskSpec]? = nil, idempotencyKey: String? = nil, maxAttempts: Int? = nil
    ) {
        self.goal = goal
        self.context = context
        self.constraints = constraints
        self.deadline = deadline
        self.budget = budget
        self.agents = agents
        self.tasks = tasks
        self.idempotencyKey = idempotencyKey
        self.maxAttempts = maxAttempts
    }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        goal = try reader.requiredString("goal")
        context = try reader.string("context", allowEmpty: true)
        constraints = try reader.string("constraints", maxBytes: 64 << 10, allowEmpty: true)
        deadline = try reader.string("deadline", maxBytes: 256)
        budget = try reader.string("budget", maxBytes: 256)
        agents = try reader.stringArray("agents", maxCount: 64)
        tasks = try Self.tasks(reader.raw("tasks"))
        idempotencyKey = try reader.string("idempotency_key", maxBytes: 256)
        maxAttempts = try reader.int("max_attempts", in: 1...100)
        try reader.finish()
        if let agents, agents.isEmpty { throw RPCError.invalidParams("agents must not be empty when given") }
        if agents != nil, tasks != nil { throw RPCError.invalidParams("give either agents or tasks, not both") }
    }

    private static func tasks(_ value: JSONValue?) throws(RPCError) -> [TaskSpec]? {
        guard let value, value != .null else { return nil }
        guard case let .array(items) = value, !items.isEmpty, items.count <= 64 else {
            throw RPCError.invalidParams("tasks must be an array of 1 to 64 task objects")
        }
        var result: [TaskSpec] = []
        for (index, item) in items.enumerated() {
            var reader: ParamReader
            do {
                reader = try ParamReader(item)
            } catch {
                throw RPCError.invalidParams("tasks[\(index)] must be an object")
            }
            let agent = try reader.requiredString("agent", maxBytes: 256)
            let description = try reader.string("description", maxBytes: 64 << 10)
            var after: [Int] = []
            if let raw = reader.raw("after") {
                guard case let .array(positions) = raw else { throw RPCError.invalidParams("tasks[\(index)].after must be an array of positions") }
                for position in positions {
                    guard case let .int(value) = position, value >= 0, value < 64 else {
                        throw RPCError.invalidParams("tasks[\(index)].after must hold 0-based positions of other tasks")
                    }
                    after.append(Int(value))
                }
            }
            try reader.finish()
            result.append(TaskSpec(agent: agent, description: description, after: after))
        }
        return result
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["goal": .string(goal)]
        if let context { fields["context"] = .string(context) }
        if let constraints { fields["constraints"] = .string(constraints) }
        if let deadline { fields["deadline"] = .string(deadline) }
        if let budget { fields["budget"] = .string(budget) }
        if let agents { fields["agents"] = .array(agents.map(JSONValue.string)) }
        if let tasks { fields["tasks"] = .array(tasks.map(\.json)) }
        if let idempotencyKey { fields["idempotency_key"] = .string(idempotencyKey) }
        if let maxAttempts { fields["max_attempts"] = .int(Int64(maxAttempts)) }
        return .object(fields)
    }
}

/// `plan.list`
public struct PlanListParams: Sendable, Equatable {
    public static let defaultLimit = 50
    public var status: PlanStatus?
    public var limit: Int
    public var cursor: String?

    public init(status: PlanStatus? = nil, limit: Int = defaultLimit, cursor: String? = nil) {
        self.status = status
        self.limit = limit
        self.cursor = cursor
    }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        if let text = try reader.string("status", maxBytes: 64) {
            guard let value = PlanStatus(rawValue: text) else {
                throw RPCError.invalidParams("status must be one of \(PlanStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = value
        }
        limit = try reader.int("limit", in: 1...1000) ?? Self.defaultLimit
        cursor = try reader.string("cursor", maxBytes: 64)
        try reader.finish()
        if let cursor, Int64(cursor).map({ $0 > 0 }) != true { throw RPCError.invalidParams("cursor must be a next_cursor value from a previous page") }
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["limit": .int(Int64(limit))]
        if let status { fields["status"] = .string(status.rawValue) }
        if let cursor { fields["cursor"] = .string(cursor) }
        return .object(fields)
    }
}

/// Methods that take only a plan id.
public struct PlanIDParams: Sendable, Equatable {
    public var planID: PlanID

    public init(planID: PlanID) { self.planID = planID }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        planID = try reader.requiredID("plan_id", as: PlanID.self)
        try reader.finish()
    }

    public var json: JSONValue { ["plan_id": .string(planID.rawValue)] }
}

/// Methods that take only a task id.
public struct TaskIDParams: Sendable, Equatable {
    public var taskID: TaskID

    public init(taskID: TaskID) { self.taskID = taskID }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        taskID = try reader.requiredID("task_id", as: TaskID.self)
        try reader.finish()
    }

    public var json: JSONValue { ["task_id": .string(taskID.rawValue)] }
}

/// `events.list`
public struct EventsListParams: Sendable, Equatable {
    public static let defaultLimit = 100
    public var planID: PlanID
    public var taskID: TaskID?
    /// A page further back: only events written before this one.
    public var before: EventID?
    public var limit: Int

    public init(planID: PlanID, taskID: TaskID? = nil, before: EventID? = nil, limit: Int = defaultLimit) {
        self.planID = planID
        self.taskID = taskID
        self.before = before
        self.limit = limit
    }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        planID = try reader.requiredID("plan_id", as: PlanID.self)
        taskID = try reader.id("task_id", as: TaskID.self)
        before = try reader.id("before", as: EventID.self)
        limit = try reader.int("limit", in: 1...10_000) ?? Self.defaultLimit
        try reader.finish()
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["plan_id": .string(planID.rawValue), "limit": .int(Int64(limit))]
        if let taskID { fields["task_id"] = .string(taskID.rawValue) }
        if let before { fields["before"] = .string(before.rawValue) }
        return .object(fields)
    }
}
