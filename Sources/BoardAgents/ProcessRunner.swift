import CLinuxProcess
import Glibc
import Synchronization

/// How a child process ended.
public enum ProcessTermination: Sendable, Equatable {
    /// The process called `exit` (or returned from `main`) with this status (0...255).
    case exited(Int32)
    /// The process was terminated by this signal number.
    case signaled(Int32)
}

/// What a finished child process produced.
public struct ProcessOutput: Sendable {
    /// How the process ended.
    public var termination: ProcessTermination
    /// Standard output, capped at the `stdoutLimit` passed to ``ProcessRunner/run(executable:arguments:environment:workingDirectory:stdin:stdoutLimit:stderrTailBytes:terminationGrace:)``.
    public var stdout: [UInt8]
    /// Whether the process wrote more than `stdoutLimit` bytes; the excess was read and discarded.
    public var stdoutTruncated: Bool
    /// The last `stderrTailBytes` bytes of standard error, decoded lossily as UTF-8.
    /// The cut may fall inside a multi-byte character, which then decodes as U+FFFD.
    public var stderrTail: String

    /// Creates an output value, e.g. for test doubles of a command backend.
    public init(termination: ProcessTermination, stdout: [UInt8], stdoutTruncated: Bool, stderrTail: String) {
        self.termination = termination
        self.stdout = stdout
        self.stdoutTruncated = stdoutTruncated
        self.stderrTail = stderrTail
    }
}

/// Why ``ProcessRunner`` could not start a process.
public enum ProcessRunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process could not be started; `reason` is the C library's description of the error
    /// (e.g. "No such file or directory").
    case launchFailed(executable: String, reason: String)

    public var description: String {
        switch self {
        case let .launchFailed(executable, reason):
            return "failed to launch \(executable): \(reason)"
        }
    }
}

/// Runs external executables directly (never through a shell) with bounded output capture.
public enum ProcessRunner {
    /// How a child's exit is noticed: a pidfd in the reactor's epoll set, or by polling
    /// (`waitid` with `WNOHANG` every 10 ms), which is what a child gets when the kernel refuses
    /// it a pidfd.
    enum ExitWatch: Sendable {
        case pidfd, poll
    }

    /// Tests of the polling path ask for it here; it is `.pidfd` otherwise.
    @TaskLocal static var exitWatch = ExitWatch.pidfd

    /// Runs `executable` to completion and returns its exit status and output.
    ///
    /// The child gets its own process group, pipes for its standard streams, and no other
    /// descriptors of this process. Signal dispositions and the signal mask are reset to defaults
    /// in the child. `stdin` is written in full (or until the child closes its end) and then closed.
    /// The call returns once the process has exited *and* both its stdout and stderr have reached
    /// end-of-file, so a background grandchild that keeps them open delays the return.
    ///
    /// If the calling task is cancelled while the process runs, the whole process group receives
    /// `SIGTERM`, then `SIGKILL` if the call has not finished after `terminationGrace`; the child is
    /// reaped and `CancellationError` is thrown. If the task is already cancelled, nothing is spawned.
    ///
    /// - Parameters:
    ///   - executable: An absolute path, or a bare name looked up in this process's `PATH`
    ///     (`posix_spawnp` semantics; `environment` does not affect the lookup). Also used as `argv[0]`.
    ///   - arguments: `argv[1...]`.
    ///   - environment: The child's complete environment; `nil` inherits this process's environment.
    ///   - workingDirectory: The child's working directory; `nil` inherits this process's.
    ///   - stdin: Bytes fed to the child's standard input.
    ///   - stdoutLimit: Maximum number of stdout bytes kept.
    ///   - stderrTailBytes: How many trailing bytes of stderr are kept.
    ///   - terminationGrace: How long after `SIGTERM` (on cancellation) before `SIGKILL`.
    /// - Throws: ``ProcessRunnerError/launchFailed(executable:reason:)`` if the process cannot be
    ///   started, or `CancellationError` if the task was cancelled before the child was reaped
    ///   (a cancellation arriving after that returns the completed output).
    ///
    /// If something else in this process reaps the child first (a `waitpid(-1, ...)` elsewhere),
    /// the real status is lost and is reported as `.exited(-1)`.
    public static func run(
        executable: String,
        arguments: [String],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        stdin: [UInt8],
        stdoutLimit: Int = 8 << 20,
        stderrTailBytes: Int = 4096,
        terminationGrace: Duration = .seconds(2)
    ) async throws -> ProcessOutput {
        let reactor: ChildReactor
        do {
            reactor = try ChildReactor.shared()
        } catch {
            throw launchError(executable, error.code)
        }
        let control = ChildControl()
        let limits = CaptureLimits(stdout: max(0, stdoutLimit), stderrTail: max(0, stderrTailBytes))
        return try await withTaskCancellationHandler {
            // Spawning is quick (glibc's posix_spawn returns once the child has exec'd), so it is
            // done inline; the child's pipes and its exit are then watched by the reactor's thread.
            let child = try control.spawnUnlessCancelled {
                try spawn(
                    executable: executable,
                    arguments: arguments,
                    environment: environment,
                    workingDirectory: workingDirectory,
                    exitWatch: Self.exitWatch
                )
            }
            let finished = try await withCheckedThrowingContinuation { continuation in
                reactor.watch(ChildIO(
                    executable: executable, child: child, control: control, input: stdin, limits: limits,
                    continuation: continuation
                ))
            }
            if finished.wasCancelled {
                throw CancellationError()
            }
            return ProcessOutput(
                termination: finished.termination,
                stdout: finished.captured.stdout,
                stdoutTruncated: finished.captured.stdoutTruncated,
                stderrTail: String(decoding: finished.captured.stderrTail, as: UTF8.self)
            )
        } onCancel: {
            control.cancel(grace: terminationGrace)
        }
    }
}

