import BerthApp
import Foundation
import Synchronization

/// A change to the notes, as the live feed sends it to pages:
/// `{"type":"added","note":{…}}` or `{"type":"deleted","id":7}`.
enum NoteEvent: Sendable, Encodable {
    case added(Note)
    case deleted(id: Int)

    private enum Keys: String, CodingKey { case type, note, id }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .added(let note):
            try container.encode("added", forKey: .type)
            try container.encode(note, forKey: .note)
        case .deleted(let id):
            try container.encode("deleted", forKey: .type)
            try container.encode(id, forKey: .id)
        }
    }
}

/// Hands every change to every open page, without letting one page hold up the others.
///
/// Each subscriber has a buffer of ``bufferLimit`` events that `publish` fills without waiting;
/// the subscriber's own task drains it into its WebSocket. A page that falls that far behind
/// (a stalled tab, a dead network path the idle timeout has not noticed yet) is disconnected
/// rather than given a bigger buffer: it reconnects and reloads the whole list, which is
/// cheaper and more correct than replaying an unbounded backlog. So memory stays at most
/// `subscribers × bufferLimit` events, and a slow page never delays a fast one.
final class NoteFeed: Sendable {
    /// Events a subscriber may leave unsent before it is disconnected.
    static let bufferLimit = 64

    private struct Subscriber {
        let continuation: AsyncStream<NoteEvent>.Continuation
        let overrun: OverrunFlag
    }

    private let subscribers = Mutex<(next: Int, all: [Int: Subscriber])>((0, [:]))

    /// Pages currently subscribed.
    var count: Int { subscribers.withLock { $0.all.count } }

    /// A new subscription; it ends when the value is released (the page left, or the handshake
    /// was refused and the response dropped) or when it falls too far behind.
    func subscribe() -> Subscription {
        let (events, continuation) = AsyncStream.makeStream(of: NoteEvent.self,
                                                            bufferingPolicy: .bufferingOldest(Self.bufferLimit))
        let overrun = OverrunFlag()
        let id = subscribers.withLock { state in
            defer { state.next += 1 }
            state.all[state.next] = Subscriber(continuation: continuation, overrun: overrun)
            return state.next
        }
        return Subscription(feed: self, id: id, events: events, overrun: overrun)
    }

    fileprivate func remove(_ id: Int) {
        let removed = subscribers.withLock { $0.all.removeValue(forKey: id) }
        removed?.continuation.finish()
    }

    /// Queues `event` for every subscriber; never waits.
    func publish(_ event: NoteEvent) {
        let everyone = subscribers.withLock { Array($0.all) }
        for (id, subscriber) in everyone {
            if case .dropped = subscriber.continuation.yield(event) {
                subscriber.overrun.set()
                remove(id)
            }
        }
    }
}

/// One page's events, in order.
final class Subscription: Sendable {
    let events: AsyncStream<NoteEvent>
    private let feed: NoteFeed
    private let id: Int
    private let overrunFlag: OverrunFlag

    fileprivate init(feed: NoteFeed, id: Int, events: AsyncStream<NoteEvent>, overrun: OverrunFlag) {
        self.feed = feed
        self.id = id
        self.events = events
        self.overrunFlag = overrun
    }

    deinit {
        feed.remove(id)
    }

    /// True when the page fell ``NoteFeed/bufferLimit`` events behind and was cut off.
    var overrun: Bool { overrunFlag.isSet }

    /// Runs one page's WebSocket: sends each event as a JSON text message until the page
    /// leaves, or closes with 1008 once the page fell too far behind (it reconnects and
    /// reloads the list).
    func forward(to socket: WebSocket) async throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Pages send only keep-alive messages (against the idle timeout); reading them
            // also notices the close handshake and ends the feed.
            group.addTask {
                for try await _ in socket.messages {}
            }
            group.addTask {
                for await event in self.events {
                    try await socket.send(String(decoding: try encoder.encode(event), as: UTF8.self))
                }
                if self.overrun {
                    await socket.close(code: .policyViolation, reason: "too far behind; reconnect")
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Set once, read from any thread.
final class OverrunFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
