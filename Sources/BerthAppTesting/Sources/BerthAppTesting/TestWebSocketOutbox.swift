import Foundation
@_spi(BerthServer) import BerthApp

/// Where a tested app's WebSocket sends go: a bounded queue the test receives from, in place of
/// the server's connection. Like the server, `send` returns while the queue has room and waits
/// while it is full; after a close it throws ``WebSocketError/closed``.
final class TestWebSocketOutbox: WebSocketTransport, @unchecked Sendable {
    /// Messages either side may leave untaken, as the server's inbox allows.
    static let limit = 16

    private let lock = NSLock()
    private var messages: [WebSocketMessage] = []
    private var code: WebSocketCloseCode?
    private var reason: String?
    private var receiver: CheckedContinuation<WebSocketMessage?, any Error>?
    private var senders: [CheckedContinuation<Void, any Error>] = []

    var closeCode: WebSocketCloseCode? { lock.withLock { code } }
    var closeReason: String? { lock.withLock { reason } }

    func send(_ message: WebSocketMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.lock()
            guard code == nil else {
                lock.unlock()
                return continuation.resume(throwing: WebSocketError.closed)
            }
            if let receiver {
                self.receiver = nil
                lock.unlock()
                receiver.resume(returning: message)
                return continuation.resume()
            }
            messages.append(message)
            guard messages.count >= Self.limit else {
                lock.unlock()
                return continuation.resume()
            }
            senders.append(continuation)
            lock.unlock()
        }
    }

    func close(code: WebSocketCloseCode, reason: String) async {
        ended(code: code, reason: reason)
    }

    /// The connection closes with `code` unless it closed already; waiting sends fail and a
    /// waiting receive ends once the messages sent before are taken.
    func ended(code: WebSocketCloseCode, reason: String) {
        lock.lock()
        guard self.code == nil else { return lock.unlock() }
        self.code = code
        self.reason = reason
        let senders = self.senders
        self.senders = []
        let receiver = messages.isEmpty ? self.receiver : nil
        if receiver != nil { self.receiver = nil }
        lock.unlock()
        for sender in senders { sender.resume(throwing: WebSocketError.closed) }
        receiver?.resume(returning: nil)
    }

    /// The next message, nil after the close; one receiver at a time, cancellable.
    func next() async throws -> WebSocketMessage? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                if !messages.isEmpty {
                    let message = messages.removeFirst()
                    let sender = messages.count < Self.limit && !senders.isEmpty ? senders.removeFirst() : nil
                    lock.unlock()
                    sender?.resume()
                    return continuation.resume(returning: message)
                }
                if code != nil || Task.isCancelled {
                    lock.unlock()
                    return continuation.resume(returning: nil)
                }
                receiver = continuation
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let receiver = self.receiver
            self.receiver = nil
            lock.unlock()
            receiver?.resume(throwing: CancellationError())
        }
    }
}
