internal import Yams
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One socket the master binds: an item of the top-level `listen:` list.
///
/// ```yaml
/// listen:                             # required, at least one
///   - port: 8080                      # required, 0...65535 (0: the kernel picks one)
///     address: 0.0.0.0                # an IP address; default 0.0.0.0. "::", "::1", "[::1]" too
///     tls: false                      # HTTPS on this socket, certificates from the hosts (SNI)
///     http2: true                     # offer HTTP/2 (ALPN on TLS sockets)
///   - { port: 8443, tls: { min_version: "1.3" } }   # TLS settings: oldest version, 1.2 (default) or 1.3
/// ```
public struct ListenerConfig: Sendable, Equatable {
    /// The IP address in its canonical text form (`::1`, never `[::1]` or `0:0::1`).
    public var address: String
    /// 0 asks the kernel for an ephemeral port, which is what tests use.
    public var port: Int
    public var tls: Bool
    /// The oldest TLS version accepted on a `tls` listener.
    public var tlsMinimumVersion: TLSMinimumVersion
    public var http2: Bool
    public var location: SourceLocation

    public init(address: String = "0.0.0.0", port: Int, tls: Bool = false,
                tlsMinimumVersion: TLSMinimumVersion = .tls12, http2: Bool = true,
                location: SourceLocation) {
        self.address = address
        self.port = port
        self.tls = tls
        self.tlsMinimumVersion = tlsMinimumVersion
        self.http2 = http2
        self.location = location
    }

    /// `127.0.0.1:8080` or `[::1]:8080`, as the address would appear in a URL.
    public var endpointDescription: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    var isIPv6: Bool { address.contains(":") }
    var isWildcard: Bool { address == "0.0.0.0" || address == "::" }
}

extension ConfigReader {
    static let listenerKeys = ["address", "port", "tls", "http2"]

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

/// IP address literals, checked and put in canonical form by the C library so that `::1` and
/// `0:0:0:0:0:0:0:1` are recognised as the same address.
enum IPAddress {
    /// The canonical text of an IPv4 or IPv6 literal (IPv6 optionally in brackets), or nil.
    static func canonical(_ text: String) -> String? {
        var literal = Substring(text)
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        if let v4 = convert(String(literal), family: AF_INET) { return v4 }
        return convert(String(literal), family: AF_INET6)
    }

    static func isIPv4(_ text: String) -> Bool { convert(text, family: AF_INET) != nil }

    private static func convert(_ text: String, family: Int32) -> String? {
        var storage = in6_addr()
        guard inet_pton(family, text, &storage) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &storage, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
