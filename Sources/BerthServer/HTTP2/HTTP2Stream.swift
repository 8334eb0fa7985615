import NIOCore

/// One stream of an HTTP/2 connection as the server sees it: its state (RFC 9113 §5.1), its
/// flow-control windows (§5.2, §6.9) and what the request declared about its body.
struct HTTP2Stream: Sendable {
    /// §5.1. Only client-initiated streams exist here (the server never pushes), so the
    /// reserved states do not occur. A stream is stored only while open or half-closed;
    /// `idle` and `closed` describe identifiers without a stored stream.
    ///
    /// half-closed (local): the response is complete and a short rest of the request body is
    /// still read and dropped; a longer one is stopped with RST_STREAM NO_ERROR (§8.1).
    enum State: Equatable, Sendable {
        case idle
        case open
        case halfClosedRemote
        case halfClosedLocal
        case closed
    }

    var state: State
    var receiveWindow: HTTP2ReceiveWindow
    /// What the server may still send (§6.9.1). Negative after the peer shrank
    /// SETTINGS_INITIAL_WINDOW_SIZE below what was already sent (§6.9.2).
    var sendWindow: Int
    var contentLength: Int?
    /// Request body bytes received so far, padding excluded: checked against contentLength.
    var receivedBytes = 0

    init(state: State, receiveWindowSize: Int, sendWindow: Int, contentLength: Int?) {
        self.state = state
        self.receiveWindow = HTTP2ReceiveWindow(size: receiveWindowSize)
        self.sendWindow = sendWindow
        self.contentLength = contentLength
    }
}

/// A receive window (RFC 9113 §6.9): how much the peer may still send, and how much the server
/// has consumed without telling the peer yet. Consumed bytes are handed back with
/// WINDOW_UPDATE in batches of at least half the window, not one update per DATA frame.
///
/// `size` = `available` + bytes received but not consumed + `unannounced`.
struct HTTP2ReceiveWindow: Sendable {
    let size: Int
    private(set) var available: Int
    private(set) var unannounced = 0

    init(size: Int) {
        self.size = size
        self.available = size
    }

    /// Bytes received and held until the server consumes them.
    var unconsumed: Int { self.size - self.available - self.unannounced }

    /// Charges a flow-controlled frame; false when it exceeds the window (§6.9.1).
    mutating func receive(_ bytes: Int) -> Bool {
        guard bytes <= self.available else { return false }
        self.available -= bytes
        return true
    }

    /// Records consumed bytes; the increment to announce with WINDOW_UPDATE once half the
    /// window is waiting for it, else nil.
    mutating func consume(_ bytes: Int) -> Int? {
        self.unannounced += min(bytes, self.unconsumed)
        guard self.unannounced > 0, self.unannounced >= self.size / 2 else { return nil }
        let increment = self.unannounced
        self.available += increment
        self.unannounced = 0
        return increment
    }
}

/// Streams closed not long ago, and how each was closed, in a fixed ring (no allocation after
/// init). §5.1 treats frames on a closed stream by how it closed, and an endpoint cannot
/// remember every stream: what fell out of the ring is "closed long ago".
struct HTTP2ClosedStreams: Sendable {
    enum Closure: Equatable, Sendable {
        /// Both sides sent END_STREAM.
        case finished
        /// The client sent RST_STREAM.
        case resetByPeer
        /// This server sent RST_STREAM, refused the stream or ignored it after GOAWAY: frames
        /// the client sent before it learnt so are ignored (§5.1 "closed").
        case resetByServer
    }

    private var ids: [UInt32]
    private var closures: [Closure]
    private var next = 0

    init(capacity: Int) {
        self.ids = Array(repeating: 0, count: capacity)
        self.closures = Array(repeating: .finished, count: capacity)
    }

