import CSystemd
import Glibc

/// Socket activation: a listening socket systemd passed us (`boardd.socket`, FileDescriptorName=control).
enum SocketActivation {
    /// `SD_LISTEN_FDS_START` (a C macro, not imported).
    private static let firstDescriptor: Int32 = 3

    /// The passed control socket, or nil when boardd was not socket-activated.
    /// Clears `LISTEN_*` from the environment so agents' processes never see them.
    static func controlSocket() throws(BoardErrorBox) -> Int32? {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                for index in 0..<Int(max(count, 0)) { free(names[index]) }
                free(names)
            }
        }
        guard count > 0 else { return nil }
        var chosen: Int32?
        for index in 0..<count {
            let fd = firstDescriptor + index
            // Agents must not inherit the listening socket.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let name = names?[Int(index)].map { String(cString: $0) }
            if name == "control" || (count == 1 && chosen == nil) { chosen = fd }
        }
        guard let fd = chosen else {
            throw BoardErrorBox("systemd passed \(count) sockets but none named \"control\" (FileDescriptorName=control)")
        }
        guard sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
            throw BoardErrorBox("the socket systemd passed (fd \(fd)) is not a listening Unix stream socket")
        }
        return fd
    }
}

/// A start-up failure of socket activation, turned into an `unavailable` error by the caller.
struct BoardErrorBox: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