// MARK: - Child lifecycle

private struct SpawnedChild: Sendable {
    var pid: pid_t
    /// Parent ends of the child's standard streams, all non-blocking and close-on-exec.
    var stdinWrite: Int32
    var stdoutRead: Int32
    var stderrRead: Int32
    /// Readable once the child has exited (`pidfd_open`), close-on-exec; -1 where the kernel or
    /// a seccomp filter refuses pidfds (then the reactor polls for the exit instead).
    var exitFD: Int32
}

private struct CaptureLimits: Sendable {
    var stdout: Int
    var stderrTail: Int
}

private struct CapturedOutput: Sendable {
    var stdout: [UInt8] = []
    var stdoutTruncated = false
    var stderrTail: [UInt8] = []
}

private struct FinishedChild: Sendable {
    var captured: CapturedOutput
    var termination: ProcessTermination
    var wasCancelled: Bool
}

/// Coordinates spawning, signalling and reaping one child across the caller's task, the
/// cancellation handler (which runs synchronously on whichever thread cancels) and the reactor's thread.
/// A mutex rather than an actor: the cancellation handler and the I/O thread are synchronous and
/// must act at once (spawn-or-refuse, signal-while-unreaped), which an actor hop cannot guarantee.
///
/// Signals are only ever sent while the child is known to be unreaped: the reactor learns of the
/// exit from a pidfd, which leaves the zombie in place, and reaps under the lock, so the pid (and
/// with it the process-group id) cannot have been recycled for an unrelated process when `kill` runs.
private final class ChildControl: Sendable {
    private enum Phase {
        case notSpawned
        case cancelledBeforeSpawn
        case running(pid_t)
        case reaped
    }

    private struct State {
        var phase = Phase.notSpawned
        var signalsSent = false
        var escalation: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Holding the lock across the spawn closes the window in which a cancellation could slip
    /// between the "cancelled?" check and the child existing (and so never be delivered).
    func spawnUnlessCancelled(_ spawn: () throws -> SpawnedChild) throws -> SpawnedChild {
        try state.withLock { state in
            guard case .notSpawned = state.phase else { throw CancellationError() }
            let child = try spawn()
            state.phase = .running(child.pid)
            return child
        }
    }

    func cancel(grace: Duration) {
        state.withLock { state in
            switch state.phase {
            case .notSpawned:
                state.phase = .cancelledBeforeSpawn
            case .running(let pid):
                guard !state.signalsSent else { return }
                state.signalsSent = true
                Self.signalGroup(pid, SIGTERM)
                // Sleeping on a separate task keeps the synchronous cancellation handler short and
                // never blocks a thread for the grace period.
                state.escalation = Task.detached { [self] in
                    do { try await Task.sleep(for: grace) } catch { return }
                    self.escalate()
                }
            case .cancelledBeforeSpawn, .reaped:
                break
            }
        }
    }

