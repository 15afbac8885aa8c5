import Foundation
import Glibc
import Testing
@testable import BoardAgents

// Backstop only: the cancellation tests carry their own watchdog (see cancelRunningScript), because
// a time-limited test cannot abandon a hung unstructured task.
@Suite("ProcessRunner", .timeLimit(.minutes(1)))
struct ProcessRunnerTests {
    // A child's exit is noticed from its pidfd, or (where the kernel refuses pidfds) by polling:
    // the tests that depend on when the exit is seen run both ways.
    static let exitWatches: [ProcessRunner.ExitWatch] = [.pidfd, .poll]

    @Test(arguments: exitWatches) func echoesStdinThroughCat(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        // Larger than a pipe buffer in both directions, so it only passes if stdin is written while
        // stdout is drained.
        let input = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let output = try await ProcessRunner.$exitWatch.withValue(exitWatch) {
            try await ProcessRunner.run(executable: "/bin/cat", arguments: [], stdin: input)
        }
        #expect(output.termination == .exited(0))
        #expect(output.stdout == input)
        #expect(!output.stdoutTruncated)
    }

    @Test func resolvesBareNameViaPATH() async throws {
        let output = try await ProcessRunner.run(executable: "echo", arguments: ["hi", "there"], stdin: [])
        #expect(output.stdout == Array("hi there\n".utf8))
    }

    @Test(arguments: exitWatches) func reportsExitCode(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        let output = try await ProcessRunner.$exitWatch.withValue(exitWatch) {
            try await ProcessRunner.run(executable: "/bin/sh", arguments: ["-c", "exit 3"], stdin: [])
        }
        #expect(output.termination == .exited(3))
    }

    @Test(arguments: exitWatches) func reportsTerminatingSignal(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        let output = try await ProcessRunner.$exitWatch.withValue(exitWatch) {
            try await ProcessRunner.run(executable: "/bin/sh", arguments: ["-c", "kill -KILL $$"], stdin: [])
        }
        #expect(output.termination == .signaled(SIGKILL))
    }

    @Test func keepsOnlyTheTailOfStderr() async throws {
        let output = try await ProcessRunner.run(
            executable: "/bin/sh",
            arguments: ["-c", "head -c 100000 /dev/zero | tr '\\0' a >&2; printf END >&2"],
            stdin: [],
            stderrTailBytes: 10
        )
        #expect(output.termination == .exited(0))
        #expect(output.stderrTail == "aaaaaaaEND")
        #expect(output.stdout.isEmpty)
    }

