@_spi(BerthServer) import BerthApp
import Synchronization

/// What the app's sends and the connection's event loop share, so that a send costs no round
/// trip to the loop while the client keeps up: the send queues its frame for the loop and
/// returns at once, and waits only while the connection is behind (the channel is over its
/// high-water mark, or more than `limit` bytes are queued for the loop), until the loop says
/// it caught up. Memory stays bounded by `limit` plus the channel's own high-water mark.
final class WebSocketOutbox: Sendable {
    /// Bytes of frames the app may have queued for the loop and not yet written.
    static let limit = 64 * 1024

    private struct State {
        var queuedBytes = 0
        var writable: Bool
        var closed = false
        var waiters: [CheckedContinuation<Void, any Error>] = []

        var isBehind: Bool { !self.writable || self.queuedBytes >= WebSocketOutbox.limit }
    }

    private let state: Mutex<State>

    init(writable: Bool) {
        self.state = Mutex(State(writable: writable))
    }

    // MARK: - The app's side

    /// Counts a message the app is about to queue; throws `WebSocketError.closed` once the
    /// connection is closing.
    func enqueue(_ bytes: Int) throws(WebSocketError) {
        let closed = self.state.withLock { state in
            if !state.closed { state.queuedBytes += bytes }
            return state.closed
        }
        if closed { throw .closed }
    }

    /// Returns at once while the connection keeps up; otherwise when it caught up, or throws
    /// `WebSocketError.closed` if it closes first.
    func waitUntilCaughtUp() async throws {
        guard self.state.withLock({ $0.isBehind || $0.closed }) else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, WebSocketError>? = self.state.withLock { state in
                if state.closed { return .failure(.closed) }
                if !state.isBehind { return .success(()) }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome.mapError { $0 as any Error }) }
        }
    }

    // MARK: - The loop's side

    /// `bytes` of queued frames reached the channel (or were dropped, the connection closing).
    func written(_ bytes: Int) {
        self.wake { $0.queuedBytes -= bytes }
    }

    func writabilityChanged(_ writable: Bool) {
        self.wake { $0.writable = writable }
    }

    /// The connection is closing: waiting and later sends throw `WebSocketError.closed`.
    func close() {
        let waiters = self.state.withLock { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: WebSocketError.closed) }
    }

    private func wake(after change: (inout State) -> Void) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            change(&state)
            guard !state.isBehind, !state.waiters.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
