import BoardCore
import Foundation
import Testing

/// boardctl's documented exit statuses: 0, 1 rejected, 2 not closed, 3 timed out, 64 usage, 69 unreachable.
@Suite("boardctl exit codes", .timeLimit(.minutes(2)))
struct BoardctlExitCodeTests {
    @Test func daemonNotRunningExits69WithOneLine() async throws {
        try await withSandbox { sandbox in
            let socket = sandbox.path("nobody-home.sock")
            for arguments in [["ping"], ["status"], ["plan", "list"], ["plan", "create", "a goal"]] {
                let result = try await sandbox.boardctl(socket: socket, arguments)
                #expect(result.status == 69, "\(arguments): \(result)")
                #expect(result.stderrLines.count == 1, "\(arguments): \(result)")
                #expect(result.stderrLines.first?.hasPrefix("boardctl: cannot connect to boardd at \(socket)") == true,
                        "\(arguments): \(result)")
                #expect(result.stdout.isEmpty, "\(arguments): \(result)")
            }
            // --socket overrides the environment.
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let viaFlag = try await sandbox.boardctl(socket: socket, ["ping", "--socket", daemon.socketPath])
            #expect(viaFlag.status == 0, "\(viaFlag)")
        }
    }

    @Test func usageErrorsExit64() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let socket = daemon.socketPath
            let usage: [[String]] = [
                ["plan", "show", "not-an-id"],
                ["plan", "wait", "task_0000000000000001"],
                ["task", "show", "plan_0000000000000001"],
                ["plan", "result", "plan_0000000000000001", "--format", "xml"],
                ["plan", "list", "--status", "sleeping"],
                ["plan", "frobnicate"],
                ["plan", "create"],
            ]
            for arguments in usage {
                let result = try await sandbox.boardctl(socket: socket, arguments)
                #expect(result.status == 64, "\(arguments): \(result)")
            }
            // Nothing reached the daemon as a plan.
            #expect(try daemon.call("plan.list")["plans"] == [])
        }
    }

    /// Plan files: JSON (a leading byte-order mark is skipped) and YAML give the same plan; a file
    /// that is not strict JSON is a usage error that says where it went wrong, and sends nothing.
    @Test func planFilesAreReadStrictly() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let socket = daemon.socketPath
            let json = try sandbox.write("plan.json", """
                \u{FEFF}{"goal": "open an office", "tasks": [{"agent": "CTO", "description": "IT"},
                 {"agent": "CFO", "description": "budget", "after": [0]}]}
                """)
            let yaml = try sandbox.write("plan.yaml", """
                goal: open an office
                tasks:
                  - agent: CTO
                    description: IT
                  - agent: CFO
                    description: budget
                    after: [0]
                """)
            for file in [json, yaml] {
                let created = try await sandbox.boardctl(socket: socket, ["plan", "create", "--file", file, "--json"])
                #expect(created.status == 0, "\(file): \(created)")
                let tasks = try created.json()["tasks"]?.arrayValue ?? []
                #expect(tasks.compactMap { $0["agent"]?.stringValue } == ["CTO", "CFO"], "\(file): \(created)")
                #expect(tasks.last?["depends_on"] == [tasks.first?["task_id"] ?? .null], "\(file): \(created)")
            }
            let trailingComma = try sandbox.write("bad.json", #"{"goal": "open an office",}"#)
            let refused = try await sandbox.boardctl(socket: socket, ["plan", "create", "--file", trailingComma])
            #expect(refused.status == 64, "\(refused)")
            #expect(refused.stderr.contains("is not valid JSON") && refused.stderr.contains("at byte 26"), "\(refused)")
            #expect(try daemon.call("plan.list")["plans"]?.arrayValue?.count == 2, "the refused file sent nothing")
        }
    }

    @Test func rejectedRequestsExit1() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let missing = try await sandbox.boardctl(socket: daemon.socketPath, ["plan", "show", "plan_00000000000000ff"])
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stderr.contains("[not_found]"), "\(missing)")
            let created = try daemon.call("plan.create", ["goal": "not done yet", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            _ = try await daemon.waitForPlanStatus(planID, "closed")
            let cancel = try await sandbox.boardctl(socket: daemon.socketPath, ["plan", "cancel", planID])
            #expect(cancel.status == 1, "\(cancel)")
            #expect(cancel.stderr.contains("[invalid_state]"), "\(cancel)")
        }
    }

    @Test func planWaitTimesOutWithExit3() async throws {
        try await withSandbox { sandbox in
            let agent = try sandbox.agentScript("sleeper.sh", """
                echo $$ > '\(sandbox.path("wait.pid")).tmp' && mv '\(sandbox.path("wait.pid")).tmp' '\(sandbox.path("wait.pid"))'
                exec sleep 300
                """)
            let daemon = try await sandbox.startDaemon(config: testConfig(agents: ["CFO": agent]))
            let created = try daemon.call("plan.create", ["goal": "never finishes", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            _ = try await daemon.waitForTaskState(taskID, "in_progress")

            let waited = try await sandbox.boardctl(socket: daemon.socketPath, ["plan", "wait", planID, "--timeout", "0.2"])
            #expect(waited.status == 3, "\(waited)")
            #expect(waited.stderr.contains("timed out"), "\(waited)")
            // Timing out changes nothing on the daemon's side.
            #expect(try daemon.plan(planID)["status"] == "open")
            #expect(try daemon.task(taskID)["state"] == "in_progress")
        }
    }
}