    private func escalate() {
        state.withLock { state in
            // Also covers a leader that already exited while group members (e.g. an ignored-TERM
            // grandchild) still hold the pipes open: the leader is unreaped until the pipes close.
            if case .running(let pid) = state.phase {
                Self.signalGroup(pid, SIGKILL)
            }
        }
    }

    /// Reaps `pid` if it can be reaped now (`WNOHANG`); `nil` if not yet, e.g. while a tracer
    /// attached to the exited child still holds it, or a killed child is still dying. Never
    /// blocks: the reactor's thread serves every other child meanwhile.
    func tryReap(_ pid: pid_t) -> (ProcessTermination, wasCancelled: Bool)? {
        state.withLock { state in
            var status: Int32 = 0
            var reaped: pid_t
            repeat {
                reaped = waitpid(pid, &status, WNOHANG)
            } while reaped == -1 && errno == EINTR
            guard reaped != 0 else { return nil }
            return (Self.markReaped(reaped == pid ? Self.decode(status) : .exited(-1), &state), state.signalsSent)
        }
    }

    /// Whether `pid` has exited (or is no longer our child), without reaping it: the zombie
    /// keeps the pid reserved for ``cancel``'s signals until ``tryReap``.
    static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        var result: Int32
        repeat {
            result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        } while result == -1 && errno == EINTR
        // With WNOHANG and no exited child, waitid returns 0 and leaves si_signo 0.
        return result == -1 || info.si_signo == SIGCHLD
    }

    /// SIGKILL to the child's group, for a child that cannot be watched; it must still be reaped.
    func killGroup(_ pid: pid_t) {
        state.withLock { state in
            if case .running = state.phase {
                Self.signalGroup(pid, SIGKILL)
            }
        }
    }

    private static func markReaped(_ termination: ProcessTermination, _ state: inout State) -> ProcessTermination {
        state.phase = .reaped
        state.escalation?.cancel()
        state.escalation = nil
        return termination
    }

