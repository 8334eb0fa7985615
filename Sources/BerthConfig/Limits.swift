internal import Yams

/// Request limits and timeouts: the top-level `limits:` mapping. They are on by default, since a
/// server exposed to the internet without them can be held open or exhausted by anyone.
///
/// ```yaml
/// limits:
///   header_bytes: 16KiB        # request line + headers; a size like 512, 64KB, 16KiB, 1MiB
///   header_count: 100          # header fields per request
///   uri_bytes: 8KiB            # request target length
///   body_bytes: 10MiB          # request body (0: no bodies accepted)
///   header_timeout: 10s        # to receive the whole head; a duration like 500ms, 10s, 2m, 1h
///   body_timeout: 30s          # between two reads of a body
///   idle_timeout: 60s          # keep-alive wait for the next request
///   max_connections: 10000     # open connections per worker
/// ```
public struct Limits: Sendable, Equatable {
    public var headerBytes = 16 * 1024
    public var headerCount = 100
    public var uriBytes = 8 * 1024
    public var bodyBytes = 10 * 1024 * 1024
    public var headerTimeout: Duration = .seconds(10)
    public var bodyTimeout: Duration = .seconds(30)
    public var idleTimeout: Duration = .seconds(60)
    public var maxConnections = 10_000

    public init() {}
}

extension ConfigReader {
    static let limitKeys = [
        "header_bytes", "header_count", "uri_bytes", "body_bytes",
        "header_timeout", "body_timeout", "idle_timeout", "max_connections",
    ]

    func readLimits(_ node: Node) -> Limits {
        var limits = Limits()
        guard let fields = fields(of: node, expected: "a mapping of limits", context: "in 'limits'",
                                  allowed: ConfigReader.limitKeys)
        else { return limits }
        for entry in fields.entries {
            let value = entry.value
            switch entry.key {
            case "header_bytes": limits.headerBytes = size(value, minimum: 1) ?? limits.headerBytes
            case "uri_bytes": limits.uriBytes = size(value, minimum: 1) ?? limits.uriBytes
            case "body_bytes": limits.bodyBytes = size(value, minimum: 0) ?? limits.bodyBytes
            case "header_count":
                limits.headerCount = integer(value, in: 1...Int.max) ?? limits.headerCount
            case "max_connections":
                limits.maxConnections = integer(value, in: 1...Int.max) ?? limits.maxConnections
            case "header_timeout": limits.headerTimeout = duration(value) ?? limits.headerTimeout
            case "body_timeout": limits.bodyTimeout = duration(value) ?? limits.bodyTimeout
            case "idle_timeout": limits.idleTimeout = duration(value) ?? limits.idleTimeout
            default: break
            }
        }
        return limits
    }
}
