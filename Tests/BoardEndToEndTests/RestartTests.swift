import BoardCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import BoardTestSupport
#endif

/// What survives a daemon crash (SIGKILL) and a graceful stop (SIGTERM).
@Suite("crash recovery and graceful stop", .timeLimit(.minutes(2)))
struct RestartTests {
    /// Sleeps (recording its pid) until `marker` exists; then answers at once.
    static func sleepsUntilMarker(_ sandbox: Sandbox, pidFile: String) throws -> [String] {
        try sandbox.agentScript("cfo-\(pidFile).sh", """
            cat > /dev/null
            if [ -f '\(sandbox.path("marker"))' ]; then
              echo '{"summary": "second run ok", "confidence": 0.9}'
              exit 0
            fi
            echo $$ > '\(sandbox.path(pidFile)).tmp' && mv '\(sandbox.path(pidFile)).tmp' '\(sandbox.path(pidFile))'
            exec sleep 300
            """)
    }

    @Test func crashedDaemonRecoversTheRunningTask() async throws {
        try await withSandbox { sandbox in
            let config = testConfig(agents: ["CFO": try Self.sleepsUntilMarker(sandbox, pidFile: "crash.pid")])
            let first = try await sandbox.startDaemon(config: config)
            let created = try await sandbox.boardctl(
                socket: first.socketPath,
                ["plan", "create", "survive a crash", "--agent", "CFO", "--agent", "CTO", "--max-attempts", "2", "--json"])
            #expect(created.status == 0, "\(created)")
            let planID = try #require(try created.json()["plan_id"]?.stringValue)
            let tasks = try created.json().taskIDsByAgent
            let cfo = try #require(tasks["CFO"])
            #expect(tasks.count == 2)

            let pid = try await eventually("the agent to write its pid") { sandbox.readPID("crash.pid") }
            let running = try await first.waitForTaskState(cfo, "in_progress")
            #expect(running["attempts"]?.intValue == 1)

            let crashed = try await first.crash()
            #expect(crashed == .killed(by: SIGKILL))
            // The agent runs in its own process group, so it outlives the daemon…
            #expect(processExists(pid))
            // The crash left the socket file behind.
            #expect(FileManager.default.fileExists(atPath: first.socketPath))

            try sandbox.write("marker", "")
            let second = try await sandbox.startDaemon(config: config)
            #expect(second.socketPath == first.socketPath)
            // …until the restarted daemon finds it by its claim and stops it before re-running the task.
            try await eventually("the orphaned agent to be stopped") { processExists(pid) ? nil : true }

            let waited = try await sandbox.boardctl(socket: second.socketPath, ["plan", "wait", planID, "--timeout", "60"])
            #expect(waited.status == 0, "\(waited)")

            let task = try second.task(cfo)
            #expect(task["state"] == "completed")
            #expect(task["attempts"]?.intValue == 2, "the crashed attempt counts: \(task.serialized)")
            #expect(task["max_attempts"]?.intValue == 2)
            #expect(task["result"]?["summary"] == "second run ok")

            let kinds = try second.eventKinds(planID, task: cfo)
            #expect(kinds == ["task_created", "task_started", "task_recovered", "task_started", "task_completed"], "\(kinds)")
            let recovered = try #require(try second.events(planID, task: cfo).first { $0["kind"] == "task_recovered" })
            #expect(recovered["payload"]?["from"] == "in_progress")
            #expect(recovered["payload"]?["to"] == "pending")

            // Nothing lost: the plan and both its tasks are still there.
            let plan = try second.plan(planID)
            #expect(plan["status"] == "closed")
            #expect(plan["goal"] == "survive a crash")
            #expect(plan.taskIDsByAgent == tasks)
            let listed = try second.call("plan.list")["plans"]?.arrayValue ?? []
            #expect(listed.compactMap { $0["plan_id"]?.stringValue } == [planID])
        }
    }

    @Test func gracefulStopInterruptsWithoutBurningAnAttempt() async throws {
        try await withSandbox { sandbox in
            let config = testConfig(
                agents: ["CFO": try Self.sleepsUntilMarker(sandbox, pidFile: "graceful.pid")], scheduler: ["shutdown_grace_s": 1])
            let first = try await sandbox.startDaemon(config: config)
            let created = try await sandbox.boardctl(
                socket: first.socketPath, ["plan", "create", "stop politely", "--agent", "CFO", "--max-attempts", "2", "--json"])
            #expect(created.status == 0, "\(created)")
            let planID = try #require(try created.json()["plan_id"]?.stringValue)
            let cfo = try #require(try created.json().taskIDsByAgent["CFO"])

            let pid = try await eventually("the agent to write its pid") { sandbox.readPID("graceful.pid") }
            _ = try await first.waitForTaskState(cfo, "in_progress")

            let stopped = try await first.stop()
            #expect(stopped == .exited(0), "boardd log:\n\(first.log)")
            #expect(!FileManager.default.fileExists(atPath: first.socketPath), "the socket file should be removed on a clean stop")
            try await eventually("agent pid \(pid) to be gone after the graceful stop", timeout: .seconds(10)) {
                processExists(pid) ? nil : true
            }

            try sandbox.write("marker", "")
            let second = try await sandbox.startDaemon(config: config)
            let waited = try await sandbox.boardctl(socket: second.socketPath, ["plan", "wait", planID, "--timeout", "60"])
            #expect(waited.status == 0, "\(waited)")

            let events = try second.events(planID, task: cfo)
            let kinds = events.compactMap { $0["kind"]?.stringValue }
            #expect(kinds == ["task_created", "task_started", "task_interrupted", "task_started", "task_completed"], "\(kinds)")
            let interrupted = try #require(events.first { $0["kind"] == "task_interrupted" })
            // One attempt used, and the budget grew by one, so no attempt was burned.
            #expect(interrupted["payload"]?["attempts"]?.intValue == 1, "\(interrupted.serialized)")
            #expect(interrupted["payload"]?["max_attempts"]?.intValue == 3, "\(interrupted.serialized)")
            #expect(interrupted["payload"]?["to"] == "pending")

            let task = try second.task(cfo)
            #expect(task["state"] == "completed")
            #expect(task["attempts"]?.intValue == 2)
            #expect(task["max_attempts"]?.intValue == 3)
        }
    }
}
