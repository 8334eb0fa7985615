/// One site: an entry of the top-level `hosts:` mapping, keyed by its host name.
///
/// ```yaml
/// hosts:
///   shop.test:                      # a DNS name, "*.shop.test", an IPv4 address or "[::1]"
///     default: true                 # answer for unknown host names; at most one host
///     aliases: [www.shop.test]      # more names for the same site (same rules)
///     access_log: logs/shop.log     # in addition to the global one: "-", stderr, off, a path
///     tls: { certificate: tls/shop.pem, key: tls/shop.key }   # see TLSConfig
///     # tls: auto                   # or: a certificate from the ACME CA (tls: internal: from a
///                                   # local root, for development); see ManagedTLSConfig.
///     # tls: { certificate: auto, redirect_http: true, hsts: true }   # the same, with options
///     headers: { X-Frame-Options: DENY }            # inherited by every path
///     errors: { 404: ../sites/shop/404.html }       # inherited by every path; 400...599
///     compress: { level: { br: 5 } }               # inherited by every path; see CompressionConfig
///     index: [index.html]           # static options, inherited by the static paths
///     paths:                        # see PathRouteConfig
///       /: { static: ../sites/shop/public }
///       /api: { app: shop }
///   # Shorthands for a host with a single path "/":
///   docs.test: { static: ../sites/docs }
///   "*.old.test": { redirect: "https://shop.test" }
///   api.test: { app: shop }
/// ```
/// A host has exactly one of `paths`, `static`, `redirect` and `app`.
public struct VirtualHostConfig: Sendable, Equatable, Codable {
    /// Lowercased. `*.example.test` matches any sub-domain, but not `example.test` itself.
    public var name: String
    /// Lowercased, same rules as `name`.
    public var aliases: [String]
    public var isDefault: Bool
    /// nil: requests go to the global access log only.
    public var accessLog: LogDestination?
    /// Longest prefix first, so the first match is the right one.
    public var routes: [PathRouteConfig]
    public var tls: TLSConfig?
    /// `tls: auto` or `internal`: the certificate is obtained and renewed by Berth, not read from files.
    /// Exclusive with `tls`.
    public var managedTLS: ManagedTLSConfig? = nil
    public var location: SourceLocation

    public init(name: String, aliases: [String] = [], isDefault: Bool = false,
                accessLog: LogDestination? = nil, routes: [PathRouteConfig], tls: TLSConfig? = nil,
                location: SourceLocation) {
        self.name = name
        self.aliases = aliases
        self.isDefault = isDefault
        self.accessLog = accessLog
        self.routes = routes
        self.tls = tls
        self.location = location
    }
}
