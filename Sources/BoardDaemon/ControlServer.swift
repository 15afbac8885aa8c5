import BoardCore
import BoardProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The control socket: JSON-RPC 2.0, one object per line, on a Unix stream socket.
/// Each connection is served by its own child task, so a slow or silent client holds up nobody else.
final class ControlServer: Service {
    private let path: String
    private let mode: Int
    private let maxLineBytes: Int
    private let handler: RequestHandler
    private let logger: Logger
    private let channel: NIOAsyncChannel<NIOAsyncChannel<LineFrame, ByteBuffer>, Never>

    /// Binds the socket now, so that start-up fails early (socket in use, directory missing)
    /// and the daemon is reachable before it reports itself ready.
    init(path: String, mode: Int, maxLineBytes: Int, handler: RequestHandler, eventLoopGroup: any EventLoopGroup, logger: Logger)
        async throws
    {
        self.path = path
        self.mode = mode
        self.maxLineBytes = maxLineBytes
        self.handler = handler
        self.logger = logger
        try SocketPath.prepare(path)
        let limit = maxLineBytes
        do {
            channel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: limit)))
                        return try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: child)
                    }
                }
        } catch {
            throw BoardError(.unavailable, "cannot listen on \(path): \(error)")
        }
        if chmod(path, mode_t(mode)) != 0 {
            logger.warning("cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
    }

    func run() async throws {
        defer { unlink(path) }
        try await withThrowingDiscardingTaskGroup { group in
            try await channel.executeThenClose { connections in
                for try await connection in connections.cancelOnGracefulShutdown() {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<LineFrame, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound.cancelOnGracefulShutdown() {
                    switch frame {
                    case let .line(buffer):
                        guard buffer.readableBytes > 0 else { continue }
                        if let reply = await handler.handle(Data(buffer.readableBytesView)) {
                            try await outbound.write(ByteBuffer(bytes: reply))
                        }
                    case .tooLong:
                        let error = RPCError.tooLarge("request line exceeds \(maxLineBytes) bytes; closing the connection")
                        try await outbound.write(ByteBuffer(bytes: Wire.errorLine(id: .null, error: error)))
                        return
                    }
                }
            }
        } catch {
            // A client that vanished mid-reply is routine; nothing else depends on this connection.
            logger.debug("control connection ended: \(error)")
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
