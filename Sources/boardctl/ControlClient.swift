import BoardCore
import BoardProtocol
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Why boardctl stopped; each has its own documented exit status.
enum ClientFailure: Error {
    /// The daemon answered with an error.
    case rejected(RPCError)
    case unreachable(String)
    case protocolError(String)
}

/// A blocking JSON-RPC client over the Unix socket. boardctl sends one request at a time, so
/// plain blocking I/O keeps it small and quick to start.
final class ControlClient {
    let path: String
    private var fd: Int32 = -1
    private var nextID = 1
    private var buffer: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    private func connectIfNeeded() throws(ClientFailure) {
        guard fd < 0 else { return }
        guard path.utf8.count < 108 else { throw .unreachable("cannot connect to boardd at \(path): the path is too long") }
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw .unreachable("cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
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
            close(socketFD)
            throw .unreachable("cannot connect to boardd at \(path): \(reason)")
        }
        fd = socketFD
    }

    /// Sends one request and returns its result.
    func call(_ method: Method, _ params: JSONValue? = nil) throws(ClientFailure) -> JSONValue {
        try connectIfNeeded()
        let id = nextID
        nextID += 1
        let line = Wire.requestLine(id: id, method: method, params: params)
        let bytes = [UInt8](line)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .unreachable("lost the connection to boardd at \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        let reply = try readLine()
        let response: Wire.Response
        do {
            response = try Wire.decodeResponse(reply)
        } catch {
            throw .protocolError("boardd sent a reply that is not JSON-RPC (\(error)): \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
        switch response.outcome {
        case let .success(result): return result
        case let .failure(error): throw .rejected(error)
        }
    }

    private func readLine() throws(ClientFailure) -> Data {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreachable("lost the connection to boardd at \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw .unreachable("boardd at \(path) closed the connection") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