    private static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        // ESRCH for the group means the leader moved itself to another group (setsid/setpgid);
        // it is still our unreaped child, so signal it directly.
        if kill(-pid, signal) == -1, errno == ESRCH {
            _ = kill(pid, signal)
        }
    }

    /// `WIFEXITED`/`WTERMSIG` are C macros that Swift cannot import. Without `WUNTRACED`/
    /// `WCONTINUED`, the status is either "exited" (low 7 bits zero) or "killed by signal".
    private static func decode(_ status: Int32) -> ProcessTermination {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

// MARK: - I/O

/// One child as the reactor sees it: its pipes and pidfd (-1 once closed, or never opened), what
/// is left to feed it, what it has printed, and whom to answer when it is done.
private struct ChildIO: Sendable {
    var executable: String
    var pid: pid_t
    var control: ChildControl
    /// Indexed by ``Slot``.
    var fds: [Int32]
    /// Whether the child has exited (known from its pidfd, or by polling where it has none).
    var exited = false
    var input: [UInt8]
    var written = 0
    var limits: CaptureLimits
    var captured = CapturedOutput()
    var continuation: CheckedContinuation<FinishedChild, any Error>

    /// The low two bits of an epoll registration's data; the rest is the child's token.
    enum Slot: Int, CaseIterable {
        case stdin = 0, stdout, stderr, exit
    }

    init(
        executable: String, child: SpawnedChild, control: ChildControl, input: [UInt8], limits: CaptureLimits,
        continuation: CheckedContinuation<FinishedChild, any Error>
    ) {
        self.executable = executable
        self.pid = child.pid
        self.control = control
        self.fds = [child.stdinWrite, child.stdoutRead, child.stderrRead, child.exitFD]
        self.input = input
        self.limits = limits
        self.continuation = continuation
    }

    /// The process has exited and both of its output streams have reached end-of-file (so a
    /// background grandchild that keeps them open delays the end), and stdin is fed or refused.
    var isFinished: Bool { exited && fds.allSatisfy { $0 < 0 } }
}

/// The one thread that feeds and drains the pipes of every child process and notices each exit,
/// through an epoll set (level-triggered) holding the three pipes and a pidfd per child.
///
/// It replaced a thread per child, which made a hundred running commands a hundred threads. The
/// children's state is owned by the thread alone: ``watch(_:)`` hands a child over through a
/// locked inbox and wakes the thread with an eventfd, and the thread registers the child's
/// descriptors itself, so no event can arrive for a child it does not hold yet. Nothing on the
/// thread blocks: what might (reaping a child a tracer still holds after its exit, a killed
/// child still dying, the exit of a child without a pidfd) is looked at again every 10 ms
/// while there is any, with `WNOHANG`.
private final class ChildReactor: Sendable {
    /// Made on first use and kept for the life of the process. A failure to make it (e.g. out
    /// of descriptors) fails that run, and the next run tries again.
    static func shared() throws(SystemError) -> ChildReactor {
        try instance.withLock { (reactor: inout ChildReactor?) throws(SystemError) -> ChildReactor in
            if let reactor { return reactor }
            let made = try ChildReactor()
            reactor = made
            return made
        }
    }

    private static let instance = Mutex<ChildReactor?>(nil)
    private static let wakeToken: UInt64 = 0
    private let epollFD: Int32
    private let wakeFD: Int32
    /// Children handed over and not yet taken by the thread.
    private let inbox = Mutex<[ChildIO]>([])

    private init() throws(SystemError) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError(code: errno) }
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeToken
        let code: Int32
        if wakeFD < 0 {
            code = errno
        } else if epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) != 0 {
            code = errno
        } else {
            code = startThread(name: "board-child-io") { [self] in run() }
        }
        guard code == 0 else {
            if wakeFD >= 0 { close(wakeFD) }
            close(epollFD)
            throw SystemError(code: code)
        }
    }

    /// Hands `child` to the reactor's thread, which answers its continuation when it is done.
    func watch(_ child: ChildIO) {
        inbox.withLock { $0.append(child) }
        var one: UInt64 = 1
        // Cannot fail short of a bug: the counter would have to reach 2^64 - 1 first.
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
    }

    /// What only the reactor's thread touches.
    private struct Children {
        var watched: [UInt64: ChildIO] = [:]
        var nextToken: UInt64 = 1
        /// Children without a pidfd whose exit has not been seen yet.
        var polled: Set<UInt64> = []
        /// Exited children that could not be reaped yet, and whom to answer once they are.
        var unreaped: [(control: ChildControl, pid: pid_t, answer: @Sendable ((ProcessTermination, wasCancelled: Bool)) -> Void)] = []

        /// Milliseconds until the next look at the polled and unreaped children; -1: none.
        var pollTimeout: Int32 { polled.isEmpty && unreaped.isEmpty ? -1 : 10 }
    }

    private func run() {
        // Writing to a pipe whose reader is gone raises SIGPIPE, whose default action would kill
        // the whole daemon. Blocking it on this thread alone turns that into a plain EPIPE without
        // changing the process-wide disposition.
        var sigpipe = sigset_t()
        sigemptyset(&sigpipe)
        sigaddset(&sigpipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &sigpipe, nil)

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        var children = Children()
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let timeout = children.pollTimeout
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeout)
            }
            if count < 0 {
                // Only EINTR is possible with a valid epoll descriptor and buffer.
                guard errno == EINTR else { fatalError("ProcessRunner: epoll_wait failed: \(String(cString: strerror(errno)))") }
                continue
            }
            for event in events[0..<Int(count)] {
                let token = event.data.u64 >> 2
                if token == Self.wakeToken {
                    var counter: UInt64 = 0
                    _ = read(wakeFD, &counter, MemoryLayout<UInt64>.size)
                    for child in inbox.withLock({ inbox in defer { inbox = [] }; return inbox }) {
                        adopt(child, into: &children)
                    }
                    continue
                }
                // A child finished earlier in this batch may still have events in it: skipped.
                guard let slot = ChildIO.Slot(rawValue: Int(event.data.u64 & 3)),
                      var child = children.watched.removeValue(forKey: token) else { continue }
                // Taken out and put back, so its buffers are mutated in place, not copied.
                service(&child, slot, buffer)
                settle(child, token: token, in: &children)
            }
            if timeout >= 0 {
                pollExitsAndReaps(&children)
            }
        }
    }

    private func pollExitsAndReaps(_ children: inout Children) {
        for token in children.polled {
            guard let pid = children.watched[token]?.pid, ChildControl.hasExited(pid),
                  var child = children.watched.removeValue(forKey: token) else { continue }
            children.polled.remove(token)
            child.exited = true
            settle(child, token: token, in: &children)
        }
        children.unreaped.removeAll { entry in
            guard let result = entry.control.tryReap(entry.pid) else { return false }
            entry.answer(result)
            return true
        }
    }

    private func adopt(_ child: ChildIO, into children: inout Children) {
        var child = child
        let token = children.nextToken
        children.nextToken += 1
        if child.input.isEmpty {
            close(child.fds[ChildIO.Slot.stdin.rawValue])
            child.fds[ChildIO.Slot.stdin.rawValue] = -1
        }
        for slot in ChildIO.Slot.allCases where child.fds[slot.rawValue] >= 0 {
            var event = epoll_event()
            event.events = slot == .stdin ? EPOLLOUT.rawValue : EPOLLIN.rawValue
            event.data.u64 = token << 2 | UInt64(slot.rawValue)
            if epoll_ctl(epollFD, EPOLL_CTL_ADD, child.fds[slot.rawValue], &event) != 0 {
                // Out of kernel memory or over fs.epoll.max_user_watches: the child cannot be
                // watched, so it is not left running unobserved either.
                abandon(child, code: errno, in: &children)
                return
            }
        }
        if child.fds[ChildIO.Slot.exit.rawValue] < 0 {
            children.polled.insert(token)
        }
        children.watched[token] = child
    }

    /// Ends a child that cannot be watched: kills its group, and answers its run with a launch
    /// failure (or the cancellation, if that came first) once it is reaped.
    private func abandon(_ child: ChildIO, code: Int32, in children: inout Children) {
        var child = child
        for slot in ChildIO.Slot.allCases where child.fds[slot.rawValue] >= 0 {
            closeSlot(&child, slot)
        }
        child.control.killGroup(child.pid)
        let error = launchError(child.executable, code)
        reap(child, in: &children) { [continuation = child.continuation] result in
            continuation.resume(throwing: result.wasCancelled ? CancellationError() : error)
        }
    }

    private func settle(_ child: ChildIO, token: UInt64, in children: inout Children) {
        guard child.isFinished else {
            children.watched[token] = child
            return
        }
        var captured = child.captured
        // appendTail lets the buffer run ahead of the limit; cut it to exactly the promised tail.
        let excess = captured.stderrTail.count - child.limits.stderrTail
        if excess > 0 {
            captured.stderrTail.removeFirst(excess)
        }
        reap(child, in: &children) { [captured, continuation = child.continuation] result in
            continuation.resume(returning: FinishedChild(
                captured: captured, termination: result.0, wasCancelled: result.wasCancelled
            ))
        }
    }

    /// Reaps `child` now if it can be, else at the next polls (the reactor never waits for one).
    private func reap(
        _ child: ChildIO, in children: inout Children,
        then answer: @escaping @Sendable ((ProcessTermination, wasCancelled: Bool)) -> Void
    ) {
        if let result = child.control.tryReap(child.pid) {
            answer(result)
        } else {
            children.unreaped.append((child.control, child.pid, answer))
        }
    }

    private func service(_ child: inout ChildIO, _ slot: ChildIO.Slot, _ buffer: UnsafeMutableRawBufferPointer) {
        let fd = child.fds[slot.rawValue]
        guard fd >= 0 else { return }
        switch slot {
        case .exit:
            // The zombie stays until `settle` reaps it, so the pid cannot be reused meanwhile.
            closeSlot(&child, slot)
            child.exited = true
        case .stdin:
            while child.written < child.input.count {
                let result = child.input.withUnsafeBytes { bytes in
                    write(fd, bytes.baseAddress! + child.written, bytes.count - child.written)
                }
                if result >= 0 {
                    child.written += result
                } else if errno == EINTR {
                    continue
                } else {
                    // EAGAIN: the pipe is full, wait for the next event. Anything else (EPIPE: the
                    // child no longer reads stdin) makes the rest of the input moot.
                    if errno != EAGAIN { closeSlot(&child, slot) }
                    return
                }
            }
            closeSlot(&child, slot)
        case .stdout, .stderr:
            // A few reads at most, then back to epoll, so one chatty child cannot starve the rest.
            for _ in 0..<4 {
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                    if slot == .stdout {
                        appendCapped(chunk, to: &child.captured, limit: child.limits.stdout)
                    } else {
                        appendTail(chunk, to: &child.captured.stderrTail, keep: child.limits.stderrTail)
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    if count == 0 || errno != EAGAIN { closeSlot(&child, slot) }
                    return
                }
            }
        }
    }

    private func closeSlot(_ child: inout ChildIO, _ slot: ChildIO.Slot) {
        let fd = child.fds[slot.rawValue]
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        close(fd)
        child.fds[slot.rawValue] = -1
        if slot == .stdin { child.input = [] }
    }
}

