internal import Yams
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The account the workers run as: the top-level `user:` and `group:` keys.
///
/// ```yaml
/// user: www-data     # a user name or a numeric id. The master binds the listeners (ports
///                    # below 1024 need root), then each worker switches to this account
///                    # before it loads an app or reads a request. Needs berth started as root.
/// group: www-data    # a group name or numeric id; default: the user's primary group
/// ```
/// Both names are looked up when the file is read, so a typo is an error with its line.
public struct RunAsConfig: Sendable, Equatable {
    public var user: String
    public var uid: UInt32
    public var group: String
    public var gid: UInt32
    public var location: SourceLocation

    public init(user: String, uid: UInt32, group: String, gid: UInt32, location: SourceLocation) {
        self.user = user
        self.uid = uid
        self.group = group
        self.gid = gid
        self.location = location
    }
}

/// The top-level `admin:` mapping: a listener of its own for `/metrics` (Prometheus text
/// format) and `/health`, served by the master. Off unless given.
///
/// ```yaml
/// admin: { address: 127.0.0.1, port: 9090 }   # address: an IP address, default 127.0.0.1
/// ```
/// Keep it on loopback or a private address: it answers anyone who can reach it.
public struct AdminConfig: Sendable, Equatable {
    public var address: String
    /// 0 asks the kernel for a free port (tests).
    public var port: Int
    public var location: SourceLocation

    public init(address: String = "127.0.0.1", port: Int, location: SourceLocation) {
        self.address = address
        self.port = port
        self.location = location
    }

    /// `127.0.0.1:9090` or `[::1]:9090`.
    public var endpointDescription: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// Where the master writes its process id, for `berth reload` and `berth stop`.
///
/// ```yaml
/// pid_file: /run/berth.pid   # default: berth.pid next to the virtual-host file; off: none
/// ```
public enum PidFileSetting: Sendable, Equatable {
    /// `berth.pid` in the folder of the virtual-host file (the default).
    case nextToConfig
    /// An absolute path.
    case file(String)
    case off
}

extension ServerConfig {
    /// The pid file's absolute path, or nil when `pid_file: off`.
    public var pidFilePath: String? {
        switch pidFile {
        case .nextToConfig: return ConfigPath.folder(of: sourceFile) + "/berth.pid"
        case .file(let path): return path
        case .off: return nil
        }
    }
}

extension ConfigReader {
    static let adminKeys = ["address", "port"]

    /// `user:` and `group:`; either may be missing (`group:` alone changes the group only).
    func readRunAs(user: Node?, group: Node?) -> RunAsConfig? {
        var account: (name: String, uid: UInt32, gid: UInt32)?
        var valid = true
        if let user {
            if let name = scalar(user, expected: "a user name or id") {
                account = Account.user(name)
                if account == nil {
                    error("user '\(name)' does not exist; create it (useradd --system \(name)) or "
                          + "name an existing one, like 'nobody'", at: user)
                    valid = false
                }
            } else {
                valid = false
            }
        }
        var groupEntry: (name: String, gid: UInt32)?
        if let group {
            if let name = scalar(group, expected: "a group name or id") {
                groupEntry = Account.group(name)
                if groupEntry == nil {
                    error("group '\(name)' does not exist; create it (groupadd --system \(name)) or "
                          + "name an existing one, like 'nogroup'", at: group)
                    valid = false
                }
            } else {
                valid = false
            }
        }
        guard valid else { return nil }
        let at = location(user ?? group!)
        if let account {
            let group = groupEntry ?? (Account.groupName(account.gid) ?? String(account.gid), account.gid)
            return RunAsConfig(user: account.name, uid: account.uid, group: group.name, gid: group.gid, location: at)
        }
        // Only `group:`: the workers keep the user berth was started as.
        let uid = geteuid()
        return RunAsConfig(user: Account.userName(uid) ?? String(uid), uid: uid,
                           group: groupEntry!.name, gid: groupEntry!.gid, location: at)
    }

    func readPidFile(_ node: Node) -> PidFileSetting? {
        guard let text = string(node, expected: "'off' or the path of a pid file") else { return nil }
        if text == "off" { return .off }
        let path = ConfigPath.resolve(text, against: baseDirectory)
        let folder = ConfigPath.folder(of: path)
        guard ConfigPath.kind(of: folder) == .directory else {
            error("pid file folder '\(folder)' does not exist; create it or use 'pid_file: off'", at: node)
            return nil
        }
        if ConfigPath.kind(of: path) == .directory {
            error("pid file '\(path)' is a directory", at: node)
            return nil
        }
        return .file(path)
    }

    func readAdmin(_ node: Node, listeners: [ListenerConfig]) -> AdminConfig? {
        guard let fields = fields(of: node, expected: "a mapping like { address: 127.0.0.1, port: 9090 }",
                                  context: "in 'admin'", allowed: ConfigReader.adminKeys)
        else { return nil }
        var admin = AdminConfig(port: 0, location: location(node))
        guard let portNode = required("port", in: fields, context: "in 'admin'",
                                      expected: "a port number from 0 to 65535"),
              let port = integer(portNode, in: 0...65535)
        else { return nil }
        admin.port = port
        if let addressNode = fields["address"] {
            guard let text = scalar(addressNode, expected: "an IP address"), let address = IPAddress.canonical(text) else {
                if addressNode.scalar != nil, !ConfigReader.isNull(addressNode) {
                    error("expected an IP address such as 127.0.0.1 or ::1, found \(found(addressNode))", at: addressNode)
                }
                return nil
            }
            admin.address = address
        }
        // The admin socket is bound next to the listeners: the same clash rules apply.
        if port != 0 {
            let probe = ListenerConfig(address: admin.address, port: port, location: admin.location)
            for listener in listeners where listener.port == port && listener.isIPv6 == probe.isIPv6 {
                if listener.address == probe.address || listener.isWildcard || probe.isWildcard {
                    error("port clash: admin endpoint \(admin.endpointDescription) overlaps the listener at "
                          + "\(listener.location) (\(listener.endpointDescription)); pick another port", at: portNode)
                    return nil
                }
            }
        }
        return admin
    }
}

/// User and group lookups with the reentrant calls: configs may be read on several threads.
enum Account {
    static func user(_ nameOrID: String) -> (name: String, uid: UInt32, gid: UInt32)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let id = UInt32(nameOrID) {
            guard getpwuid_r(id, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        } else {
            guard getpwnam_r(nameOrID, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        }
        return (String(cString: entry.pw_name), entry.pw_uid, entry.pw_gid)
    }

    static func group(_ nameOrID: String) -> (name: String, gid: UInt32)? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let id = UInt32(nameOrID) {
            // A numeric group needs no entry in /etc/group: setgid takes any id.
            guard getgrgid_r(id, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return (nameOrID, id)
            }
        } else {
            guard getgrnam_r(nameOrID, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        }
        return (String(cString: entry.gr_name), entry.gr_gid)
    }

    static func userName(_ uid: UInt32) -> String? { user(String(uid))?.name }

    static func groupName(_ gid: UInt32) -> String? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.gr_name)
    }
}
