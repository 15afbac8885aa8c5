import BoardCore
import CSystemd
import BoardProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The control socket: JSON-RPC 2.0, one object per line, on a Unix stream socket.
/// Each connection is served by its own child task, so a slow or silent client holds up nobody else.
final class ControlServer: Service {
    /// Where the listening socket comes from.
    enum Listener {
        /// Bind this path (a stale socket is removed first), set its mode; unlink it at exit.
        case path(String, mode: Int)
        /// A socket systemd bound and passed (socket activation); systemd owns the path.
        case inherited(Int32, path: String)
    }

    /// One accepted connection and who is on the other end.
    ///
    /// A class for its deinit: NIO traps when a connection's writer goes away unfinished, and a
    /// connection accepted while the daemon stops can be dropped by the listening socket's
    /// sequence before anyone serves it. One never served is closed properly instead.
    final class Connection: Sendable {
        let channel: NIOAsyncChannel<LineFrame, ByteBuffer>
        let peer: PeerCredentials?
        private let taken = Atomic(false)

        init(channel: NIOAsyncChannel<LineFrame, ByteBuffer>, peer: PeerCredentials?) {
            self.channel = channel
            self.peer = peer
        }

        /// Called by whoever serves (or refuses) the connection; from then on it closes it.
        func take() -> NIOAsyncChannel<LineFrame, ByteBuffer> {
            taken.store(true, ordering: .relaxed)
            return channel
        }

        deinit {
            guard !taken.load(ordering: .relaxed) else { return }
            let channel = channel
            Task { try? await channel.executeThenClose { _, _ in } }
        }
    }

    private let listener: Listener
    private let maxLineBytes: Int
    private let handler: RequestHandler
    private let logger: Logger
    private let channel: NIOAsyncChannel<Connection, Never>
    private let live: LiveConfiguration
    /// Connections being served; past `control.max_connections` new ones are refused.
    private let active = Atomic<Int>(0)