/// Runs `body` on a new detached thread named `name` (at most 15 bytes); returns 0, or the error
/// of `pthread_create` (Foundation's `Thread` would not report one, and every run would hang).
private func startThread(name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
    final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { argument in
        let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
        _ = board_name_this_thread(start.name)
        start.body()
        return nil
    }, start)
    guard result == 0 else {
        Unmanaged<Start>.fromOpaque(start).release()
        return result
    }
    pthread_detach(thread)
    return 0
}

/// Keeps reading past the limit (discarding) so the child never blocks on a full stdout pipe.
private func appendCapped(_ chunk: UnsafeRawBufferPointer, to captured: inout CapturedOutput, limit: Int) {
    let room = max(0, limit - captured.stdout.count)
    if chunk.count > room {
        captured.stdoutTruncated = true
    }
    captured.stdout.append(contentsOf: chunk.prefix(room))
}

/// Bounded tail: the buffer may grow to twice `keep` before being trimmed, which makes trimming
/// amortised O(1) per byte instead of shifting the whole buffer on every read.
private func appendTail(_ chunk: UnsafeRawBufferPointer, to tail: inout [UInt8], keep: Int) {
    guard keep > 0 else { return }
    tail.append(contentsOf: chunk.suffix(keep))
    if tail.count > 2 * keep {
        tail.removeFirst(tail.count - keep)
    }
}

