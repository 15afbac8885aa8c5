import BoardCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import BoardTestSupport
#endif

/// Command agents: failures, retries, escalation, manual retry and cancellation of running agents.
@Suite("command agents", .timeLimit(.minutes(2)))
struct CommandAgentTests {
    /// A CFO that fails (exit 1, a message on stderr) until `marker` exists, then succeeds.
    /// Each run saves the task JSON it got on stdin.
    static func flakyCFO(_ sandbox: Sandbox) throws -> [String] {
        try sandbox.agentScript("cfo.sh", """
            cat > '\(sandbox.path("last-input.json"))'
            if [ -f '\(sandbox.path("marker"))' ]; then
              echo '{"summary": "recovered CFO analysis", "findings": ["ledger back"], "confidence": 0.7}'
              exit 0
            fi
            echo "ledger service unreachable (e2e)" >&2
            exit 1
            """)
    }

    /// An agent that records its pid then sleeps: it only ends when it is killed.
    static func sleeper(_ sandbox: Sandbox, pidFile: String) throws -> [String] {
        try sandbox.agentScript("sleeper-\(pidFile).sh", """
            echo $$ > '\(sandbox.path(pidFile)).tmp' && mv '\(sandbox.path(pidFile)).tmp' '\(sandbox.path(pidFile))'
            exec sleep 300
            """)
    }

    /// Three claimers fill free slots (the scheduler, a plan.create claiming in its own
    /// transaction, an outcome write claiming the next task): together they must never run more
    /// agents at once than `scheduler.concurrency`.
    @Test func neverMoreAgentsAtOnceThanTheConcurrency() async throws {
        try await withSandbox { sandbox in
            let running = sandbox.path("running")
            try FileManager.default.createDirectory(atPath: running, withIntermediateDirectories: true)
            let agent = try sandbox.agentScript("count.sh", """
                cat > /dev/null
                mkdir '\(running)/'$$
                ls '\(running)' | wc -l >> '\(sandbox.path("counts"))'
                sleep 0.05
                rmdir '\(running)/'$$
                echo "counted"
                """)
            let roles = ["CFO", "CTO", "CMO", "COO"]
            let daemon = try await sandbox.startDaemon(config: testConfig(
                agents: Dictionary(uniqueKeysWithValues: roles.map { ($0, agent) }), scheduler: ["concurrency": 2]))
            var plans: [String] = []
            for index in 0..<4 {
                let created = try daemon.call("plan.create", [
                    "goal": .string("plan \(index)"), "tasks": .array(roles.map { ["agent": .string($0)] }),
                ])
                plans.append(try #require(created["plan_id"]?.stringValue))
            }
            for plan in plans {
                let detail = try await daemon.waitForPlanStatus(plan, "closed", timeout: .seconds(60))
                #expect(detail["tasks"]?.arrayValue?.allSatisfy { $0["state"] == "completed" && $0["attempts"] == 1 } == true)
            }
            let counts = try String(contentsOfFile: sandbox.path("counts"), encoding: .utf8)
                .split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            #expect(counts.count == 16)
            #expect(counts.max() == 2, "agents seen running at once: \(counts)")
        }
    }

    @Test func failingAgentRetriesThenEscalatesThenManualRetryCloses() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(agents: ["CFO": try Self.flakyCFO(sandbox)]))
            let socket = daemon.socketPath
            let goal = "close the Q2 books"

            let created = try await sandbox.boardctl(
                socket: socket, ["plan", "create", goal, "--agent", "CFO", "--max-attempts", "2", "--json"])
            #expect(created.status == 0, "\(created)")
            let planID = try #require(try created.json()["plan_id"]?.stringValue)
            let taskID = try #require(try created.json().taskIDsByAgent["CFO"], "\(created)")

