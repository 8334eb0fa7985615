/// The limits of an app's WebSocket connections (RFC 6455), the `websocket:` key of an app.
///
/// ```yaml
/// apps:
///   chat:
///     package: ../sites/chat
///     product: ChatApp
///     websocket:
///       max_message: 1MiB     # a larger message (all its fragments) closes with 1009
///       idle_timeout: 60s     # no frame either way for this long closes with 1001
/// ```
public struct WebSocketConfig: Sendable, Equatable, Codable {
    /// The largest message the server accepts from a client, fragments included.
    public var maxMessage: Int
    /// How long a connection may go without a frame in either direction.
    public var idleTimeout: Duration

    public init(maxMessage: Int = 1024 * 1024, idleTimeout: Duration = .seconds(60)) {
        self.maxMessage = maxMessage
        self.idleTimeout = idleTimeout
    }

    /// The largest `max_message` the frame decoder can take (its lengths are 32-bit).
    public static let maxMessageLimit = 1 << 30
}
