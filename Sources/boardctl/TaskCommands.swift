import ArgumentParser
import BoardCore
import BoardProtocol
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Inspect, cancel and retry tasks.", subcommands: [Show.self, Cancel.self, Retry.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a task and its result.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Task id.") var taskID: String

        func run() throws {
            let id = try parseID(taskID, TaskID.self)
            try options.show(.taskGet, TaskIDParams(taskID: id).json, as: BoardTask.self, render: printTask)
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a pending or running task (a running agent is stopped).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Task id.") var taskID: String

        func run() throws {
            let id = try parseID(taskID, TaskID.self)
            try options.show(.taskCancel, TaskIDParams(taskID: id).json, as: BoardTask.self, render: printTask)
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Run a failed, escalated or cancelled task again (grants one more attempt).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Task id.") var taskID: String

        func run() throws {
            let id = try parseID(taskID, TaskID.self)
            try options.show(.taskRetry, TaskIDParams(taskID: id).json, as: BoardTask.self, render: printTask)
        }
    }
}

func printTask(_ task: BoardTask) {
    Output.line("task      \(task.taskID)")
    Output.line("plan      \(task.planID)")
    Output.line("agent     \(task.agent)")
    Output.line("state     \(task.state)")
    Output.line("attempts  \(task.attempts)/\(task.maxAttempts)")
    Output.line("updated   \(task.updatedAt) (\(Output.age(task.updatedAt)))")
    if let notBefore = task.notBefore { Output.line("next try  \(notBefore)") }
    if let error = task.lastError { Output.line("error     \(error)") }
    Output.line("work      \(task.description)")
    guard let result = task.result else { return }
    Output.line()
    let label = result.offline ? "\(result.codename) (\(result.agent), offline)" : "\(result.codename) (\(result.agent), \(result.backend))"
    Output.line("result by \(label)" + (result.confidence.map { ", confidence " + Output.fixed($0, 2) } ?? ""))
    Output.line(result.summary)
    for (title, items) in [("findings", result.findings), ("risks", result.risks), ("recommendations", result.recommendations)]
    where !items.isEmpty {
        Output.line("\(title):")
        for item in items { Output.line("  - \(item)") }
    }
    if let raw = result.raw, raw != result.summary { Output.line(raw) }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Show a plan's audit trail, newest first.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Plan id.") var planID: String
    @Option(name: .long, help: "Only this task's events.") var task: String?
    @Option(name: .long, help: "At most this many (1–10000; default 100); with --all, per request (default 10000).") var limit: Int?
    @Option(name: .long, help: "Only events older than this one (an evt_… id from a previous page).") var before: String?
    @Flag(name: .long, help: "The whole trail, fetched page by page.") var all = false

    func run() throws {
        let plan = try parseID(planID, PlanID.self)
        let taskID = try task.map { try parseID($0, TaskID.self) }
        let start = try before.map { try parseID($0, EventID.self) }
        try options.run { client throws(ClientFailure) in
            var events: [BoardEvent] = []
            var raw: [JSONValue] = []
            var cursor = start
            repeat {
                // Big pages for --all: each cursor costs the daemon a scan of the plan's events.
                let pageSize = limit ?? (all ? 10_000 : EventsListParams.defaultLimit)
                let reply = try client.call(.eventsList, EventsListParams(planID: plan, taskID: taskID, before: cursor, limit: pageSize).json)
                let page = try decode(EventsResult.self, reply)
                if case let .array(items)? = reply["events"] { raw += items }
                events += page.events
                cursor = page.nextPage(limit: pageSize)
            } while all && cursor != nil
            if options.json {
                // As events.list replies: `next_before` is null once the trail's oldest event is in.
                options.printJSON(.object(["events": .array(raw), "next_before": cursor.map { .string($0.rawValue) } ?? .null]))
            } else {
                Self.print(events)
                if !all, let next = cursor {
                    let task = taskID.map { " --task \($0.rawValue)" } ?? ""
                    let size = limit.map { " --limit \($0)" } ?? ""
                    Output.line("more: boardctl events \(plan.rawValue)\(task)\(size) --before \(next.rawValue)")
                }
            }
            return 0
        }
    }

    private static func print(_ events: [BoardEvent]) {
        Output.table(["TIME", "KIND", "TASK", "DETAIL"], events.map { event in
            var detail = ""
            if case let .object(fields) = event.payload {
                detail = fields.keys.sorted().filter { $0 != "actor" }.map { key in
                    let value = fields[key].map { $0.stringValue ?? $0.serialized } ?? ""
                    return "\(key)=\(Output.clip(value, 80))"
                }.joined(separator: " ")
            }
            return [event.createdAt.iso8601, event.kind.rawValue, event.taskID?.rawValue ?? "-", detail]
        })
    }
}