            let waited = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "60"])
            #expect(waited.status == 2, "plan wait should end with 2 (not closed): \(waited)")
            #expect(waited.stderr.contains("blocked"), "\(waited)")
            #expect(try daemon.plan(planID)["status"] == "blocked")

            let shown = try await sandbox.boardctl(socket: socket, ["task", "show", taskID, "--json"])
            #expect(shown.status == 0, "\(shown)")
            let task = try shown.json()
            #expect(task["state"] == "escalated")
            #expect(task["attempts"]?.intValue == 2)
            #expect(task["max_attempts"]?.intValue == 2)
            let lastError = task["last_error"]?.stringValue ?? ""
            #expect(lastError.contains("ledger service unreachable (e2e)"), "last_error: \(lastError)")
            #expect(lastError.contains("status 1"), "last_error: \(lastError)")

            let text = try await sandbox.boardctl(socket: socket, ["task", "show", taskID])
            #expect(text.stdout.contains("attempts  2/2"), "\(text)")

            let kinds = try daemon.eventKinds(planID, task: taskID)
            let retry = try #require(kinds.firstIndex(of: "task_retry"), "no task_retry in \(kinds)")
            let escalated = try #require(kinds.firstIndex(of: "task_escalated"), "no task_escalated in \(kinds)")
            #expect(retry < escalated, "\(kinds)")
            #expect(kinds.filter { $0 == "task_started" }.count == 2, "\(kinds)")
            #expect(try daemon.eventKinds(planID).contains("plan_blocked"))

            // Fix the agent, then a person grants one more attempt.
            try sandbox.write("marker", "")
            let retried = try await sandbox.boardctl(socket: socket, ["task", "retry", taskID])
            #expect(retried.status == 0, "\(retried)")

            let closed = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "60"])
            #expect(closed.status == 0, "\(closed)")
            #expect(closed.stdout.contains("# Final plan"), "\(closed)")

            let done = try daemon.task(taskID)
            #expect(done["state"] == "completed")
            #expect(done["attempts"]?.intValue == 3)
            #expect(done["max_attempts"]?.intValue == 3)
            #expect(done["result"]?["summary"] == "recovered CFO analysis")
            #expect(done["result"]?["backend"] == "command")
            #expect(done["result"]?["findings"] == ["ledger back"])
            let after = try daemon.eventKinds(planID, task: taskID)
            #expect(Array(after.suffix(3)) == ["task_requeued", "task_started", "task_completed"], "\(after)")

            // The agent got the task on stdin, per the command-agent protocol.
            let input = try JSONDecoder().decode(
                JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: sandbox.path("last-input.json"))))
            #expect(input["kind"] == "task")
            #expect(input["task_id"]?.stringValue == taskID)
            #expect(input["plan_id"]?.stringValue == planID)
            #expect(input["agent"] == "CFO")
            #expect(input["goal"]?.stringValue == goal)
            #expect(input["attempt"]?.intValue == 3)
            #expect(input["max_attempts"]?.intValue == 3)
        }
    }

    @Test func taskCancelKillsTheRunningAgent() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(
                config: testConfig(agents: ["CFO": try Self.sleeper(sandbox, pidFile: "agent.pid")]))
            let socket = daemon.socketPath
            let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "slow numbers", "--agent", "CFO", "--json"])
            #expect(created.status == 0, "\(created)")
            let planID = try #require(try created.json()["plan_id"]?.stringValue)
            let taskID = try #require(try created.json().taskIDsByAgent["CFO"])

            let pid = try await eventually("the agent to write its pid") { sandbox.readPID("agent.pid") }
            _ = try await daemon.waitForTaskState(taskID, "in_progress")
            #expect(processExists(pid))

            let cancelled = try await sandbox.boardctl(socket: socket, ["task", "cancel", taskID])
            #expect(cancelled.status == 0, "\(cancelled)")
            #expect(cancelled.stdout.contains("cancelled"), "\(cancelled)")
            #expect(try daemon.task(taskID)["state"] == "cancelled")

            try await eventually("agent pid \(pid) to be gone after the cancel") { processExists(pid) ? nil : true }
            _ = try await daemon.waitForPlanStatus(planID, "cancelled")

            // The stopped attempt is not turned into a retry, an interruption or a result.
            let task = try daemon.task(taskID)
            #expect(task["state"] == "cancelled")
            #expect(task["attempts"]?.intValue == 1)
            #expect(task["result"] == nil || task["result"] == .null)
            let kinds = try daemon.eventKinds(planID)
            #expect(kinds.contains("task_cancelled"), "\(kinds)")
            #expect(kinds.contains("plan_cancelled"), "\(kinds)")
            #expect(!kinds.contains("task_interrupted") && !kinds.contains("task_retry"), "\(kinds)")
            #expect(daemon.isRunning)
        }
    }

    @Test func planCancelKillsTheRunningAgent() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(
                config: testConfig(agents: ["CFO": try Self.sleeper(sandbox, pidFile: "plan-agent.pid")]))
            let socket = daemon.socketPath
            // CFO sleeps (command); CTO is builtin and completes.
            let created = try await sandbox.boardctl(
                socket: socket, ["plan", "create", "ship it", "--agent", "CFO", "--agent", "CTO", "--json"])
            #expect(created.status == 0, "\(created)")
            let planID = try #require(try created.json()["plan_id"]?.stringValue)
            let tasks = try created.json().taskIDsByAgent
            let cfo = try #require(tasks["CFO"])
            let cto = try #require(tasks["CTO"])

            let pid = try await eventually("the agent to write its pid") { sandbox.readPID("plan-agent.pid") }
            _ = try await daemon.waitForTaskState(cfo, "in_progress")
            _ = try await daemon.waitForTaskState(cto, "completed")

            let cancelled = try await sandbox.boardctl(socket: socket, ["plan", "cancel", planID, "--json"])
            #expect(cancelled.status == 0, "\(cancelled)")
            #expect(try cancelled.json()["status"] == "cancelled", "\(cancelled)")

            try await eventually("agent pid \(pid) to be gone after the plan cancel") { processExists(pid) ? nil : true }
            let plan = try daemon.plan(planID)
            #expect(plan["status"] == "cancelled")
            #expect(try daemon.task(cfo)["state"] == "cancelled")
            #expect(try daemon.task(cto)["state"] == "completed")

            // Waiting on it reports "not closed".
            let waited = try await sandbox.boardctl(socket: socket, ["plan", "wait", planID, "--timeout", "30"])
            #expect(waited.status == 2, "\(waited)")
        }
    }

    @Test func agentAskingForReviewIsEscalatedWithoutRetry() async throws {
        try await withSandbox { sandbox in
            let cfo = try sandbox.agentScript("escalate.sh", """
                cat > /dev/null
                echo '{"escalate": "needs the board to approve a 2M budget"}'
                """)
            let cto = try sandbox.agentScript("plain.sh", """
                cat > /dev/null
                printf 'Use a managed Postgres.\\nDetails follow on a second line.\\n'
                """)
            let daemon = try await sandbox.startDaemon(config: testConfig(agents: ["CFO": cfo, "CTO": cto]))
            let created = try daemon.call("plan.create", ["goal": "raise prices", "agents": ["CFO", "CTO"], "max_attempts": 3])
            let planID = try #require(created["plan_id"]?.stringValue)
            let tasks = created.taskIDsByAgent
            _ = try await daemon.waitForPlanStatus(planID, "blocked")

            let escalated = try daemon.task(try #require(tasks["CFO"]))
            #expect(escalated["state"] == "escalated")
            #expect(escalated["attempts"]?.intValue == 1, "an escalation is not retried: \(escalated.serialized)")
            #expect(escalated["last_error"]?.stringValue?.contains("needs the board to approve a 2M budget") == true)

            // Plain text output: the first line is the summary, the whole text is kept.
            let plain = try daemon.task(try #require(tasks["CTO"]))
            #expect(plain["state"] == "completed")
            #expect(plain["result"]?["summary"] == "Use a managed Postgres.")
            #expect(plain["result"]?["raw"]?.stringValue?.contains("Details follow on a second line.") == true)
        }
    }

    @Test func missingAgentExecutableFailsPermanently() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(
                config: testConfig(agents: ["CFO": [sandbox.path("no-such-agent")]]))
            let created = try daemon.call("plan.create", ["goal": "count beans", "agents": ["CFO"], "max_attempts": 3])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            _ = try await daemon.waitForPlanStatus(planID, "blocked")
            let task = try daemon.task(taskID)
            #expect(task["state"] == "failed")
            #expect(task["attempts"]?.intValue == 1, "a launch failure is permanent, not retried: \(task.serialized)")
            #expect(task["last_error"]?.stringValue?.contains("no-such-agent") == true, "\(task.serialized)")
            #expect(!(try daemon.eventKinds(planID, task: taskID)).contains("task_retry"))
        }
    }

    @Test func taskTimeoutStopsTheAgent() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(
                agents: ["CFO": try Self.sleeper(sandbox, pidFile: "timeout.pid")], scheduler: ["task_timeout_s": 1]))
            let created = try daemon.call("plan.create", ["goal": "too slow", "agents": ["CFO"], "max_attempts": 1])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            let pid = try await eventually("the agent to write its pid") { sandbox.readPID("timeout.pid") }

            _ = try await daemon.waitForPlanStatus(planID, "blocked")
            let task = try daemon.task(taskID)
            #expect(task["state"] == "escalated")
            #expect(task["attempts"]?.intValue == 1)
            #expect(task["last_error"]?.stringValue?.contains("timed out") == true, "\(task.serialized)")
            try await eventually("agent pid \(pid) to be gone after the timeout") { processExists(pid) ? nil : true }
        }
    }
}
