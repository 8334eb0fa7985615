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
public struct RunAsConfig: Sendable, Equatable, Codable {
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
public struct AdminConfig: Sendable, Equatable, Codable {
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
public enum PidFileSetting: Sendable, Equatable, Codable {
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
