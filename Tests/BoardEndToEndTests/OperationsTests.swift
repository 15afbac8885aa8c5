import BoardCore
import BoardTestSupport
import Foundation
import Testing

/// Metrics, backups and the limits that keep hostile or forgetful clients from hurting others.
@Suite("operations")
struct OperationsTests {
    @Test func metricsCountWhatHappenedInThePrometheusFormat() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let plan = try await sandbox.boardctl(socket: daemon.socketPath, ["plan", "create", "launch a SaaS", "--wait", "--timeout", "60"])
            #expect(plan.status == 0, "\(plan)")
            let metrics = try await sandbox.boardctl(socket: daemon.socketPath, ["metrics"])
            #expect(metrics.status == 0, "\(metrics)")
            let lines = metrics.stdout.split(separator: "\n").map(String.init)
            func value(_ series: String) -> Double? {
                lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(value("board_plans_created_total") == 1)
            #expect(value("board_plans_closed_total") == 1)
            #expect(value("board_tasks_completed_total") == 4)
            #expect(value("board_tasks_pending") == 0)
            #expect(value("board_plan_duration_seconds_count") == 1)
            #expect(lines.contains("# TYPE board_task_duration_seconds histogram"))
            #expect(lines.contains { $0.hasPrefix("board_task_duration_seconds_bucket{agent=\"CFO\",le=\"+Inf\"} 1") })
            #expect(lines.contains { $0.hasPrefix("board_control_request_duration_seconds_count{method=\"plan.create\"} 1") })
            // Every sample line is "name{labels} number".
            for line in lines where !line.hasPrefix("#") {
                #expect(Double(line.split(separator: " ").last ?? "") != nil, "\(line)")
            }
        }
    }

    /// A daemon with nothing to do polls the store less and less often (the poll is only a safety
    /// net: work wakes the scheduler), and work submitted then still runs. A daemon configured
    /// without the backoff, idle alongside it for the same time, is the control.
    @Test func anIdleDaemonBacksOffItsSafetyPoll() async throws {
        try await withSandbox { sandbox in
            let backsOff = try await sandbox.startDaemon(config: testConfig(), stateDir: "backs-off")
            let control = try await sandbox.startDaemon(
                config: testConfig(scheduler: ["idle_poll_max_ms": 50]), stateDir: "control")
            func polls(_ daemon: DaemonProcess) throws -> Int {
                let text = try #require(try daemon.call("metrics.get")["text"]?.stringValue)
                let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("board_scheduler_polls_total ") })
                return try #require(Int(line.split(separator: " ")[1]))
            }
            let before = (try polls(backsOff), try polls(control))
            try await Task.sleep(for: .seconds(3))
            let idle = (try polls(backsOff) - before.0, try polls(control) - before.1)
            // Polling every 50 ms: ~60 rounds in 3 s; doubling from 50 ms: 6 or 7.
            #expect(idle.0 < 15, "backed off: \(idle.0) polls in 3 s")
            #expect(idle.1 > 2 * idle.0, "control: \(idle.1) polls in 3 s, backed off: \(idle.0)")
            let plan = try await sandbox.boardctl(socket: backsOff.socketPath, ["plan", "create", "after a quiet spell", "--wait", "--timeout", "60"])
            #expect(plan.status == 0, "\(plan)")
        }
    }

    /// After a burst of work, a daemon that has gone quiet gives memory back (SQLite's cache,
    /// glibc's free lists) and says so at debug level.
    @Test func aQuietDaemonGivesMemoryBack() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(extra: ["daemon": ["log_level": "debug"]]))
            let created = try daemon.call("plan.create", ["goal": "a burst of work", "agents": ["CFO", "CTO", "CMO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            _ = try await daemon.waitForPlanStatus(planID, "closed")
            func releases() -> [String] { daemon.log.split(separator: "\n").filter { $0.contains("memory_released") }.map(String.init) }
            let line = try await eventually("a memory_released log line once the daemon is quiet") { releases().first }
            #expect(line.contains("rss_kib_before"), "\(line)")
            #expect(line.contains("rss_kib_after"), "\(line)")
            #expect(try daemon.call("ping")["version"] != nil, "and it still answers")
            // Once for that stretch of work: a daemon left quiet does not keep releasing (the
            // test config polls every 50 ms, so a repeat would come within the next 2 s).
            try await Task.sleep(for: .seconds(3))
            #expect(releases().count == 1, "\(releases())")
        }
    }

    /// A task still running is work: no release while it runs, however quiet the socket.
    @Test func noMemoryIsGivenBackWhileATaskRuns() async throws {
        try await withSandbox { sandbox in
            let marker = sandbox.path("go")
            let agent = try sandbox.agentScript("waits.sh", """
                cat > /dev/null
                while [ ! -f '\(marker)' ]; do sleep 0.05; done
                echo '{"summary": "done waiting", "findings": [], "confidence": 0.8}'
                """)
            let daemon = try await sandbox.startDaemon(
                config: testConfig(agents: ["CFO": agent], extra: ["daemon": ["log_level": "debug"]]))
            let created = try daemon.call("plan.create", ["goal": "one long task", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created.taskIDsByAgent["CFO"])
            _ = try await daemon.waitForTaskState(taskID, "in_progress")
            try await Task.sleep(for: .seconds(3))  // past the 2 s quiet period
            #expect(!daemon.log.contains("memory_released"), "released while the task ran:\n\(daemon.log.suffix(2000))")
            #expect(FileManager.default.createFile(atPath: marker, contents: nil))
            _ = try await daemon.waitForPlanStatus(planID, "closed")
            _ = try await eventually("a memory_released log line once the task is done") {
                daemon.log.contains("memory_released") ? true : nil
            }
        }
    }

    @Test func aBackupIsAConsistentCopyAndNeverOverwrites() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let created = try daemon.call("plan.create", ["goal": "keep me", "agents": ["CFO"]])
            let planID = try #require(created["plan_id"]?.stringValue)
            let path = sandbox.path("backup.db")
            let backup = try await sandbox.boardctl(socket: daemon.socketPath, ["backup", path])
            #expect(backup.status == 0, "\(backup)")
            #expect(backup.stdout.contains("integrity check: ok"), "\(backup)")
            let again = try await sandbox.boardctl(socket: daemon.socketPath, ["backup", path])
            #expect(again.status == 1, "\(again)")
            #expect(again.stderr.contains("[conflict]"), "\(again)")
            // Restoring is putting the copy in place of board.db: a daemon opens it, the plan is there.
            try FileManager.default.createDirectory(atPath: sandbox.path("restored"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: sandbox.path("restored/board.db"))
            let restored = try await sandbox.startDaemon(config: testConfig(), stateDir: "restored")
            #expect(try restored.plan(planID)["goal"] == "keep me")
        }
    }

    @Test func connectionsPastTheLimitAreRefusedAndIdleOnesClosed() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(extra: ["control": ["max_connections": 3, "idle_timeout_s": 1]]))
            // The daemon's own readiness probes may still hold places for a moment: retry until served.
            var held: [RawConnection] = []
            for _ in 0..<3 {
                held.append(try await eventually("a connection to be served") { () -> RawConnection? in
                    let connection = try RawConnection(path: daemon.socketPath)
                    let reply = try? connection.request(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"# + "\n")
                    if reply?["result"] != nil { return connection }
                    connection.close()
                    return nil
                })
            }
            let extra = try RawConnection(path: daemon.socketPath)
            let refusal = try #require(try extra.readReply())
            #expect(refusal["error"]?["data"]?["reason"] == "unavailable", "\(refusal.serialized)")
            #expect(try extra.waitForClose())
            // Idle connections are closed, which frees their places.
            for connection in held { #expect(try connection.waitForClose(), "an idle connection is closed") }
            let fresh = try RawConnection(path: daemon.socketPath)
            #expect(try fresh.request(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"# + "\n")["result"]?["pong"] == true)
        }
    }
}
