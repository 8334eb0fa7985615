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
///     unsent_bytes: 16KiB             # what a connection's socket may hold not yet sent; "off": the kernel's
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
    /// How many bytes a connection's socket may hold that TCP has not sent yet
    /// (`TCP_NOTSENT_LOWAT`); nil leaves the kernel's default, which lets a large response
    /// queue in the socket whole. Bounded, the rest of a file waits in the file and an app's
    /// stream in the app, and the socket is refilled as it sends. Less memory held per
    /// connection and a quicker reaction to a client that stops reading, and the sending is
    /// done as the server refills the socket, on its own thread, rather than when the client's
    /// acknowledgements arrive (on loopback: on the client's CPU, where a 1 MiB file sent
    /// whole cost the client three times the CPU). The bytes in flight are not limited: TCP's
    /// window governs those.
    public var unsentBytes: Int?
    public var location: SourceLocation

    /// The default `unsent_bytes`: what Cloudflare and Apple use for HTTP/2, a few records.
    public static let defaultUnsentBytes = 16 * 1024

    public init(address: String = "0.0.0.0", port: Int, tls: Bool = false,
                tlsMinimumVersion: TLSMinimumVersion = .tls12, http2: Bool = true,
                unsentBytes: Int? = ListenerConfig.defaultUnsentBytes, location: SourceLocation) {
        self.address = address
        self.port = port
        self.tls = tls
        self.tlsMinimumVersion = tlsMinimumVersion
        self.http2 = http2
        self.unsentBytes = unsentBytes
        self.location = location
    }

    /// `127.0.0.1:8080` or `[::1]:8080`, as the address would appear in a URL.
    public var endpointDescription: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    package var isIPv6: Bool { address.contains(":") }
    package var isWildcard: Bool { address == "0.0.0.0" || address == "::" }
}
