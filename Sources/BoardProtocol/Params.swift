import BoardCore

/// `plan.create`
public struct PlanCreateParams: Sendable, Equatable {
    public var goal: String
    public var context: String?
    /// Roles to assign, in order; `nil` lets the CEO choose.
    public var agents: [String]?
    public var idempotencyKey: String?
    public var maxAttempts: Int?

    public init(goal: String, context: String? = nil, agents: [String]? = nil, idempotencyKey: String? = nil, maxAttempts: Int? = nil) {
        self.goal = goal
        self.context = context
        self.agents = agents
        self.idempotencyKey = idempotencyKey
        self.maxAttempts = maxAttempts
    }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        goal = try reader.requiredString("goal")
        context = try reader.string("context", allowEmpty: true)
        agents = try reader.stringArray("agents", maxCount: 64)
        idempotencyKey = try reader.string("idempotency_key", maxBytes: 256)
        maxAttempts = try reader.int("max_attempts", in: 1...100)
        try reader.finish()
        if let agents, agents.isEmpty { throw RPCError.invalidParams("agents must not be empty when given") }
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["goal": .string(goal)]
        if let context { fields["context"] = .string(context) }
        if let agents { fields["agents"] = .array(agents.map(JSONValue.string)) }
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
    public var limit: Int

    public init(planID: PlanID, taskID: TaskID? = nil, limit: Int = defaultLimit) {
        self.planID = planID
        self.taskID = taskID
        self.limit = limit
    }

    public init(params: JSONValue?) throws(RPCError) {
        var reader = try ParamReader(params)
        planID = try reader.requiredID("plan_id", as: PlanID.self)
        taskID = try reader.id("task_id", as: TaskID.self)
        limit = try reader.int("limit", in: 1...10_000) ?? Self.defaultLimit
        try reader.finish()
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["plan_id": .string(planID.rawValue), "limit": .int(Int64(limit))]
        if let taskID { fields["task_id"] = .string(taskID.rawValue) }
        return .object(fields)
    }
}
