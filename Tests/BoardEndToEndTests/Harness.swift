// End-to-end harness: drives the REAL `boardd` and `boardctl` executables through processes
// and the Unix control socket. Nothing here links the daemon in-process; BoardCore is used only
// for its `JSONValue` type to read replies.

import BoardCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import BoardTestSupport
#endif

// MARK: - Errors

/// A harness failure with a message meant for the person reading the test log.
struct HarnessError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Locating the binaries

/// Finds `boardd` and `boardctl`: `$BOARD_BIN_DIR` if set, else next to the test bundle
/// (`.build/debug/` or `.build/<triple>/debug/`), searching a few parent directories.
enum Binaries {
    static let directory: Result<String, HarnessError> = locate()

    static var boardd: String { get throws { try directory.get() + "/boardd" } }
    static var boardctl: String { get throws { try directory.get() + "/boardctl" } }

    private static func hasBoth(_ directory: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: directory + "/boardd")
            && FileManager.default.isExecutableFile(atPath: directory + "/boardctl")
    }

    private static func locate() -> Result<String, HarnessError> {
        if let override = ProcessInfo.processInfo.environment["BOARD_BIN_DIR"], !override.isEmpty {
            let directory = URL(fileURLWithPath: override).standardizedFileURL.path
            return hasBoth(directory)
                ? .success(directory)
                : .failure(HarnessError("BOARD_BIN_DIR=\(override) does not contain executable boardd and boardctl"))
        }
        let cwd = FileManager.default.currentDirectoryPath
        var starts: [URL] = []
        if let argv0 = CommandLine.arguments.first, !argv0.isEmpty {
            starts.append(URL(fileURLWithPath: argv0, relativeTo: URL(fileURLWithPath: cwd)).deletingLastPathComponent())
        }
        starts.append(Bundle.main.bundleURL)
        if let executable = Bundle.main.executableURL { starts.append(executable.deletingLastPathComponent()) }
        var searched: [String] = []
        for start in starts {
            var directory = start.standardizedFileURL.resolvingSymlinksInPath()
            for _ in 0..<4 {
                searched.append(directory.path)
                if hasBoth(directory.path) { return .success(directory.path) }
                directory = directory.deletingLastPathComponent()
            }
        }
        return .failure(HarnessError("""
            cannot find the boardd and boardctl executables next to the test bundle \
            (searched: \(searched.joined(separator: ", "))). Run `swift build` first, or set BOARD_BIN_DIR.
            """))
    }
}

// MARK: - Child processes

/// How a child process ended.
struct ProcessExit: Sendable, Equatable, CustomStringConvertible {
    var status: Int32
    var signaled: Bool

    static func exited(_ status: Int32) -> ProcessExit { ProcessExit(status: status, signaled: false) }
    static func killed(by signal: Int32) -> ProcessExit { ProcessExit(status: signal, signaled: true) }

    var description: String { signaled ? "killed by signal \(status)" : "exited with status \(status)" }
}

/// Set from Foundation's termination handler (another thread), read by polling.
final class ExitBox: Sendable {
    private let state = Mutex<ProcessExit?>(nil)
    func set(_ value: ProcessExit) { state.withLock { $0 = value } }
    var value: ProcessExit? { state.withLock { $0 } }
}

/// What a finished command printed.
struct CommandResult: Sendable, CustomStringConvertible {
    var exit: ProcessExit
    var stdout: String
    var stderr: String

    /// The exit status (a signal death is reported as 128 + signal, as a shell would).
    var status: Int32 { exit.signaled ? 128 + exit.status : exit.status }

    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    var description: String {
        "\(exit)\n--- stdout ---\n\(stdout.prefix(4000))\n--- stderr ---\n\(stderr.prefix(4000))"
    }

    /// Parses stdout as JSON.
    func json() throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(stdout.utf8))
        } catch {
            throw HarnessError("stdout is not JSON (\(error)):\n\(self)")
        }
    }
}

