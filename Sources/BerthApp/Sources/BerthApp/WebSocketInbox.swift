/// The messages a server received on a WebSocket and the app has not taken yet: a bounded
/// buffer between the connection's event loop and the app's task.
///
/// The server hands over each whole message with ``deliver(_:)``; once `limit` messages wait,
/// it is told to stop reading from the client, and `onDemand` tells it (on any thread) when
/// the app has taken half of them. So a slow app holds at most `limit` messages, each no larger
/// than the app's `max_message`.
@_spi(BerthServer)
public final class WebSocketInbox: @unchecked Sendable {
    private let lock = PlainLock()
    private let limit: Int
    private let onDemand: @Sendable () -> Void
    private var messages: [WebSocketMessage] = []
    private var head = 0
    private var finished = false
    private var producerStopped = false
    private var waiter: CheckedContinuation<WebSocketMessage?, any Error>?

    /// An empty inbox that asks the server to pause after `limit` waiting messages.
    public init(limit: Int = 16, onDemand: @escaping @Sendable () -> Void) {
        self.limit = max(1, limit)
        self.onDemand = onDemand
    }

    /// Hands a message to the app. Returns false when the server should stop reading until
    /// `onDemand` is called. After ``finish()`` messages are dropped.
    public func deliver(_ message: WebSocketMessage) -> Bool {
        lock.lock()
        if finished {
            lock.unlock()
            return true
        }
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: message)
            return true
        }
        messages.append(message)
        let stop = messages.count - head >= limit
        if stop { producerStopped = true }
        lock.unlock()
        return !stop
    }

    /// The connection closed: the app's iteration ends after the messages already buffered.
    public func finish() {
        lock.lock()
        guard !finished else { return lock.unlock() }
        finished = true
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: nil)
    }

    func next() async throws -> WebSocketMessage? {
        switch try take() {
        case .message(let message): return message
        case .end: return nil
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                // Something may have arrived between `take` and taking the lock.
                if waiter != nil {
                    lock.unlock()
                    continuation.resume(throwing: WebSocketError.concurrentRead)
                    return
                }
                if head < messages.count || finished || Task.isCancelled {
                    lock.unlock()
                    continuation.resume(with: Result {
                        if case .message(let message) = try take() { return message }
                        return nil
                    })
                    return
                }
                waiter = continuation
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let waiter = self.waiter
            self.waiter = nil
            lock.unlock()
            waiter?.resume(throwing: CancellationError())
        }
    }

    private enum Take {
        case message(WebSocketMessage)
        case end
        case wait
    }

    private func take() throws -> Take {
        lock.lock()
        if head < messages.count {
            let message = messages[head]
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            }
            // Resume at half the limit, so the server is not woken for every message.
            let resume = producerStopped && messages.count - head <= limit / 2
            if resume { producerStopped = false }
            lock.unlock()
            if resume { onDemand() }
            return .message(message)
        }
        if finished {
            lock.unlock()
            return .end
        }
        let cancelled = Task.isCancelled
        lock.unlock()
        if cancelled { throw CancellationError() }
        return .wait
    }
}
