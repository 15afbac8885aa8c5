import BoardCore
import Foundation
import Testing

/// The everyday path through the real boardctl: submit a goal, wait, read the final plan.
@Suite("boardctl happy path", .timeLimit(.minutes(2)))
struct BoardctlHappyPathTests {
    @Test func createWaitListResultEventsStatus() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let socket = daemon.socketPath
            let goal = "launch an SMB accounting SaaS in Q2 (e2e \(UUID().uuidString.prefix(8)))"

            let created = try await sandbox.boardctl(socket: socket, ["plan", "create", goal, "--wait", "--timeout", "60"])
            #expect(created.status == 0, "\(created)")
            #expect(created.stdout.contains("# Final plan"), "\(created)")
            #expect(created.stdout.contains(goal), "\(created)")
            let planID = try #require(firstID(prefix: "plan", in: created.stdout), "no plan id in: \(created)")

            let list = try await sandbox.boardctl(socket: socket, ["plan", "list", "--json"])
            #expect(list.status == 0, "\(list)")
            let plans = try list.json()["plans"]?.arrayValue ?? []
            let listed = try #require(plans.first { $0["plan_id"]?.stringValue == planID }, "plan list lacks \(planID): \(list)")
            #expect(listed["status"] == "closed")
            #expect(listed["goal"]?.stringValue == goal)

            let result = try await sandbox.boardctl(socket: socket, ["plan", "result", planID, "--format", "json"])
            #expect(result.status == 0, "\(result)")
            let finalPlan = try result.json()
            #expect(finalPlan["plan_id"]?.stringValue == planID)
            #expect(finalPlan["goal"]?.stringValue == goal)
            let confidence = try #require(finalPlan["confidence"]?.doubleValue, "no confidence in \(result)")
            #expect((0.0...1.0).contains(confidence))
            let contributors = finalPlan["contributors"]?.arrayValue ?? []
            #expect(contributors.count == 4)
            #expect(Set(contributors.compactMap { $0["agent"]?.stringValue }) == ["COO", "CFO", "CTO", "CMO"])
            #expect(finalPlan["markdown"]?.stringValue?.contains("# Final plan") == true)

            let markdown = try await sandbox.boardctl(socket: socket, ["plan", "result", planID])
            #expect(markdown.status == 0, "\(markdown)")
            #expect(markdown.stdout.contains("# Final plan"))

            let events = try await sandbox.boardctl(socket: socket, ["events", planID, "--json"])
            #expect(events.status == 0, "\(events)")
            let kinds = (try events.json()["events"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue }
            for kind in ["plan_created", "task_created", "task_started", "task_completed", "plan_synthesizing", "plan_closed"] {
                #expect(kinds.contains(kind), "events lack \(kind): \(kinds)")
            }
            #expect(kinds.filter { $0 == "task_completed" }.count == 4, "\(kinds)")
            // Newest first: the plan closing is the most recent event.
            #expect(kinds.first == "plan_closed", "\(kinds)")
            // The same trail fetched three events at a time.
            let paged = try await sandbox.boardctl(socket: socket, ["events", planID, "--limit", "3", "--all", "--json"])
            #expect(paged.status == 0, "\(paged)")
            #expect(try paged.json() == events.json())
            #expect(try events.json()["next_before"] == .null)
            let firstPage = try await sandbox.boardctl(socket: socket, ["events", planID, "--limit", "3", "--json"])
            let cursor = try #require(try firstPage.json()["events"]?.arrayValue?.last?["event_id"]?.stringValue)
            #expect(try firstPage.json()["next_before"]?.stringValue == cursor)
            let rest = try await sandbox.boardctl(socket: socket, ["events", planID, "--before", cursor, "--json"])
            #expect(try (rest.json()["events"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue } == Array(kinds.dropFirst(3)))

            let status = try await sandbox.boardctl(socket: socket, ["status"])
            #expect(status.status == 0, "\(status)")
            #expect(status.stdout.contains("0 pending, 0 in progress"), "\(status)")
            let statusJSON = try await sandbox.boardctl(socket: socket, ["status", "--json"])
            #expect(statusJSON.status == 0, "\(statusJSON)")
            #expect(try statusJSON.json()["pid"]?.intValue == Int64(daemon.pid))

            let ping = try await sandbox.boardctl(socket: socket, ["ping"])
            #expect(ping.status == 0, "\(ping)")
            #expect(ping.stdout.hasPrefix("pong from boardd"), "\(ping)")
        }
    }

    @Test func agentSelectionByRoleAndCodename() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let socket = daemon.socketPath

            let created = try await sandbox.boardctl(
                socket: socket, ["plan", "create", "price the Q2 launch", "--agent", "cfo", "--agent", "Nexus", "--json"])
            #expect(created.status == 0, "\(created)")
            let detail = try created.json()
            let agents = (detail["tasks"]?.arrayValue ?? []).compactMap { $0["agent"]?.stringValue }
            #expect(agents.sorted() == ["CFO", "CTO"], "\(created)")
            let planID = try #require(detail["plan_id"]?.stringValue)

            // The stored plan has exactly those tasks too.
            let shown = try await sandbox.boardctl(socket: socket, ["plan", "show", planID, "--json"])
            #expect(shown.status == 0, "\(shown)")
            #expect((try shown.json()["tasks"]?.arrayValue ?? []).compactMap { $0["agent"]?.stringValue }.sorted() == ["CFO", "CTO"])

            // A role and its codename name the same agent: one task.
            let same = try await sandbox.boardctl(
                socket: socket, ["plan", "create", "budget", "--agent", "CFO", "--agent", "abacus", "--json"])
            #expect(same.status == 0, "\(same)")
            #expect((try same.json()["tasks"]?.arrayValue ?? []).compactMap { $0["agent"]?.stringValue } == ["CFO"])

            let unknown = try await sandbox.boardctl(
                socket: socket, ["plan", "create", "no such exec", "--agent", "cfo", "--agent", "Bogus"])
            #expect(unknown.status == 1, "\(unknown)")
            #expect(unknown.stderr.contains("unknown agent"), "\(unknown)")
            #expect(unknown.stderr.contains("Bogus"), "\(unknown)")

            // The refused request created nothing.
            let plans = try daemon.call("plan.list")["plans"]?.arrayValue ?? []
            #expect(plans.count == 2)
            #expect(!plans.contains { $0["goal"]?.stringValue == "no such exec" })
        }
    }
}
