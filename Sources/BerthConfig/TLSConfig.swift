/// A host's certificate and key, and how the host treats plain HTTP: the `tls:` key of a host.
/// The server picks the certificate by SNI (RFC 6066 §3) on listeners marked `tls`.
///
/// ```yaml
/// tls:
///   certificate: tls/shop.pem    # PEM chain, leaf first; must cover the host's names and aliases
///   key: tls/shop.key            # PEM private key (unencrypted) matching the certificate
///   redirect_http: true          # plain-HTTP requests get 308 to the same URL on https; default false
///   hsts: true                   # Strict-Transport-Security on HTTPS responses; default off.
///                                # true is "max-age=31536000"; or the header value itself,
///                                # e.g. "max-age=63072000; includeSubDomains; preload"
/// ```
public struct TLSConfig: Sendable, Equatable, Codable {
    /// Absolute path of the PEM certificate chain.
    public var certificate: String
    /// Absolute path of the PEM private key.
    public var key: String
    /// Requests that arrive on a plain listener are answered with 308 Permanent Redirect to
    /// `https://` (RFC 9110 §15.4.9 keeps the method and body).
    public var redirectHTTP: Bool
    /// The `Strict-Transport-Security` value (RFC 6797 §6.1) for responses sent over TLS; nil: none.
    public var hsts: String?
    public var location: SourceLocation

    /// What `hsts: true` means: one year, the value browsers' preload lists ask for at least.
    public static let defaultHSTS = "max-age=31536000"

    public init(certificate: String, key: String, redirectHTTP: Bool = false, hsts: String? = nil,
                location: SourceLocation) {
        self.certificate = certificate
        self.key = key
        self.redirectHTTP = redirectHTTP
        self.hsts = hsts
        self.location = location
    }
}

/// The oldest TLS version a listener accepts. TLS 1.0 and 1.1 are deprecated (RFC 8996) and
/// never offered.
public enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable, Codable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}
