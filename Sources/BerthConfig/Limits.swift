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
public struct Limits: Sendable, Equatable, Codable {
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
