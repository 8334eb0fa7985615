import NIOCore
import Synchronization

/// The open connections of a server: enforces `max_connections` and lets a graceful stop
/// ask every connection to finish its current response and close.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var quiescing = false
    }

    private let state = Mutex(State())
    let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    var count: Int { self.state.withLock { $0.channels.count } }

    /// False when the server is at its connection cap or stopping: the caller closes the
    /// new connection at once, which costs the client one failed attempt instead of leaving
    /// every connection starved.
    func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = self.state.withLock { state -> Bool in
            guard !state.quiescing, state.channels.count < self.maxConnections else { return false }
            state.channels[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                self.state.withLock { _ = $0.channels.removeValue(forKey: id) }
            }
        }
        return admitted
    }

    /// Tells every connection to close once its in-flight response is written
    /// (`HTTPServerPipelineHandler` acts on `ChannelShouldQuiesceEvent`).
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
}