/// Polls for a child's exit without blocking a thread of the cooperative pool.
func waitForExit(_ box: ExitBox, pid: Int32, timeout: Duration, what: String) async throws -> ProcessExit {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let exit = box.value { return exit }
        if ContinuousClock.now >= deadline {
            throw HarnessError("\(what) (pid \(pid)) did not exit within \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

private func makeOutputFile(_ path: String) throws -> FileHandle {
    guard FileManager.default.createFile(atPath: path, contents: nil),
          let handle = FileHandle(forWritingAtPath: path)
    else { throw HarnessError("cannot create \(path)") }
    return handle
}

/// Runs an executable to completion. stdout and stderr go to files (not pipes), so a daemon that
/// happens to be spawned concurrently can never hold a pipe open and stall the read.
/// A process still running after `timeout` is killed and reported as a failure.
func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, scratch: String,
    timeout: Duration = .seconds(60)
) async throws -> CommandResult {
    let id = UUID().uuidString
    let outPath = scratch + "/.out-\(id)"
    let errPath = scratch + "/.err-\(id)"
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let out = try makeOutputFile(outPath)
    let err = try makeOutputFile(errPath)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    let box = ExitBox()
    process.terminationHandler = { finished in
        box.set(finished.terminationReason == .uncaughtSignal
            ? .killed(by: finished.terminationStatus) : .exited(finished.terminationStatus))
    }
    try process.run()
    let pid = process.processIdentifier
    try? out.close()
    try? err.close()
    let exit: ProcessExit
    do {
        exit = try await waitForExit(box, pid: pid, timeout: timeout, what: "\(executable) \(arguments.joined(separator: " "))")
    } catch {
        kill(pid, SIGKILL)
        throw error
    }
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return CommandResult(exit: exit, stdout: stdout, stderr: stderr)
}

/// True while `pid` exists (a zombie still counts: kill(pid, 0) succeeds on it).
func processExists(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    return kill(pid, 0) == 0 || errno == EPERM
}

/// The environment variable that tags every process a sandbox's daemons start.
let sandboxMarkerVariable = "BOARD_E2E_SANDBOX"

/// Processes whose environment carries `BOARD_E2E_SANDBOX=<marker>` (agents left behind by a daemon).
func processesMarked(with marker: String) -> [Int32] {
    let needle = Array("\(sandboxMarkerVariable)=\(marker)".utf8)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    let me = getpid()
    return names.compactMap(Int32.init).filter { pid in
        guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return data.split(separator: 0).contains { Array($0) == needle }
    }
}

// MARK: - JSON helpers

extension JSONValue {
    var intValue: Int64? {
        switch self {
        case let .int(value): value
        case let .double(value) where value == value.rounded(): Int64(value)
        default: nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case let .int(value): Double(value)
        case let .double(value): value
        default: nil
        }
    }

    var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    /// Compact JSON produced by Foundation's encoder (independent of board's own writer).
    var foundationJSON: String {
        get throws { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }
}

/// A JSON-RPC request line built with Foundation's encoder.
func requestLine(id: JSONValue?, method: String, params: JSONValue? = nil) throws -> String {
    var fields: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
    if let id { fields["id"] = id }
    if let params { fields["params"] = params }
    return try JSONValue.object(fields).foundationJSON + "\n"
}

/// The error object of a JSON-RPC error reply, or a failure when the reply was a success.
struct RPCFailure: Error, CustomStringConvertible, Sendable {
    var code: Int64
    var message: String
    var reason: String?
    var reply: JSONValue

    var description: String { "RPC error \(code) [\(reason ?? "-")]: \(message)" }
}

// MARK: - Configuration

/// A daemon configuration with short poll intervals and retry backoff, so tests run quickly.
/// `agents` maps a role to the argv of a command agent.
func testConfig(
    agents: [String: [String]] = [:], scheduler: [String: JSONValue] = [:], extra: [String: JSONValue] = [:]
) -> JSONValue {
    var schedulerFields: [String: JSONValue] = [
        "poll_interval_ms": 50, "retry_base_delay_ms": 10, "retry_max_delay_ms": 20, "shutdown_grace_s": 0,
    ]
    schedulerFields.merge(scheduler) { _, new in new }
    var root: [String: JSONValue] = ["scheduler": .object(schedulerFields)]
    if !agents.isEmpty {
        root["agents"] = .object(agents.mapValues { argv in
            ["backend": "command", "command": .array(argv.map(JSONValue.string))]
        })
    }
    root.merge(extra) { _, new in new }
    return .object(root)
}

// MARK: - Sandbox

/// A private temporary directory holding state dirs, configs and agent scripts, plus every daemon
/// started in it. `cleanup()` kills what is left and removes the directory.
final class Sandbox {
    let root: String
    private(set) var daemons: [DaemonProcess] = []

    init() throws {
        var template = Array("/tmp/board-e2e-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        root = String(cString: created)
    }

    func path(_ name: String) -> String { root + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Writes a `/bin/sh` script and returns the argv that runs it (the daemon never uses a shell itself).
    func agentScript(_ name: String, _ body: String) throws -> [String] {
        let path = try write(name, "#!/bin/sh\n" + body)
        return ["/bin/sh", path]
    }

    /// Reads a pid that an agent script wrote with `echo $$ > x.tmp && mv x.tmp x` (atomic).
    func readPID(_ name: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path(name), encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts boardd with `--state-dir <root>/<stateDir>` (and `--config` when given) and waits
    /// until it answers ping.
    func startDaemon(config: JSONValue? = nil, stateDir: String = "state") async throws -> DaemonProcess {
        var configPath: String?
        if let config {
            configPath = try write("config-\(daemons.count).json", try config.foundationJSON)
        }
        let daemon = try DaemonProcess.launch(
            stateDir: path(stateDir), configPath: configPath, logPath: path("boardd-\(daemons.count).log"), marker: root)
        daemons.append(daemon)
        try await daemon.waitUntilReady()
        return daemon
    }

    /// Runs boardd expecting it to exit on its own (refused configurations and the like).
    func runBoardd(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment[sandboxMarkerVariable] = root
        return try await runProcess(try Binaries.boardd, arguments, environment: environment, scratch: root, timeout: timeout)
    }

    /// Runs boardctl with BOARD_SOCKET set to `socket`.
    func boardctl(socket: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["BOARD_SOCKET"] = socket
        return try await runProcess(try Binaries.boardctl, arguments, environment: environment, scratch: root, timeout: timeout)
    }

    /// Stops every daemon still running, kills any agent one left behind, then removes the directory.
    func cleanup() async {
        // SIGTERM lets a daemon stop its agents itself (test configs use a zero shutdown grace);
        // SIGKILL if it does not exit in time.
        for daemon in daemons where daemon.isRunning {
            daemon.send(SIGTERM)
            if (try? await waitForExit(daemon.exitBox, pid: daemon.pid, timeout: .seconds(10), what: "boardd")) == nil {
                daemon.send(SIGKILL)
                _ = try? await waitForExit(daemon.exitBox, pid: daemon.pid, timeout: .seconds(10), what: "boardd")
            }
        }
        for pid in processesMarked(with: root) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The daemons' logs, for failure messages.
    var logs: String {
        daemons.enumerated().map { index, daemon in "--- boardd #\(index) stderr ---\n\(daemon.log.suffix(6000))" }
            .joined(separator: "\n")
    }
}

/// Runs `body` with a fresh sandbox and always cleans up, whether the body returns or throws.
/// On a thrown failure the daemons' logs are printed to help diagnose it.
func withSandbox(_ body: (Sandbox) async throws -> Void) async throws {
    let sandbox = try Sandbox()
    do {
        try await body(sandbox)
    } catch {
        print("[BoardEndToEndTests] failure: \(error)\n\(sandbox.logs)")
        await sandbox.cleanup()
        throw error
    }
    await sandbox.cleanup()
}

// MARK: - Daemon process

/// A running boardd started with `--state-dir`.
final class DaemonProcess {
    let stateDir: String
    let socketPath: String
    let logPath: String
    let configPath: String?
    let pid: Int32
    let exitBox: ExitBox
    private let process: Process

    private init(stateDir: String, configPath: String?, logPath: String, process: Process, exitBox: ExitBox) {
        self.stateDir = stateDir
        socketPath = stateDir + "/boardd.sock"
        self.logPath = logPath
        self.configPath = configPath
        self.process = process
        self.exitBox = exitBox
        pid = process.processIdentifier
    }

    /// `marker` is exported as `BOARD_E2E_SANDBOX`; command agents inherit it, so cleanup can find
    /// any agent a daemon left behind (SIGKILL does not reach their process groups).
    static func launch(stateDir: String, configPath: String?, logPath: String, marker: String) throws -> DaemonProcess {
        var arguments = ["--state-dir", stateDir]
        if let configPath { arguments += ["--config", configPath] }
        let log = try makeOutputFile(logPath)
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Binaries.boardd)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[sandboxMarkerVariable] = marker
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        let box = ExitBox()
        process.terminationHandler = { finished in
            box.set(finished.terminationReason == .uncaughtSignal
                ? .killed(by: finished.terminationStatus) : .exited(finished.terminationStatus))
        }
        try process.run()
        return DaemonProcess(stateDir: stateDir, configPath: configPath, logPath: logPath, process: process, exitBox: box)
    }

    var isRunning: Bool { exitBox.value == nil }
    var exit: ProcessExit? { exitBox.value }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Polls ping on the socket (bounded) until the daemon answers; fails early if it exits.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let exit = exitBox.value {
                throw HarnessError("boardd \(exit) before answering ping; stderr:\n\(log)")
            }
            if let connection = try? RawConnection(path: socketPath),
               let reply = try? connection.request(try requestLine(id: 1, method: "ping"), timeout: .seconds(5)),
               reply["result"]?["pong"] == .bool(true) {
                return
            }
            if ContinuousClock.now >= deadline {
                throw HarnessError("boardd did not answer ping on \(socketPath) within \(timeout); stderr:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// SIGTERM, then waits (bounded) for the exit.
    func stop(timeout: Duration = .seconds(30)) async throws -> ProcessExit {
        send(SIGTERM)
        return try await waitForExit(exitBox, pid: pid, timeout: timeout, what: "boardd after SIGTERM")
    }

    /// SIGKILL, then waits for the exit.
    func crash() async throws -> ProcessExit {
        send(SIGKILL)
        return try await waitForExit(exitBox, pid: pid, timeout: .seconds(30), what: "boardd after SIGKILL")
    }

    // MARK: Control socket

    /// One JSON-RPC call on a fresh connection; returns `result` or throws `RPCFailure`.
    @discardableResult
    func call(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let connection = try RawConnection(path: socketPath)
        let reply = try connection.request(try requestLine(id: 1, method: method, params: params))
        if let result = reply["result"] { return result }
        if let error = reply["error"] {
            throw RPCFailure(
                code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? "",
                reason: error["data"]?["reason"]?.stringValue, reply: reply)
        }
        throw HarnessError("reply has neither result nor error: \(reply.serialized.prefix(500))")
    }

    func plan(_ id: String) throws -> JSONValue { try call("plan.get", ["plan_id": .string(id)]) }
    func task(_ id: String) throws -> JSONValue { try call("task.get", ["task_id": .string(id)]) }

    /// The plan's events, oldest first (the daemon returns them newest first).
    func events(_ planID: String, task: String? = nil) throws -> [JSONValue] {
        var params: [String: JSONValue] = ["plan_id": .string(planID), "limit": 10_000]
        if let task { params["task_id"] = .string(task) }
        return (try call("events.list", .object(params))["events"]?.arrayValue ?? []).reversed()
    }

    func eventKinds(_ planID: String, task: String? = nil) throws -> [String] {
        try events(planID, task: task).compactMap { $0["kind"]?.stringValue }
    }

    func waitForPlanStatus(_ id: String, _ status: String, timeout: Duration = .seconds(30)) async throws -> JSONValue {
        var last = "?"
        do {
            return try await eventually("plan \(id) to be \(status)", timeout: timeout) { () -> JSONValue? in
                let plan = try self.plan(id)
                last = plan["status"]?.stringValue ?? "?"
                // Careful: JSONValue is ExpressibleByNilLiteral, so a bare `nil` in a ternary would be `.null`.
                return last == status ? Optional.some(plan) : Optional<JSONValue>.none
            }
        } catch {
            throw HarnessError("\(error) (last status: \(last))")
        }
    }

    func waitForTaskState(_ id: String, _ state: String, timeout: Duration = .seconds(30)) async throws -> JSONValue {
        var last = "?"
        do {
            return try await eventually("task \(id) to be \(state)", timeout: timeout) { () -> JSONValue? in
                let task = try self.task(id)
                last = task["state"]?.stringValue ?? "?"
                return last == state ? Optional.some(task) : Optional<JSONValue>.none
            }
        } catch {
            throw HarnessError("\(error) (last state: \(last))")
        }
    }
}

// MARK: - Raw socket client

/// A plain blocking Unix-socket client for protocol tests: sends arbitrary bytes, reads reply lines.
/// Every read is bounded by `poll`, so a silent daemon fails the test instead of hanging it.
final class RawConnection {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    /// Set once the peer closed (EOF or reset).
    private(set) var closedByPeer = false

    init(path: String) throws {
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw HarnessError("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(socketFD)
            throw HarnessError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(socketFD)
            throw HarnessError("connect(\(path)): \(reason)")
        }
        fd = socketFD
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw HarnessError("send(): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// The next line (without its newline), or nil when the daemon closed the connection.
    func readLineBytes(timeout: Duration = .seconds(30)) throws -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            if closedByPeer { return nil }
            let remaining = deadline - ContinuousClock.now
            let milliseconds = Int32(clamping: max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw HarnessError("poll(): \(String(cString: strerror(errno)))")
            }
            if ready == 0 { throw HarnessError("no reply line from boardd within \(timeout)") }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { closedByPeer = true; continue }
                throw HarnessError("recv(): \(String(cString: strerror(errno)))")
            }
            if count == 0 { closedByPeer = true; continue }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// The next reply line parsed as JSON, or nil at end of stream.
    func readReply(timeout: Duration = .seconds(30)) throws -> JSONValue? {
        guard let line = try readLineBytes(timeout: timeout) else { return nil }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(line))
        } catch {
            throw HarnessError("reply is not JSON: \(String(decoding: line.prefix(300), as: UTF8.self))")
        }
    }

    /// Sends one line and reads one reply.
    func request(_ line: String, timeout: Duration = .seconds(30)) throws -> JSONValue {
        try send(line)
        guard let reply = try readReply(timeout: timeout) else {
            throw HarnessError("boardd closed the connection instead of replying to \(line.prefix(200))")
        }
        return reply
    }

    /// True when the daemon has closed its end: a read returns end of stream (or a reset).
    func waitForClose(timeout: Duration = .seconds(30)) throws -> Bool {
        while let line = try readLineBytes(timeout: timeout) {
            Issue.record("unexpected extra line before close: \(String(decoding: line.prefix(300), as: UTF8.self))")
        }
        return closedByPeer
    }
}

// MARK: - Small helpers

/// The first `plan_…` / `task_…` identifier in a text.
func firstID(prefix: String, in text: String) -> String? {
    guard let range = text.range(of: "\(prefix)_[0-9a-z_-]+", options: .regularExpression) else { return nil }
    return String(text[range])
}

extension JSONValue {
    /// The `tasks` of a plan detail as (agent, task_id) pairs.
    var taskIDsByAgent: [String: String] {
        var result: [String: String] = [:]
        for task in self["tasks"]?.arrayValue ?? [] {
            if let agent = task["agent"]?.stringValue, let id = task["task_id"]?.stringValue { result[agent] = id }
        }
        return result
    }
}