    mutating func record(_ streamID: UInt32, _ closure: Closure) {
        if let index = self.ids.firstIndex(of: streamID) {
            self.closures[index] = closure
            return
        }
        self.ids[self.next] = streamID
        self.closures[self.next] = closure
        self.next = (self.next + 1) % self.ids.count
    }

    func closure(of streamID: UInt32) -> Closure? {
        guard streamID != 0, let index = self.ids.firstIndex(of: streamID) else { return nil }
        return self.closures[index]
    }
}

/// The streams of one connection (RFC 9113 §5.1): those open or half-closed, the highest
/// identifier the client has used, and how the streams closed lately ended.
struct HTTP2StreamTable: Sendable {
    /// Where a stream identifier stands.
    enum Lookup: Sendable {
        case active(HTTP2Stream)
        /// Above every identifier the client has used, or even: the server's own identifiers,
        /// which stay idle since it never pushes.
        case idle
        /// Closed, or skipped (§5.1.1: using an identifier closes the idle ones below it);
        /// how it closed, if that was recent enough to be remembered.
        case closed(HTTP2ClosedStreams.Closure?)
    }

    private var streams: [UInt32: HTTP2Stream] = [:]
    private var recentlyClosed: HTTP2ClosedStreams
    private(set) var highestStreamID: UInt32 = 0
    /// The last stream opened, as GOAWAY names it (§6.8).
    private(set) var lastOpenedStreamID: UInt32 = 0

    init(capacity: Int, remembering closedCount: Int = 128) {
        self.streams.reserveCapacity(capacity)
        self.recentlyClosed = HTTP2ClosedStreams(capacity: closedCount)
    }

    /// Open and half-closed streams: what counts against MAX_CONCURRENT_STREAMS (§5.1.2).
    var activeCount: Int { self.streams.count }

    subscript(streamID: UInt32) -> HTTP2Stream? { self.streams[streamID] }

    func lookup(_ streamID: UInt32) -> Lookup {
        if let stream = self.streams[streamID] { return .active(stream) }
        // §5.1.1: a client's use of an identifier closes only the idle streams it could have
        // opened itself, the odd ones. A frame on an even stream is one on an idle stream, a
        // connection error (§5.1), never answered with RST_STREAM (§6.4).
        if streamID > self.highestStreamID || streamID & 1 == 0 { return .idle }
        return .closed(self.recentlyClosed.closure(of: streamID))
    }

    func state(of streamID: UInt32) -> HTTP2Stream.State {
        switch self.lookup(streamID) {
        case .active(let stream): stream.state
        case .idle: .idle
        case .closed: .closed
        }
    }

    /// A new, higher identifier was used by the client.
    mutating func use(_ streamID: UInt32) {
        precondition(streamID > self.highestStreamID)
        self.highestStreamID = streamID
    }

    mutating func open(_ streamID: UInt32, _ stream: HTTP2Stream) {
        self.streams[streamID] = stream
        self.lastOpenedStreamID = streamID
    }

    /// Stores an active stream's new state.
    mutating func update(_ streamID: UInt32, _ stream: HTTP2Stream) {
        precondition(self.streams[streamID] != nil, "only active streams are updated")
        self.streams[streamID] = stream
    }

    /// Closes a stream (if active) and remembers how; returns what it was.
    @discardableResult
    mutating func close(_ streamID: UInt32, _ closure: HTTP2ClosedStreams.Closure) -> HTTP2Stream? {
        self.recentlyClosed.record(streamID, closure)
        return self.streams.removeValue(forKey: streamID)
    }

    /// §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every active stream's send window by
    /// the difference, below zero if need be. False if one would pass 2^31−1.
    mutating func addToSendWindows(_ delta: Int) -> Bool {
        var withinLimit = true
        for index in self.streams.values.indices {
            self.streams.values[index].sendWindow += delta
            if self.streams.values[index].sendWindow > HTTP2Limits.maxWindowSize { withinLimit = false }
        }
        return withinLimit
    }
}
