/// One entry of a host's `paths:` mapping: a path prefix and what serves it.
///
/// ```yaml
/// paths:
///   /docs:                          # starts with '/'; matches /docs and /docs/..., not /docsx
///     static: ../sites/docs         # exactly one of static, redirect, app
///     # redirect: { to: "https://example.test/new", status: 308, keep_path: true }
///     # app: notes
///     headers: { Cache-Tag: docs }  # extra response headers; override the host's by name
///     errors: { 404: ../sites/docs/404.html }   # merged over the host's error pages
///     compress: { level: { gzip: 6 } }          # laid over the host's; see CompressionConfig
///     listing: true                 # static options, see StaticConfig
/// ```
/// A trailing slash is dropped (`/docs/` is `/docs`): prefixes match whole segments anyway.
public struct PathRouteConfig: Sendable, Equatable, Codable {
    /// Starts with "/"; no trailing slash except "/" itself, which matches every path.
    public var prefix: String
    public var handler: HandlerConfig
    /// The host's headers first, then the path's; a path header replaces a host header of the
    /// same name (compared case-insensitively).
    public var headers: [HeaderField]
    /// Status (400...599) -> absolute file path; the path's entries win over the host's.
    public var errorPages: [Int: String]
    /// `compress:`, the host's merged with the path's; nil: off. See CompressionConfig.
    public var compression: CompressionConfig?
    public var location: SourceLocation

    public init(prefix: String, handler: HandlerConfig, headers: [HeaderField] = [],
                errorPages: [Int: String] = [:], compression: CompressionConfig? = CompressionConfig(),
                location: SourceLocation) {
        self.prefix = prefix
        self.handler = handler
        self.headers = headers
        self.errorPages = errorPages
        self.compression = compression
        self.location = location
    }
}

/// A response header added by the config, with its name as written.
public struct HeaderField: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public enum HandlerConfig: Sendable, Equatable, Codable {
    case staticFiles(StaticConfig)
    case redirect(RedirectConfig)
    case app(AppRouteConfig)
}