    @Test func nonexistentExecutableFailsToLaunch() async {
        await #expect(throws: ProcessRunnerError.launchFailed(
            executable: "/nonexistent/boardd-test-tool",
            reason: "No such file or directory"
        )) {
            try await ProcessRunner.run(executable: "/nonexistent/boardd-test-tool", arguments: [], stdin: [])
        }
    }

    @Test func nonexistentWorkingDirectoryFailsToLaunch() async {
        await #expect(throws: ProcessRunnerError.self) {
            try await ProcessRunner.run(
                executable: "/bin/pwd", arguments: [], workingDirectory: "/nonexistent/boardd-test-dir", stdin: []
            )
        }
    }

    @Test func capsStdoutAndKeepsDraining() async throws {
        let output = try await ProcessRunner.run(
            executable: "/usr/bin/head", arguments: ["-c", "100000", "/dev/zero"], stdin: [], stdoutLimit: 1000
        )
        // exited(0) shows the child was not blocked or killed by a full pipe after the cap.
        #expect(output.termination == .exited(0))
        #expect(output.stdout.count == 1000)
        #expect(output.stdoutTruncated)
    }

    @Test func passesEnvironmentAndWorkingDirectory() async throws {
        let output = try await ProcessRunner.run(
            executable: "/bin/sh",
            arguments: ["-c", "printf '%s|' \"$BOARD_TEST\"; pwd"],
            environment: ["BOARD_TEST": "a b"],
            workingDirectory: "/",
            stdin: []
        )
        #expect(String(decoding: output.stdout, as: UTF8.self) == "a b|/\n")
    }

    @Test(arguments: exitWatches) func survivesChildThatIgnoresStdin(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        // The child exits without reading; writing the rest must end in EPIPE, not a daemon-killing SIGPIPE.
        let output = try await ProcessRunner.$exitWatch.withValue(exitWatch) {
            try await ProcessRunner.run(executable: "/bin/true", arguments: [], stdin: [UInt8](repeating: 7, count: 4 << 20))
        }
        #expect(output.termination == .exited(0))
    }

    @Test func doesNotSpawnWhenAlreadyCancelled() async throws {
        let marker = temporaryPath("marker")
        defer { unlink(marker) }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await ProcessRunner.run(executable: "/usr/bin/touch", arguments: [marker], stdin: [])
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(access(marker, F_OK) != 0)
    }

    @Test(arguments: exitWatches) func cancellationTerminatesTheChild(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        let pid = try await cancelRunningScript(
            "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; exec sleep 300",
            grace: .seconds(2), exitWatch: exitWatch
        )
        expectGone(pid)
    }

    @Test func cancellationEscalatesToSIGKILLAfterGrace() async throws {
        // TERM is ignored by the shell and (inherited) by every sleep, so only SIGKILL can end this.
        let pid = try await cancelRunningScript(
            "trap '' TERM; echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; while :; do sleep 1; done",
            grace: .milliseconds(300), exitWatch: .pidfd
        )
        expectGone(pid)
    }

    @Test(arguments: exitWatches) func cancellationReachesGrandchildrenHoldingThePipes(_ exitWatch: ProcessRunner.ExitWatch) async throws {
        // The shell dies on TERM but its TERM-ignoring child keeps stdout open; returning needs the
        // group-wide SIGKILL.
        let pid = try await cancelRunningScript(
            "(trap '' TERM; while :; do sleep 1; done) & echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; wait",
            grace: .milliseconds(300), exitWatch: exitWatch
        )
        expectGone(pid)
    }

    @Test func manyChildrenAtOnceEachGetTheirOwnStreams() async throws {
        // All pipes are served by one thread; each child's stdin must reach only its own stdout,
        // and each input is larger than a pipe buffer, so the children block on it in turn.
        let outputs = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in 0..<16 {
                group.addTask {
                    let input = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
                    let output = try await ProcessRunner.run(executable: "/bin/cat", arguments: [], stdin: input)
                    #expect(output.termination == .exited(0))
                    return (index, output.stdout)
                }
            }
            return try await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        #expect(outputs.count == 16)
        for (index, stdout) in outputs {
            #expect(stdout == (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }, "child \(index)")
        }
    }

    /// An exited child that cannot be reaped yet (a tracer holds it) must not hold up the others:
    /// they share one I/O thread. Tracing a process that is not one's child needs CAP_SYS_PTRACE
    /// (and Yama's ptrace_scope below 3), hence the condition; CI runs as root.
    @Test(.enabled(if: canTraceOtherProcesses() && access("/usr/bin/python3", X_OK) == 0))
    func aChildHeldByATracerDoesNotHoldUpTheOthers() async throws {
        let pidFile = temporaryPath("traced")
        defer { for suffix in ["", ".tmp", ".go", ".release"] { unlink(pidFile + suffix) } }
        // The wait for the go file is a busy loop of shell builtins: a signal (a SIGCHLD from a
        // `sleep`) would put the traced child in a signal-delivery stop that only its tracer ends.
        let traced = Task {
            try await ProcessRunner.run(
                executable: "/bin/sh",
                arguments: ["-c", "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; while [ ! -e \"$0.go\" ]; do :; done; exit 7", pidFile],
                stdin: [])
        }
        let pid = try #require(await readPid(from: pidFile), "the traced child never wrote its pid")
        // PTRACE_SEIZE (0x4206), then the go file, then hold the child (never wait for it) until
        // the release file appears (30 s at most, so that a failing test still ends).
        let tracer = Task {
            try await ProcessRunner.run(
                executable: "/usr/bin/python3",
                arguments: ["-c", """
                    import ctypes, os, sys, time
                    libc = ctypes.CDLL(None, use_errno=True)
                    seized = libc.ptrace(0x4206, int(sys.argv[1]), 0, 0) == 0
                    open(sys.argv[2], "w").close()
                    if not seized: sys.exit("PTRACE_SEIZE: errno %d" % ctypes.get_errno())
                    deadline = time.monotonic() + 30
                    while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline: time.sleep(0.01)
                    """, String(pid), pidFile + ".go", pidFile + ".release"],
                stdin: [])
        }
        // Until the child is a zombie: exited, and held by the tracer (or gone: not traced).
        var state = "?"
        for _ in 0..<2_000 where state != "Z" && !state.isEmpty {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last.map { String($0.dropFirst().prefix(1)) } ?? ""
            if state != "Z" { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(state == "Z", "the traced child never became a held zombie (state \(state))")
        if state != "Z" {
            // Whatever went wrong, let both ends finish so that awaiting them cannot hang.
            close(open(pidFile + ".go", O_CREAT | O_WRONLY, 0o644))
        }
        let other = try await ProcessRunner.run(executable: "/bin/echo", arguments: ["other"], stdin: [])
        #expect(other.stdout == Array("other\n".utf8))
        // The other run is done while the traced one still waits for its tracer.
        #expect(access("/proc/\(pid)", F_OK) == 0, "the traced child was reaped before the other run ended")
        close(open(pidFile + ".release", O_CREAT | O_WRONLY, 0o644))
        let tracerOutput = try await tracer.value
        #expect(tracerOutput.termination == .exited(0), "\(tracerOutput.stderrTail)")
        #expect(try await traced.value.termination == .exited(7))
    }

    @Test func runningChildrenDoNotTakeAThreadEach() async throws {
        let children = 64
        let pidFiles = (0..<children).map { temporaryPath("pid\($0)") }
        defer { for file in pidFiles { unlink(file); unlink(file + ".tmp") } }
        let threadsBefore = try threadCount()
        let tasks = pidFiles.map { pidFile in
            Task {
                try await ProcessRunner.run(
                    executable: "/bin/sh",
                    arguments: ["-c", "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; exec sleep 300", pidFile],
                    stdin: []
                )
            }
        }
        var pids: [pid_t] = []
        for file in pidFiles {
            if let pid = await readPid(from: file) { pids.append(pid) }
        }
        let threadsDuring = try threadCount()
        for task in tasks { task.cancel() }
        for task in tasks {
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        #expect(pids.count == children)
        // Other suites run in parallel and start threads of their own meanwhile (up to 13 seen);
        // a thread per child would be 64 more.
        #expect(threadsDuring - threadsBefore < children / 2, "\(threadsBefore) threads before, \(threadsDuring) with \(children) children")
        for pid in pids { expectGone(pid) }
    }
}

// MARK: - Helpers

/// Whether this process may trace processes that are not its children: CAP_SYS_PTRACE (bit 19
/// of CapEff) and no Yama scope 3 ("no attach").
private func canTraceOtherProcesses() -> Bool {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
          let capabilities = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    else { return false }
    let yama = (try? String(contentsOfFile: "/proc/sys/kernel/yama/ptrace_scope", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return capabilities & (1 << 19) != 0 && yama != "3"
}

/// The number of threads of this process, from /proc/self/status.
private func threadCount() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Threads:") })
    return try #require(Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)))
}

private func temporaryPath(_ label: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("boardd-\(label)-\(UUID().uuidString)").path
}

/// Runs `script` under `/bin/sh` with a pid-file path as `$0`; the script must write its pid there
/// atomically once it is ready. Cancels the run, expects `CancellationError`, and returns the pid.
private func cancelRunningScript(
    _ script: String, grace: Duration, exitWatch: ProcessRunner.ExitWatch
) async throws -> pid_t {
    let pidFile = temporaryPath("pid")
    defer {
        unlink(pidFile)
        unlink(pidFile + ".tmp")
    }
    let task = Task {
        try await ProcessRunner.$exitWatch.withValue(exitWatch) {
            try await ProcessRunner.run(
                executable: "/bin/sh", arguments: ["-c", script, pidFile], stdin: [], terminationGrace: grace
            )
        }
    }
    let pid = await readPid(from: pidFile)
    task.cancel()
    // A generous watchdog rather than a timing assertion: if the runner fails to end the child,
    // awaiting it would hang the whole test run (a cancelled test cannot abandon an unstructured
    // task), so record the failure and SIGKILL the group ourselves to let the run return.
    let returned = await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            await #expect(throws: CancellationError.self) { try await task.value }
            return true
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(30))
            return false
        }
        let first = await group.next() ?? false
        if !first, let pid {
            kill(-pid, SIGKILL)
        }
        group.cancelAll()
        return first
    }
    #expect(returned, "the run did not return within 30 s of cancellation")
    return try #require(pid, "the script never wrote its pid")
}

private func readPid(from path: String) async -> pid_t? {
    for _ in 0..<2_000 {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return pid
        }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return nil
}

/// The runner reaps before returning, so the pid must no longer exist (not even as a zombie).
private func expectGone(_ pid: pid_t, sourceLocation: SourceLocation = #_sourceLocation) {
    let result = kill(pid, 0)
    let error = errno
    #expect(result == -1 && error == ESRCH, "process \(pid) still exists", sourceLocation: sourceLocation)
}
