import BerthConfig
import NIOCore

/// The limits of `limits:` in the form the connection handlers use them.
struct ConnectionLimits: Sendable {
    var headerBytes: Int
    var headerCount: Int
    var uriBytes: Int
    var bodyBytes: Int
    var headerTimeout: TimeAmount
    var bodyTimeout: TimeAmount
    var idleTimeout: TimeAmount
    var maxConnections: Int

    /// A request line may be this long: the target plus method and version.
    var maxRequestLineBytes: Int { self.uriBytes + 64 }
    /// A whole request head may be this long, request line and fields together.
    var maxHeadBytes: Int { self.uriBytes + self.headerBytes + 1024 }

    init(_ limits: Limits) {
        self.headerBytes = limits.headerBytes
        self.headerCount = limits.headerCount
        self.uriBytes = limits.uriBytes
        self.bodyBytes = limits.bodyBytes
        self.headerTimeout = TimeAmount(limits.headerTimeout)
        self.bodyTimeout = TimeAmount(limits.bodyTimeout)
        self.idleTimeout = TimeAmount(limits.idleTimeout)
        self.maxConnections = limits.maxConnections
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
