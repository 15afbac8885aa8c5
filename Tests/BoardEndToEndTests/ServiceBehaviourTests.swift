import BoardCore
import BoardTestSupport
import Foundation
import Glibc
import Testing

/// Access control and configuration reloads, on the real daemon.
@Suite("access control and reload")
struct ServiceBehaviourTests {
    static let nobody: UInt32 = 65534

    /// boardctl run as uid/gid 65534 with no supplementary groups.
    func asNobody(_ sandbox: Sandbox, socket: String, _ arguments: [String]) async throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["BOARD_SOCKET"] = socket
        return try await runProcess(
            "/usr/bin/setpriv", ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", try Binaries.boardctl] + arguments,
            environment: environment, scratch: sandbox.root)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run boardctl as another user"))
    func otherUsersMayPingButNeitherChangeNorReadUnlessReadsAreOpened() async throws {
        try await withSandbox { sandbox in
            // A socket anyone can open, so that only the daemon's own check stands in the way.
            let config = testConfig(extra: [
                "daemon": ["socket_mode": "0666"], "control": ["access_group": "board-e2e-no-such-group"],
            ])
            let daemon = try await sandbox.startDaemon(config: config)
            chmod(sandbox.root, 0o711)
            chmod(daemon.stateDir, 0o711)
            let mine = try daemon.call("plan.create", ["goal": "root may", "agents": ["CFO"]])
            let planID = try #require(mine["plan_id"]?.stringValue)
            let created = try #require(try daemon.events(planID).first { $0["kind"] == "plan_created" })
            #expect(created["payload"]?["actor"] == "uid:0", "the audit trail records the caller")

            let ping = try await asNobody(sandbox, socket: daemon.socketPath, ["ping"])
            #expect(ping.status == 0, "\(ping)")
            let create = try await asNobody(sandbox, socket: daemon.socketPath, ["plan", "create", "nobody may not"])
            #expect(create.status == 1, "\(create)")
            #expect(create.stderr.contains("[forbidden]"), "\(create)")
            #expect(create.stderr.contains("uid 65534"), "\(create)")
            let list = try await asNobody(sandbox, socket: daemon.socketPath, ["plan", "list"])
            #expect(list.status == 1, "\(list)")
            #expect(list.stderr.contains("[forbidden]"), "\(list)")
            #expect(try daemon.call("plan.list")["plans"]?.arrayValue?.count == 1, "nothing was created")

            // Opening reads to anyone, by a reload: reads work, changes still do not.
            let opened = testConfig(extra: [
                "daemon": ["socket_mode": "0666"],
                "control": ["access_group": "board-e2e-no-such-group", "allow_reads_from_anyone": true],
            ])
            try Data(opened.serialized.utf8).write(to: URL(fileURLWithPath: try #require(daemon.configPath)))
            let reload = try daemon.call("config.reload")
            #expect(reload["applied"]?.arrayValue?.contains("control.allow_reads_from_anyone") == true, "\(reload.serialized)")
            let listed = try await asNobody(sandbox, socket: daemon.socketPath, ["plan", "list"])
            #expect(listed.status == 0, "\(listed)")
            #expect(listed.stdout.contains(planID))
            let cancel = try await asNobody(sandbox, socket: daemon.socketPath, ["plan", "cancel", planID])
            #expect(cancel.status == 1, "\(cancel)")
            let reloadByNobody = try await asNobody(sandbox, socket: daemon.socketPath, ["reload"])
            #expect(reloadByNobody.status == 1, "\(reloadByNobody)")
        }
    }

    @Test func reloadAppliesAValidFileAndRefusesABrokenOne() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(scheduler: ["concurrency": 2]))
            let configPath = try #require(daemon.configPath)
            #expect(try daemon.call("daemon.status")["concurrency"] == 2)

            // SIGHUP, the systemd way.
            try Data(testConfig(scheduler: ["concurrency": 5]).serialized.utf8).write(to: URL(fileURLWithPath: configPath))
            daemon.send(SIGHUP)
            _ = try await eventually("the SIGHUP reload to apply") {
                try daemon.call("daemon.status")["concurrency"] == 5 ? true : nil
            }

            // boardctl reload, the protocol way; a restart-only setting is reported, not applied.
            try Data(testConfig(scheduler: ["concurrency": 3], extra: ["store": ["synchronous": "normal"]]).serialized.utf8)
                .write(to: URL(fileURLWithPath: configPath))
            let reload = try await sandbox.boardctl(socket: daemon.socketPath, ["reload"])
            #expect(reload.status == 0, "\(reload)")
            #expect(reload.stdout.contains("scheduler.concurrency"), "\(reload)")
            #expect(reload.stdout.contains("needs a restart to take effect: store.synchronous"), "\(reload)")
            let status = try daemon.call("daemon.status")
            #expect(status["concurrency"] == 3)
            #expect(status["synchronous"] == "full")

            // A broken file is refused with its error; the running configuration stays.
            try Data(#"{"scheduler": {"concurency": 9}}"#.utf8).write(to: URL(fileURLWithPath: configPath))
            let refused = try await sandbox.boardctl(socket: daemon.socketPath, ["reload"])
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("scheduler.concurency is not a known setting"), "\(refused)")
            #expect(refused.stderr.contains("[invalid_config]"), "\(refused)")
            daemon.send(SIGHUP)
            #expect(try daemon.call("daemon.status")["concurrency"] == 3)
            let plan = try await sandbox.boardctl(socket: daemon.socketPath, ["plan", "create", "still working", "--wait", "--timeout", "60"])
            #expect(plan.status == 0, "\(plan)")
            #expect(daemon.isRunning)
        }
    }
}