// MARK: - Spawning

/// glibc only declares these under `_GNU_SOURCE`, which Swift's Glibc module does not define, so
/// they are looked up at runtime; `nil` means the C library does not provide them.
private enum GNUExtensions {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let addChdir: AddChdir? = lookup("posix_spawn_file_actions_addchdir_np")
    static let addClosefrom: AddClosefrom? = lookup("posix_spawn_file_actions_addclosefrom_np")
    static let pipe2: Pipe2? = lookup("pipe2")

    private static func lookup<Function>(_ name: String) -> Function? {
        // A nil handle is RTLD_DEFAULT: search the global symbol scope (libc is always there).
        dlsym(nil, name).map { unsafeBitCast($0, to: Function.self) }
    }
}

private struct SystemError: Error {
    var code: Int32
}

private func launchError(_ executable: String, _ code: Int32) -> ProcessRunnerError {
    .launchFailed(executable: executable, reason: String(cString: strerror(code)))
}

/// A close-on-exec pipe whose ends are both >= 3, so the child's `dup2` onto 0/1/2 can never
/// clobber another pipe end (possible if this process runs with a standard stream closed).
private func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    // pipe2 creates both ends close-on-exec atomically, so a concurrent fork elsewhere in the
    // daemon cannot inherit them; pipe + fcntl is only a fallback with that small window.
    let created: Int32
    if let pipe2 = GNUExtensions.pipe2 {
        created = pipe2(&ends, O_CLOEXEC)
    } else {
        created = pipe(&ends)
        if created == 0 {
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
    }
    guard created == 0 else { throw SystemError(code: errno) }
    for index in ends.indices where ends[index] <= 2 {
        let moved = fcntl(ends[index], F_DUPFD_CLOEXEC, 3)
        let error = errno
        close(ends[index])
        ends[index] = moved
        guard moved >= 0 else {
            for fd in ends where fd >= 0 { close(fd) }
            throw SystemError(code: error)
        }
    }
    return (ends[0], ends[1])
}

private func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 {
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }
}

/// A NULL-terminated array of C strings for argv/envp; release with `freeCStringArray`.
private func cStringArray(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { strdup($0) } + [nil]
}

private func freeCStringArray(_ array: [UnsafeMutablePointer<CChar>?]) {
    for pointer in array { free(pointer) }
}

