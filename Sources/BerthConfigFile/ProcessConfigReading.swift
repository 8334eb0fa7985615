internal import Yams
import BerthConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
