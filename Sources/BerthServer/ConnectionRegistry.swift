import NIOCore
import Synchronization

/// The open connections of a server: enforces `max_connections` and lets a graceful stop
/// ask every connection to finish its current response and close.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        /// Connections that switched to WebSocket: a drain gives them `websocket_drain`.
        var longLived: Set<ObjectIdentifier> = []
        var quiescing = false
        /// Waiting for the last connection to close after `quiesce`.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    var count: Int { self.state.withLock { $0.channels.count } }

    /// False when the server is at its connection cap: the caller closes the new connection
    /// at once, which costs the client one failed attempt instead of leaving every connection
    /// starved. While stopping, a connection is still admitted: it was accepted before the
    /// listeners closed (it waited for its event loop), so it gets its request answered, with
    /// `Connection: close`, rather than a reset.
    func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let (admitted, quiescing) = self.state.withLock { state -> (Bool, Bool) in
            guard state.channels.count < self.maxConnections else { return (false, state.quiescing) }
            state.channels[id] = channel
            return (true, state.quiescing)
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                _ = state.channels.removeValue(forKey: id)
                state.longLived.remove(id)
                guard state.quiescing, state.channels.isEmpty else { return [] }
                defer { state.drainWaiters = [] }
                return state.drainWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        if quiescing {
            // Runs after the initializer that called `admit` has built the pipeline.
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        }
        return true
    }

    /// Tells every connection to close once its in-flight response is written
    /// (`HTTP1Connection`, through its guard, and the HTTP/2 handlers act on `ChannelShouldQuiesceEvent`).
    @discardableResult
    func quiesce() -> [Channel] {
        let channels = self.state.withLock { state -> [Channel] in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        return channels
    }

    /// Returns once no connection is left; call after `quiesce`.
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = self.state.withLock { state -> Bool in
                if state.channels.isEmpty { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Closes every connection now (the drain timeout expired); `keepingLongLived` spares
    /// WebSockets, whose bound is longer.
    func closeAll(keepingLongLived: Bool = false) {
        let channels = self.state.withLock { state in
            state.channels.filter { !keepingLongLived || !state.longLived.contains($0.key) }.map(\.value)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// `channel` switched to WebSocket.
    func markLongLived(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        self.state.withLock { state in
            if state.channels[id] != nil { state.longLived.insert(id) }
        }
    }

    var longLivedCount: Int { self.state.withLock { $0.longLived.count } }

    /// Asks every WebSocket to close (1001, going away): the drain bound passed.
    func sendGoingAway() {
        let channels = self.state.withLock { state in state.longLived.compactMap { state.channels[$0] } }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(WebSocketGoingAway())
        }
    }
}
