import Foundation
@_spi(BerthServer) import BerthApp

/// The test's end of a WebSocket the app accepted (``AppTestClient/webSocket(_:headers:)``):
/// the app's handler runs in a task of its own, as in a worker, with a ``WebSocket`` whose
/// messages come from ``send(_:)`` and whose sends arrive at ``receive(within:)``.
///
/// Both directions are bounded like the server's: the app's `send` waits while 16 of its
/// messages are not received yet, and ``send(_:)`` waits while the app leaves 16 untaken. When
/// the handler returns, the connection closes with 1000 (1011 when it threw), as on the wire.
public final class TestWebSocket: Sendable {
    /// The pattern of the route that accepted the handshake (`"GET /ws/echo"`).
    public let route: String?

    private let inbox: WebSocketInbox
    private let outbox: TestWebSocketOutbox
    private let demand: InboxDemand
    private let handlerTask: Task<Void, Never>

    init(handler: @escaping @Sendable (WebSocket) async throws -> Void, route: String?) {
        self.route = route
        let demand = InboxDemand()
        let inbox = WebSocketInbox(limit: TestWebSocketOutbox.limit) { demand.resume() }
        let outbox = TestWebSocketOutbox()
        let socket = WebSocket(transport: outbox, inbox: inbox)
        self.demand = demand
        self.inbox = inbox
        self.outbox = outbox
        handlerTask = Task {
            do {
                try await handler(socket)
                outbox.ended(code: .normalClosure, reason: "")
            } catch {
                outbox.ended(code: .internalError, reason: "\(error)")
            }
            inbox.finish()
            demand.resume()
        }
    }

    /// Sends a message to the app. Throws ``WebSocketError/closed`` once the app closed the
    /// connection or its handler returned.
    public func send(_ message: WebSocketMessage) async throws {
        guard outbox.closeCode == nil else { throw WebSocketError.closed }
        if !inbox.deliver(message) { await demand.wait() }
    }

    /// Sends a text message to the app.
    public func send(_ text: String) async throws {
        try await send(.text(text))
    }

    /// The next message the app sent, or nil once it closed the connection and every message
    /// before the close was received. Throws ``TestWebSocketError/noMessage(within:)`` when
    /// nothing arrives in time, so a test waiting for a message that never comes fails instead
    /// of hanging.
    public func receive(within limit: Duration = .seconds(10)) async throws -> WebSocketMessage? {
        try await withThrowingTaskGroup(of: WebSocketMessage?.self) { group in
            group.addTask { try await self.outbox.next() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw TestWebSocketError.noMessage(within: limit)
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// The close code the app closed with (``WebSocketCloseCode/normalClosure`` when its
    /// handler returned, 1011 when it threw), nil while the connection is open.
    public var closeCode: WebSocketCloseCode? { outbox.closeCode }

    /// The close reason the app gave; for a handler that threw, the error.
    public var closeReason: String? { outbox.closeReason }

    /// Closes the connection from the test's side, as a client's close frame does: the app's
    /// `messages` end, its later sends throw ``WebSocketError/closed``, its task is cancelled
    /// (the server cancels it once the connection is gone), and this returns once the handler
    /// returned.
    public func close() async {
        outbox.ended(code: .normalClosure, reason: "")
        inbox.finish()
        handlerTask.cancel()
        await handlerTask.value
    }
}

/// Why a test's WebSocket call failed.
public enum TestWebSocketError: Error, Sendable, CustomStringConvertible {
    /// The app sent nothing, and did not close, within the time given.
    case noMessage(within: Duration)

    /// A sentence for test output.
    public var description: String {
        switch self {
        case .noMessage(let limit): return "the app sent no WebSocket message within \(limit)"
        }
    }
}

/// Wakes a test's `send` that waits for the app to take messages.
private final class InboxDemand: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var signalled = false

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if signalled {
                signalled = false
                lock.unlock()
                continuation.resume()
                return
            }
            waiters.append(continuation)
            lock.unlock()
        }
    }

    func resume() {
        lock.lock()
        let waiting = waiters
        waiters = []
        signalled = waiting.isEmpty
        lock.unlock()
        for waiter in waiting { waiter.resume() }
    }
}
