/// One WebSocket connection (RFC 6455), as an app sees it after the handshake.
///
/// ```swift
/// router.webSocket("/ws/echo") { request, socket in
///     for try await message in socket.messages {
///         try await socket.send(message)
///     }
/// }
/// ```
///
/// The server does the protocol: the handshake, masking, fragments (``messages`` yields whole
/// messages), UTF-8 checks of text, ping and pong, the close handshake, the size limit and the
/// idle timeout of the app's `websocket:` settings. When the handler returns, the server closes
/// the connection with 1000 (1011 when it threw).
///
/// Backpressure both ways: `send` waits while the client reads slower
/// than the app writes, and the server stops reading from the client while the app has a few
/// messages it has not taken yet.
public final class WebSocket: Sendable {
    /// The messages the client sends, in order; the sequence ends when the connection closes.
    public let messages: Messages
    private let transport: any WebSocketTransport

    @_spi(BerthServer)
    public init(transport: any WebSocketTransport, inbox: WebSocketInbox) {
        self.transport = transport
        self.messages = Messages(inbox: inbox)
    }

    /// Sends one message. Waits while the client is slow to read what was sent before; throws
    /// ``WebSocketError/closed`` once the connection is closing. Sends from several tasks are
    /// written whole, in the order they reach the server.
    public func send(_ message: WebSocketMessage) async throws {
        try await transport.send(message)
    }

    /// Sends a text message.
    public func send(_ text: String) async throws {
        try await transport.send(.text(text))
    }

    /// Sends a binary message.
    public func send(_ bytes: [UInt8]) async throws {
        try await transport.send(.binary(bytes))
    }

    /// Starts the close handshake (RFC 6455 §7.1.2): ``messages`` ends once the client answers
    /// (or after a few seconds without an answer). A reason longer than 123 bytes is shortened.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async {
        await transport.close(code: code, reason: reason)
    }

    /// The client's messages as an `AsyncSequence`, for one reader at a time.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = WebSocketMessage

        let inbox: WebSocketInbox

        /// Reads the messages in order.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let inbox: WebSocketInbox

            /// The next message, or nil once the connection closed. Throws `CancellationError`
            /// when the task is cancelled, and ``WebSocketError/concurrentRead`` while another
            /// task is waiting for a message of the same connection.
            public mutating func next() async throws -> WebSocketMessage? {
                try await inbox.next()
            }
        }

        /// Starts reading.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(inbox: inbox)
        }
    }
}

/// A whole WebSocket message: the server joins fragments and checks that text is UTF-8.
@frozen
public enum WebSocketMessage: Sendable, Equatable {
    /// A text message (opcode 1).
    case text(String)
    /// A binary message (opcode 2).
    case binary([UInt8])
}

/// A close status code (RFC 6455 §7.4).
public struct WebSocketCloseCode: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The number sent in the close frame.
    public let code: Int

    /// A code from its number. Apps may send 1000–1003, 1007–1014 and 3000–4999; any other
    /// number is sent as 1000.
    public init(_ code: Int) {
        self.code = code
    }

    /// A code from a literal, e.g. `4000`.
    public init(integerLiteral code: Int) {
        self.init(code)
    }

    /// `"1000"`.
    public var description: String { String(code) }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure = WebSocketCloseCode(1000)
    /// 1001: the server is going away (draining, idle timeout).
    public static let goingAway = WebSocketCloseCode(1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = WebSocketCloseCode(1002)
    /// 1003: a kind of message this endpoint cannot take.
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// 1007: a message's content is inconsistent with its type (text that is not UTF-8).
    public static let invalidPayload = WebSocketCloseCode(1007)
    /// 1008: a message violates the endpoint's policy.
    public static let policyViolation = WebSocketCloseCode(1008)
    /// 1009: a message too big to process.
    public static let messageTooBig = WebSocketCloseCode(1009)
    /// 1011: the server met an unexpected condition.
    public static let internalError = WebSocketCloseCode(1011)
}

/// Why a WebSocket operation failed.
public enum WebSocketError: Error, Sendable, Equatable {
    /// The connection is closing or closed: nothing more can be sent.
    case closed
    /// Another task is already waiting for the next message.
    case concurrentRead
}

/// The server's side of a ``WebSocket``: where sends and closes go.
@_spi(BerthServer)
public protocol WebSocketTransport: Sendable {
    /// Writes a message; returns once the connection can take more.
    func send(_ message: WebSocketMessage) async throws
    /// Starts the close handshake.
    func close(code: WebSocketCloseCode, reason: String) async
}

extension Response.Body {
    /// The body of a WebSocket route's answer: when the request is a valid handshake, the
    /// server switches protocols (101) and runs `handler` with the connection.
    public static func webSocket(_ handler: @escaping @Sendable (WebSocket) async throws -> Void) -> Response.Body {
        .upgrade(WebSocketUpgrade(handler: handler))
    }
}

/// What a WebSocket route hands the server: the app's code for the connection.
public struct WebSocketUpgrade: Sendable {
    @_spi(BerthServer)
    public let handler: @Sendable (WebSocket) async throws -> Void
}

extension Response {
    /// Accepts a WebSocket handshake: the server checks the request (RFC 6455 §4.2.1), answers
    /// 101 and runs `handler`; a request that is not a valid handshake gets 400 or 426 instead.
    /// Return it from a `GET` route after checking what the app needs (say, a session cookie).
    public static func webSocket(_ handler: @escaping @Sendable (WebSocket) async throws -> Void) -> Response {
        Response(body: .webSocket(handler))
    }
}
