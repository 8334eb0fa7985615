internal import Yams
import BerthConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ConfigReader {
    static let listenerKeys = ["address", "port", "tls", "http2", "unsent_bytes"]

    func readListeners(_ node: Node) -> [ListenerConfig] {
        guard let items = sequence(node, expected: "a list of listeners") else { return [] }
        if items.isEmpty {
            error("expected at least one listener, like '- port: 8080'", at: node)
        }
        let listeners = items.compactMap(readListener)
        checkPortClashes(listeners)
        return listeners
    }

    private func readListener(_ node: Node) -> ListenerConfig? {
        guard let fields = fields(of: node, expected: "a listener like { port: 8080 }",
                                  context: "in listener", allowed: ConfigReader.listenerKeys)
        else { return nil }
        var listener = ListenerConfig(port: 0, location: location(node))
        var valid = true
        if let portNode = required("port", in: fields, context: "in listener",
                                   expected: "a port number from 0 to 65535") {
            if let port = integer(portNode, in: 0...65535) { listener.port = port } else { valid = false }
        } else {
            valid = false
        }
        if let addressNode = fields["address"] {
            if let text = scalar(addressNode, expected: "an IP address"),
               let address = IPAddress.canonical(text) {
                listener.address = address
            } else {
                if addressNode.scalar != nil, !ConfigReader.isNull(addressNode) {
                    error("expected an IP address such as 0.0.0.0, 127.0.0.1, :: or ::1, "
                          + "found \(found(addressNode))", at: addressNode)
                }
                valid = false
            }
        }
        if let tls = fields["tls"], !readListenerTLS(tls, into: &listener) { valid = false }
        if let http2 = fields["http2"] { listener.http2 = bool(http2) ?? true }
        if let unsent = fields["unsent_bytes"] {
            if unsent.scalar?.string == "off" {
                listener.unsentBytes = nil
            } else if let text = unsent.scalar?.string, let bytes = ByteSize.parse(text), bytes > 0 {
                listener.unsentBytes = bytes
            } else {
                error("expected a size like 16KiB, or off, found \(found(unsent))", at: unsent)
                valid = false
            }
        }
        return valid ? listener : nil
    }

    /// Two listeners on one port clash when their addresses are equal, or when one is the
    /// wildcard of the other's family: binding 0.0.0.0:8080 takes 127.0.0.1:8080 as well.
    /// `::` and `0.0.0.0` are allowed together; the server binds `::` as IPv6-only.
    private func checkPortClashes(_ listeners: [ListenerConfig]) {
        for (index, later) in listeners.enumerated() where later.port != 0 {
            for earlier in listeners[..<index] where earlier.port == later.port {
                guard earlier.isIPv6 == later.isIPv6 else { continue }
                let at = "the listener at \(earlier.location)"
                if earlier.address == later.address {
                    error("port clash: \(later.endpointDescription) is also bound by \(at)",
                          at: later.location)
                } else if earlier.isWildcard {
                    let family = earlier.isIPv6 ? "IPv6" : "IPv4"
                    error("port clash: \(later.endpointDescription) is also bound by \(at) "
                          + "(\(earlier.endpointDescription) covers every \(family) address)",
                          at: later.location)
                } else if later.isWildcard {
                    error("port clash: \(later.endpointDescription) covers "
                          + "\(earlier.endpointDescription), already bound by \(at)", at: later.location)
                } else {
                    continue
                }
                break
            }
        }
    }
}
