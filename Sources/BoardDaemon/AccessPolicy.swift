import BoardProtocol
import Glibc

/// Who is on the other end of a control connection (SO_PEERCRED).
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// Who may call what. The socket's file permissions (0660, group `board`) are the first gate;
/// this is the second, checked per call on the peer's kernel-reported credentials, so a socket
/// with looser permissions (or one passed by systemd) still cannot be used to change state.
struct AccessPolicy: Sendable, Equatable {
    var daemonUID: UInt32
    /// The group whose members may do everything; nil when the configured group does not exist.
    var groupID: UInt32?
    var groupName: String
    /// Read-only methods for anyone who can connect.
    var readsFromAnyone: Bool

    init(groupName: String, readsFromAnyone: Bool, daemonUID: UInt32 = getuid()) {
        self.groupName = groupName
        self.readsFromAnyone = readsFromAnyone
        self.daemonUID = daemonUID
        groupID = Self.lookupGroup(groupName)
    }

    /// nil when allowed; otherwise the refusal to send.
    func check(_ method: Method, peer: PeerCredentials?, membership: () -> Bool) -> RPCError? {
        if method == .ping { return nil }
        guard let peer else {
            return .forbidden("cannot identify the caller (no peer credentials); refusing \(method.rawValue)")
        }
        if peer.uid == 0 || peer.uid == daemonUID { return nil }
        if !method.isMutating, readsFromAnyone { return nil }
        if membership() { return nil }
        let needs = groupID == nil ? "root or the daemon's user" : "root, the daemon's user or a member of group \(groupName)"
        return .forbidden("uid \(peer.uid) may not call \(method.rawValue): it needs \(needs)")
    }

    /// Whether the peer's user belongs to the group: as its primary group, or in the group
    /// database (so `usermod -aG board alice` counts once alice reconnects).
    func isMember(_ peer: PeerCredentials) -> Bool {
        guard let groupID else { return false }
        if peer.gid == groupID { return true }
        var record = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwuid_r(peer.uid, &record, &buffer, buffer.count, &result) == 0, result != nil, let name = record.pw_name else {
            return false
        }
        var count: Int32 = 256
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, record.pw_gid, &groups, &count) == -1 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, record.pw_gid, &groups, &count) != -1 else { return false }
        }
        return groups.prefix(Int(count)).contains(groupID)
    }

    private static func lookupGroup(_ name: String) -> UInt32? {
        var record = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrnam_r(name, &record, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return record.gr_gid
    }
}
