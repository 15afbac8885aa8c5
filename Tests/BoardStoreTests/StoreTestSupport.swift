import BoardCore
import BoardStore

extension StateStore {
    /// The events of one page, for tests that do not follow `next_before`.
    func events(of plan: PlanID, task: TaskID?, before: EventID? = nil, limit: Int) async throws -> [BoardEvent] {
        try await eventPage(of: plan, task: task, before: before, limit: limit).events
    }
}
