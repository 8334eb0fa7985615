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
public struct ListenerConfig: Sendable, Equatable, Codable {
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

    package var isIPv6: Bool { address.contains(":") }
    package var isWildcard: Bool { address == "0.0.0.0" || address == "::" }
}
