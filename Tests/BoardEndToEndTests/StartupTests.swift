import BoardCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import BoardTestSupport
#endif

/// When boardd refuses to start, and how it treats an existing socket file.
@Suite("boardd start-up", .timeLimit(.minutes(2)))
struct StartupTests {
    @Test func invalidConfigIsRefusedNamingTheKey() async throws {
        try await withSandbox { sandbox in
            let config = try sandbox.write("bad.json", #"{"scheduler": {"concurency": 4}}"#)
            let result = try await sandbox.runBoardd(["--state-dir", sandbox.path("state"), "--config", config])
            #expect(result.status != 0, "\(result)")
            #expect(!result.exit.signaled, "\(result)")
            #expect(result.stderr.contains("scheduler.concurency"), "\(result)")
            #expect(!sandbox.exists("state/boardd.sock"), "a refused daemon must not leave a socket")

            let outOfRange = try sandbox.write("range.json", #"{"scheduler": {"concurrency": 0}}"#)
            let second = try await sandbox.runBoardd(["--state-dir", sandbox.path("state"), "--config", outOfRange])
            #expect(second.status != 0, "\(second)")
            #expect(second.stderr.contains("scheduler.concurrency"), "\(second)")

            let notJSON = try sandbox.write("broken.json", "{ this is not json")
            let third = try await sandbox.runBoardd(["--state-dir", sandbox.path("state"), "--config", notJSON])
            #expect(third.status != 0, "\(third)")
            #expect(third.stderr.contains("broken.json"), "\(third)")

            let missing = try await sandbox.runBoardd(["--state-dir", sandbox.path("state"), "--config", sandbox.path("nope.json")])
            #expect(missing.status != 0, "\(missing)")
            #expect(missing.stderr.contains("nope.json"), "\(missing)")
        }
    }

    @Test func socketInUseByALiveDaemonIsRefused() async throws {
        try await withSandbox { sandbox in
            let first = try await sandbox.startDaemon(config: testConfig())
            let second = try await sandbox.runBoardd(["--state-dir", first.stateDir])
            #expect(second.status != 0, "\(second)")
            #expect(second.stderr.contains(first.socketPath), "\(second)")
            #expect(second.stderr.contains("already listening"), "\(second)")

            // The first keeps serving, on the same socket file.
            #expect(first.isRunning)
            let ping = try await sandbox.boardctl(socket: first.socketPath, ["ping"])
            #expect(ping.status == 0, "\(ping)")
            #expect(try first.call("daemon.status")["pid"]?.intValue == Int64(first.pid))
        }
    }

    /// A second boardd pointed at a live daemon's state dir must not touch that daemon's work.
    @Test func refusedSecondDaemonLeavesRunningTasksAlone() async throws {
        try await withSandbox { sandbox in
            let agent = try sandbox.agentScript("sleeper.sh", """
                echo $$ >> '\(sandbox.path("agents.log"))'
                echo $$ > '\(sandbox.path("live-$$.pid"))'
                exec sleep 300
                """)
            let first = try await sandbox.startDaemon(config: testConfig(agents: ["CFO": agent]))
            let created = try first.call("plan.create", ["goal": "busy", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            _ = try await first.waitForTaskState(taskID, "in_progress")
            try await eventually("the agent to start") { sandbox.exists("agents.log") ? true : nil }

            let second = try await sandbox.runBoardd(["--state-dir", first.stateDir, "--config", try #require(first.configPath)])
            #expect(second.status != 0, "\(second)")

            // A refused daemon exits before serving anything, so whatever it did to the shared state is
            // already in the database: the live daemon's task must still be its first, running attempt.
            let task = try first.task(taskID)
            #expect(task["state"] == "in_progress")
            #expect(task["attempts"]?.intValue == 1, "\(task.serialized)")
            let kinds = try first.eventKinds(planID, task: taskID)
            #expect(!kinds.contains("task_recovered"), "\(kinds)")
            let started = (try? String(contentsOfFile: sandbox.path("agents.log"), encoding: .utf8)) ?? ""
            #expect(started.split(separator: "\n").count == 1, "agent processes started: \(started)")
        }
    }

    /// Two daemons must never share a database, even on different sockets.
    @Test func aSecondDaemonOnTheSameDatabaseIsRefused() async throws {
        try await withSandbox { sandbox in
            let agent = try sandbox.agentScript("sleeper2.sh", """
                echo $$ >> '\(sandbox.path("agents2.log"))'
                exec sleep 300
                """)
            let first = try await sandbox.startDaemon(config: testConfig(agents: ["CFO": agent]))
            let created = try first.call("plan.create", ["goal": "busy", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            _ = try await first.waitForTaskState(taskID, "in_progress")
            try await eventually("the agent to start") { sandbox.exists("agents2.log") ? true : nil }

            let second = try await sandbox.runBoardd([
                "--database", first.stateDir + "/board.db", "--socket", sandbox.path("other.sock"),
                "--config", try #require(first.configPath),
            ])
            #expect(second.status != 0, "\(second)")
            #expect(second.stderr.contains("in use by another boardd"), "\(second)")
            let kinds = try first.eventKinds(planID, task: taskID)
            #expect(!kinds.contains("task_recovered"), "\(kinds)")
            #expect(try first.task(taskID)["attempts"]?.intValue == 1)
            #expect(first.isRunning)
        }
    }

    @Test func staleSocketFromAKilledDaemonIsReplaced() async throws {
        try await withSandbox { sandbox in
            let first = try await sandbox.startDaemon(config: testConfig())
            let created = try first.call("plan.create", ["goal": "kept across the crash", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            _ = try await first.waitForPlanStatus(planID, "closed")

            let crashed = try await first.crash()
            #expect(crashed == .killed(by: SIGKILL))
            var info = stat()
            #expect(lstat(first.socketPath, &info) == 0, "SIGKILL should leave the socket file behind")
            #expect((info.st_mode & S_IFMT) == S_IFSOCK)

            // Nobody listens: boardctl says so.
            let unreachable = try await sandbox.boardctl(socket: first.socketPath, ["ping"])
            #expect(unreachable.status == 69, "\(unreachable)")
            #expect(unreachable.stderrLines.first?.hasPrefix("boardctl: cannot connect to boardd at") == true, "\(unreachable)")

            let second = try await sandbox.startDaemon(config: testConfig())
            #expect(second.socketPath == first.socketPath)
            let ping = try await sandbox.boardctl(socket: second.socketPath, ["ping"])
            #expect(ping.status == 0, "\(ping)")
            #expect(try second.plan(planID)["status"] == "closed")
        }
    }

    @Test func regularFileAtTheSocketPathIsNotReplaced() async throws {
        try await withSandbox { sandbox in
            try sandbox.write("state/boardd.sock", "precious data\n")
            let result = try await sandbox.runBoardd(["--state-dir", sandbox.path("state")])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("not a socket"), "\(result)")
            #expect((try? String(contentsOfFile: sandbox.path("state/boardd.sock"), encoding: .utf8)) == "precious data\n")
        }
    }
}
