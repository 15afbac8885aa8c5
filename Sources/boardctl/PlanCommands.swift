import ArgumentParser
import BoardCore
import BoardProtocol
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Create and follow plans.",
        subcommands: [Create.self, List.self, Show.self, Wait.self, Result.self, Cancel.self, RetrySynthesis.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Submit a goal; the CEO splits it into tasks.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The goal, e.g. \"launch an SMB accounting SaaS in Q2\" (or give it in --file).") var goal: String?
        @Option(name: .long, help: "Background the board should know.") var context: String?
        @Option(name: .long, help: "Constraints the plan must respect.") var constraints: String?
        @Option(name: .long, help: "The deadline, e.g. \"end of Q2 2027\".") var deadline: String?
        @Option(name: .long, help: "The budget, e.g. \"$250k\".") var budget: String?
        @Option(name: .long, help: "A plan as JSON or YAML (.yaml/.yml): the plan.create params (goal, context, tasks with agent, description, after…).")
        var file: String?
        @Option(name: .long, help: "Assign this agent (role or codename); repeatable. Default: COO, CFO, CTO, CMO.")
        var agent: [String] = []
        @Option(name: .long, help: "Attempts per task before escalation (default from the daemon's config).")
        var maxAttempts: Int?
        @Option(name: .long, help: "Submitting again with the same key returns the same plan.") var idempotencyKey: String?
        @Flag(name: .long, help: "Wait for the plan to settle and print its final plan.") var wait = false
        @Option(name: .long, help: "With --wait: give up after this many seconds.") var timeout: Double?

        func run() throws {
            var params: PlanCreateParams
            if let file {
                params = try Self.load(file)
                if let goal { params.goal = goal }
            } else {
                guard let goal else { throw ValidationError("give a goal, or a plan with --file") }
                params = PlanCreateParams(goal: goal)
            }
            params.context = context ?? params.context
            params.constraints = constraints ?? params.constraints
            params.deadline = deadline ?? params.deadline
            params.budget = budget ?? params.budget
            if !agent.isEmpty { params.agents = agent }
            params.idempotencyKey = idempotencyKey ?? params.idempotencyKey
            params.maxAttempts = maxAttempts ?? params.maxAttempts
            try options.run { client throws(ClientFailure) in
                let result = try client.call(.planCreate, params.json)
                let detail = try decode(PlanDetail.self, result)
                if !wait {
                    if options.json { options.printJSON(result) } else { printDetail(detail) }
                    return 0
                }
                if !options.json {
                    Output.line("plan \(detail.plan.planID) \(detail.created == false ? "already exists" : "created") "
                        + "with \(detail.tasks.count) task(s): \(detail.tasks.map(\.agent).joined(separator: ", "))")
                }
                return try waitAndPrint(client, detail.plan.planID, timeout: timeout, options: options)
            }
        }

        /// Reads a plan file: the same members as the `plan.create` params, checked the same way.
        static func load(_ path: String) throws -> PlanCreateParams {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            let value: JSONValue
            if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                do {
                    value = try PlanFileYAML.parse(String(decoding: data, as: UTF8.self))
                } catch {
                    throw ValidationError("\(path): \(error)")
                }
            } else {
                do {
                    // Editors on some systems start a UTF-8 file with a byte-order mark; it is not JSON.
                    let text = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
                    value = try text.withUnsafeBytes { (bytes) throws(JSONParseError) in try JSONValue.parse(bytes) }
                } catch {
                    throw ValidationError("\(path) is not valid JSON: \(error)")
                }
            }
            do {
                return try PlanCreateParams(params: value)
            } catch {
                throw ValidationError("\(path): \(error.message)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List plans, newest first.")
        @OptionGroup var options: GlobalOptions
        @Option(name: .long, help: "Only plans in this status.") var status: String?
        @Option(name: .long, help: "At most this many (1–1000).") var limit = 50
        @Option(name: .long, help: "Continue from a previous page's cursor.") var cursor: String?

        func run() throws {
            var params = PlanListParams(limit: limit, cursor: cursor)
            if let status {
                guard let value = PlanStatus(rawValue: status) else {
                    throw ValidationError("status must be one of \(PlanStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                params.status = value
            }
            try options.show(.planList, params.json, as: PlanListResult.self) { page in
                if page.plans.isEmpty {
                    Output.line("no plans")
                    return
                }
                let now = Output.now()
                Output.table(["PLAN", "STATUS", "CREATED", "GOAL"], page.plans.map {
                    [$0.planID.rawValue, $0.status.rawValue, Output.age($0.createdAt, now: now), Output.clip($0.goal, 60)]
                })
                if let next = page.nextCursor { Output.line("more: boardctl plan list --cursor \(next)") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a plan and its tasks.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Plan id.") var planID: String

        func run() throws {
            let id = try parseID(planID, PlanID.self)
            try options.show(.planGet, PlanIDParams(planID: id).json, as: PlanDetail.self, render: printDetail)
        }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait until a plan settles; print its final plan when it closes.",
            discussion: "Exit status 0 when the plan closed, 2 when it settled otherwise, 3 on timeout.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Plan id.") var planID: String
        @Option(name: .long, help: "Give up after this many seconds.") var timeout: Double?

        func run() throws {
            let id = try parseID(planID, PlanID.self)
            try options.run { client throws(ClientFailure) in try waitAndPrint(client, id, timeout: timeout, options: options) }
        }
    }

    struct Result: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "result", abstract: "Print a closed plan's final plan.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Plan id.") var planID: String
        @Option(name: .long, help: "markdown or json.") var format = "markdown"

        func validate() throws {
            guard ["markdown", "json"].contains(format) else { throw ValidationError("--format must be markdown or json") }
        }

        func run() throws {
            let id = try parseID(planID, PlanID.self)
            try options.run { client throws(ClientFailure) in
                let result = try client.call(.planResult, PlanIDParams(planID: id).json)
                if options.json || format == "json" { options.printJSON(result); return 0 }
                Output.line(try decode(PlanResult.self, result).markdown)
                return 0
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a plan and stop its running tasks.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Plan id.") var planID: String

        func run() throws {
            let id = try parseID(planID, PlanID.self)
            try options.show(.planCancel, PlanIDParams(planID: id).json, as: PlanDetail.self, render: printDetail)
        }
    }

    struct RetrySynthesis: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry-synthesis", abstract: "Ask the CEO again to synthesize a plan whose synthesis failed.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Plan id.") var planID: String

        func run() throws {
            let id = try parseID(planID, PlanID.self)
            try options.show(.planRetrySynthesis, PlanIDParams(planID: id).json, as: PlanDetail.self, render: printDetail)
        }
    }
}

func printDetail(_ detail: PlanDetail) {
    let plan = detail.plan
    Output.line("plan      \(plan.planID)")
    Output.line("status    \(plan.status)")
    Output.line("goal      \(Output.clip(plan.goal, 100))")
    if let context = plan.context { Output.line("context   \(Output.clip(context, 100))") }
    Output.line("created   \(plan.createdAt) (\(Output.age(plan.createdAt)))")
    if let closed = plan.closedAt { Output.line("ended     \(closed)") }
    if let error = plan.lastError { Output.line("error     \(Output.clip(error, 200))") }
    let usage = detail.usage
    if usage.answers > 0 {
        Output.line("usage     \(usage.promptTokens) prompt + \(usage.completionTokens) completion tokens, "
            + "\(Output.duration(milliseconds: usage.latencyMilliseconds)) of model time over \(usage.answers) answers")
    }
    Output.line()
    if detail.tasks.isEmpty {
        Output.line(plan.status == .planning ? "(the CEO is planning the tasks)" : "(no tasks)")
        return
    }
    let positions = Dictionary(uniqueKeysWithValues: detail.tasks.enumerated().map { ($1.taskID, $0 + 1) })
    Output.table(["#", "TASK", "AGENT", "STATE", "ATTEMPTS", "AFTER", "UPDATED", "LAST ERROR"], detail.tasks.enumerated().map { index, task in
        let after = task.dependsOn.compactMap { positions[$0].map(String.init) }.joined(separator: ",")
        let waiting = task.state == .pending && task.unmetDependencies > 0 ? "waiting" : task.state.rawValue
        return ["\(index + 1)", task.taskID.rawValue, task.agent, waiting, "\(task.attempts)/\(task.maxAttempts)",
                after.isEmpty ? "-" : after, Output.age(task.updatedAt), task.state == .completed ? "" : Output.clip(task.lastError ?? "", 60)]
    })
}

/// Polls until the plan settles. A plan settles when it is closed, cancelled, blocked or failed.
func waitAndPrint(_ client: ControlClient, _ id: PlanID, timeout: Double?, options: GlobalOptions) throws(ClientFailure) -> Int32 {
    let deadline = timeout.map { ContinuousClock.now.advanced(by: .milliseconds(Int64($0 * 1000))) }
    var delay = 20
    while true {
        let reply = try client.call(.planGet, PlanIDParams(planID: id).json)
        let detail = try decode(PlanDetail.self, reply)
        switch detail.plan.status {
        case .closed:
            let result = try client.call(.planResult, PlanIDParams(planID: id).json)
            if options.json { options.printJSON(result) } else { Output.line(try decode(PlanResult.self, result).markdown) }
            return ExitStatus.success
        case .cancelled, .blocked, .failed:
            if options.json {
                options.printJSON(reply)
            } else {
                printDetail(detail)
                Output.error("plan \(id) is \(detail.plan.status), not closed")
            }
            return ExitStatus.planNotClosed
        case .planning, .open, .synthesizing:
            if let deadline, ContinuousClock.now >= deadline {
                Output.error("timed out waiting for plan \(id) (still \(detail.plan.status))")
                return ExitStatus.waitTimedOut
            }
            usleep(UInt32(delay * 1000))
            delay = min(delay * 2, 500)
        }
    }
}