// Deliberately untyped `throws`: a typed-throws call inside `run`'s async operation closure
// crashes the Swift 6.3.1 optimizer (LLVM CoroSplit, signal 11) in -O builds.
private func spawn(
    executable: String,
    arguments: [String],
    environment: [String: String]?,
    workingDirectory: String?,
    exitWatch: ProcessRunner.ExitWatch
) throws -> SpawnedChild {
    var opened: [Int32] = []
    func closeOpened() { for fd in opened { close(fd) } }

    let stdinPipe: (read: Int32, write: Int32)
    let stdoutPipe: (read: Int32, write: Int32)
    let stderrPipe: (read: Int32, write: Int32)
    do {
        stdinPipe = try makePipe()
        opened += [stdinPipe.read, stdinPipe.write]
        stdoutPipe = try makePipe()
        opened += [stdoutPipe.read, stdoutPipe.write]
        stderrPipe = try makePipe()
        opened += [stderrPipe.read, stderrPipe.write]
    } catch {
        closeOpened()
        throw launchError(executable, error.code)
    }

    var actions = posix_spawn_file_actions_t()
    var attributes = posix_spawnattr_t()
    guard posix_spawn_file_actions_init(&actions) == 0 else {
        closeOpened()
        throw launchError(executable, errno)
    }
    defer { posix_spawn_file_actions_destroy(&actions) }
    guard posix_spawnattr_init(&attributes) == 0 else {
        closeOpened()
        throw launchError(executable, errno)
    }
    defer { posix_spawnattr_destroy(&attributes) }

    var setupError: Int32 = 0
    func check(_ result: Int32) {
        if setupError == 0 && result != 0 { setupError = result }
    }

    // dup2 clears close-on-exec on the target, so exactly these three reach the child.
    check(posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, 0))
    check(posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1))
    check(posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2))
    // Our own fds are close-on-exec, but libraries in the daemon may have opened some without it.
    if let addClosefrom = GNUExtensions.addClosefrom {
        check(addClosefrom(&actions, 3))
    }
    if let workingDirectory {
        guard let addChdir = GNUExtensions.addChdir else {
            closeOpened()
            throw ProcessRunnerError.launchFailed(
                executable: executable,
                reason: "setting a working directory requires posix_spawn_file_actions_addchdir_np (glibc 2.29+), which this C library lacks"
            )
        }
        check(addChdir(&actions, workingDirectory))
    }

    // Own process group so cancellation can signal the child and everything it started at once.
    // Reset the signal mask and dispositions: ignored signals survive exec, and the daemon's
    // (e.g. an ignored SIGPIPE) must not leak into tools that rely on the defaults.
    var emptySet = sigset_t()
    sigemptyset(&emptySet)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
    check(posix_spawnattr_setpgroup(&attributes, 0))
    check(posix_spawnattr_setsigmask(&attributes, &emptySet))
    check(posix_spawnattr_setsigdefault(&attributes, &allSignals))
    guard setupError == 0 else {
        closeOpened()
        throw launchError(executable, setupError)
    }

    let argv = cStringArray([executable] + arguments)
    defer { freeCStringArray(argv) }
    let envp = environment.map { cStringArray($0.map { "\($0.key)=\($0.value)" }) }
    defer { if let envp { freeCStringArray(envp) } }

    var pid: pid_t = 0
    let result: Int32
    if let envp {
        result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
    } else {
        result = posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
    }

    // The child has its own copies now (or never started); keeping our copies of its ends open
    // would stop us from ever seeing EOF on stdout/stderr.
    close(stdinPipe.read)
    close(stdoutPipe.write)
    close(stderrPipe.write)
    guard result == 0 else {
        close(stdinPipe.write)
        close(stdoutPipe.read)
        close(stderrPipe.read)
        throw launchError(executable, result)
    }

    // Without a pidfd (ENOSYS before Linux 5.3, EPERM under some seccomp filters, EMFILE) the
    // reactor has a thread wait for this child's exit instead; the child runs either way.
    let exitFD = exitWatch == .pidfd ? board_pidfd_open(pid) : -1

    setNonBlocking(stdinPipe.write)
    setNonBlocking(stdoutPipe.read)
    setNonBlocking(stderrPipe.read)
    return SpawnedChild(
        pid: pid, stdinWrite: stdinPipe.write, stdoutRead: stdoutPipe.read, stderrRead: stderrPipe.read, exitFD: exitFD
    )
}