    /// Binds (or adopts) the socket now, so that start-up fails early (socket in use, directory
    /// missing) and the daemon is reachable before it reports itself ready.
    init(listener: Listener, maxLineBytes: Int, handler: RequestHandler, eventLoopGroup: any EventLoopGroup, logger: Logger)
        async throws
    {
        self.live = handler.live
        let live = handler.live
        self.listener = listener
        self.maxLineBytes = maxLineBytes
        self.handler = handler
        self.logger = logger
        let limit = maxLineBytes
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { child in
            Self.peerCredentials(of: child).flatMapThrowing { peer in
                let idle = live.configuration.idleTimeoutSeconds
                try child.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(idle)))
                try child.pipeline.syncOperations.addHandler(CloseWhenIdle())
                try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: limit)))
                return Connection(channel: try NIOAsyncChannel(wrappingChannelSynchronously: child), peer: peer)
            }
        }
        switch listener {
        case let .path(path, mode):
            try SocketPath.prepare(path)
            do {
                channel = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
            } catch {
                throw BoardError(.unavailable, "cannot listen on \(path): \(error)")
            }
            if chmod(path, mode_t(mode)) != 0 {
                logger.warning("cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
            }
        case let .inherited(fd, path):
            do {
                channel = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            } catch {
                throw BoardError(.unavailable, "cannot use the socket systemd passed for \(path): \(error)")
            }
        }
    }

    /// SO_PEERCRED: the kernel's word on the peer's pid, uid and gid at connect time.
    private static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
            .map { (credentials: board_peer_credentials) -> PeerCredentials? in
                PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
            }
            .recover { _ in nil }
    }

    func run() async throws {
        defer {
            if case let .path(path, _) = listener { unlink(path) }
        }
        let server = channel.channel
        try await withThrowingDiscardingTaskGroup { group in
            try await channel.executeThenClose { connections in
                // Shutting down closes the listening socket; the sequence then ends after the
                // connections already accepted. (Ending the loop itself, as cancelOnGracefulShutdown
                // does, dropped those: NIO traps on a connection's writer deinited unfinished, so a
                // client connecting just as the daemon stopped crashed it on its way out.)
                try await withGracefulShutdownHandler {
                    for try await connection in connections {
                        let limit = live.configuration.maxConnections
                        if active.wrappingAdd(1, ordering: .relaxed).newValue > limit {
                            active.wrappingSubtract(1, ordering: .relaxed)
                            group.addTask { await self.refuse(connection, limit: limit) }
                            continue
                        }
                        // The connection's task runs on its channel's event loop: reading a line, a
                        // request that needs no actor (ping, a store read's dispatch) and writing the
                        // reply then take no thread hand-offs (`ping` from one client: 114 → ~50 µs of
                        // daemon CPU per request). Anything that awaits an actor or the
                        // database still suspends and leaves the loop free meanwhile.
                        let executor = EventLoopTaskExecutor(connection.channel.channel.eventLoop)
                        group.addTask(executorPreference: executor) {
                            await self.serve(connection)
                            self.active.wrappingSubtract(1, ordering: .relaxed)
                        }
                    }
                } onGracefulShutdown: {
                    server.close(promise: nil)
                }
            }
        }
    }

    /// Past the connection limit: one clear error, then the connection is closed.
    private func refuse(_ connection: Connection, limit: Int) async {
        logger.warning("refused a control connection: \(limit) connections are open (control.max_connections)")
        let error = RPCError(BoardError(.unavailable, "too many connections to boardd (limit \(limit)); try again later"))
        try? await connection.take().executeThenClose { _, outbound in
            try await outbound.write(ByteBuffer(bytes: Wire.errorLine(id: .null, error: error)))
        }
    }

    private func serve(_ connection: Connection) async {
        do {
            let asyncChannel = connection.take()
            try await asyncChannel.executeThenClose { inbound, outbound in
                // Shutting down closes the connection's input: the request being answered still
                // gets its reply, then the loop ends. (`cancelOnGracefulShutdown()` would do the
                // same, but its merged sequence hands every line through a task of its own on the
                // global executor: two more thread wake-ups per request.)
                let channel = asyncChannel.channel
                let stopping = Atomic(false)
                try await withTaskCancellationOrGracefulShutdownHandler {
                    try await serveLines(inbound, outbound, connection: connection, stopping: stopping)
                } onCancelOrGracefulShutdown: {
                    stopping.store(true, ordering: .sequentiallyConsistent)
                    channel.close(mode: .input).whenFailure { _ in channel.close(promise: nil) }
                }
            }
        } catch {
            // A client that vanished mid-reply is routine; nothing else depends on this connection.
            logger.debug("control connection ended: \(error)")
        }
    }

    /// Requests up to this size are handled on their connection's event loop (no thread hand-off).
    static let inlineLineBytes = 64 * 1024

    private func serveLines(
        _ inbound: NIOAsyncChannelInboundStream<LineFrame>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        connection: Connection, stopping: borrowing Atomic<Bool>
    ) async throws {
        var membership: Bool?
        let policy = handler.live.snapshot.access
        for try await frame in inbound {
            switch frame {
            case let .line(buffer), let .unterminated(buffer):
                guard buffer.readableBytes > 0 else { continue }
                // Half a line cut off by our own shutdown is not a request; answering it with a
                // parse error would only confuse the client.
                if case .unterminated = frame, stopping.load(ordering: .sequentiallyConsistent) { return }
                let caller = RequestHandler.Caller(peer: connection.peer) {
                    if let membership { return membership }
                    let member = connection.peer.map(policy.isMember) ?? false
                    membership = member
                    return member
                }
                let line = Data(buffer.readableBytesView)
                let answer: RequestHandler.Answer
                if line.count > Self.inlineLineBytes {
                    // A big request (a plan with megabytes of context) takes milliseconds to parse and
                    // to copy into the reply; on the event loop that would hold up every other
                    // connection the loop serves. (A small request for a big reply, a `plan.get` of
                    // a plan with thousands of tasks, is still encoded on the loop.)
                    answer = await withTaskExecutorPreference(globalConcurrentExecutor) {
                        await handler.handle(line, caller: caller)
                    }
                } else {
                    answer = await handler.handle(line, caller: caller)
                }
                if let followUp = answer.followUp {
                    // Alongside the reply's write, which waits while the client does not read:
                    // the request's committed work must not wait for the client. Leaving this
                    // scope awaits it, also when the write fails because the client left.
                    async let followed: Void = followUp()
                    if let reply = answer.reply { try await outbound.write(ByteBuffer(bytes: reply)) }
                    await followed
                } else if let reply = answer.reply {
                    try await outbound.write(ByteBuffer(bytes: reply))
                }
            case .tooLong:
                let error = RPCError.tooLarge("request line exceeds \(maxLineBytes) bytes; closing the connection")
                try await outbound.write(ByteBuffer(bytes: Wire.errorLine(id: .null, error: error)))
                return
            }
        }
    }
}

/// Runs a task's jobs on a NIO event loop (swift-nio 2.101 makes event loops serial executors for
/// actors, not task executors for task preference).
final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// Closes a connection that has sent nothing for `control.idle_timeout_s` (IdleStateHandler's signal).
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Guards the socket path before binding: a live daemon is never displaced, a stale socket
/// from a crash is removed, and a file that is not a socket is left alone.
enum SocketPath {
    static func prepare(_ path: String) throws {
        guard path.utf8.count < 108 else {
            throw BoardError(.invalidConfig, "socket path \(path) is longer than a Unix socket path may be (107 bytes)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw BoardError(.invalidConfig, "socket directory \(directory) does not exist")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw BoardError(.invalidConfig, "\(path) exists and is not a socket; refusing to replace it")
        }
        if isLive(path) {
            throw BoardError(.unavailable, "another boardd is already listening on \(path)")
        }
        unlink(path)
    }

    /// True when something accepts connections on the socket.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
