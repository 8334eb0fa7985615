/// The messages a server received on a WebSocket and the app has not taken yet: a bounded
/// buffer between the connection's event loop and the app's task.
///
/// The server hands over each whole message with ``deliver(_:)``; once `limit` messages wait,
/// it is told to stop reading from the client, and `onDemand` tells it (on any thread) when
/// the app has taken half of them. So a slow app holds at most `limit` messages, each no larger
/// than the app's `max_message`.
@_spi(BerthServer)
public final class WebSocketInbox: Sendable {
    private let messages: Handoff<WebSocketMessage>

    /// An empty inbox that asks the server to pause after `limit` waiting messages.
    public init(limit: Int = 16, onDemand: @escaping @Sendable () -> Void) {
        self.messages = Handoff(limit: limit, weight: { _ in 1 }, concurrentRead: WebSocketError.concurrentRead,
                                onDemand: onDemand)
    }

    /// Hands a message to the app. Returns false when the server should stop reading until
    /// `onDemand` is called. After ``finish()`` messages are dropped.
    public func deliver(_ message: WebSocketMessage) -> Bool {
        messages.offer(message)
    }

    /// The connection closed: the app's iteration ends after the messages already buffered.
    public func finish() {
        messages.finish()
    }

    func next() async throws -> WebSocketMessage? {
        try await messages.next()
    }
}
