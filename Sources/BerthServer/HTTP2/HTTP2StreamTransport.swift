import BerthStatic
import Glibc
import NIOCore
import NIOHTTP1

/// The transport of one HTTP/2 stream's exchange: its answer as HEADERS and DATA frames on
/// the connection. Body bytes wait in a queue until the stream's and the connection's send
/// windows let them out (RFC 9113 §6.9); file bytes are read straight into the frames.
final class HTTP2StreamTransport: ExchangeTransport {
    enum FrameResult {
        /// Nothing more can go out now (window, budget, or no bytes yet).
        case blocked
        /// The last frame of the response is out; the state's action for it.
        case finished(HTTP2ConnectionState.Action)
        /// The stream is gone.
        case cancelled
        /// A file could not be read: the connection must close.
        case failed
    }

    private enum Pending {
        case bytes(ByteBuffer, EventLoopPromise<Void>?)
        case file(OpenFile, offset: Int64, count: Int64)
    }

    let streamID: UInt32
    private let connection: HTTP2Connection
    let eventLoop: EventLoop
    private(set) var exchange: Exchange?
    /// When the request body times out if no more of it arrives (`body_timeout`).
    var bodyDeadline: NIODeadline?
    private var queue = CircularBuffer<Pending>()
    /// The response ends once the queue is empty.
    private var ends = false
    private var gone = false

    init(streamID: UInt32, connection: HTTP2Connection, eventLoop: EventLoop) {
        self.streamID = streamID
        self.connection = connection
        self.eventLoop = eventLoop
    }

    func start(head: HTTPRequestHead, endStream: Bool) {
        // An HTTP/2 stream carries one request; the connection outlives it (RFC 9113 §8.1).
        let (exchange, beginning) = Exchange.forRequest(
            head: head, generation: self.connection.generation, transport: self, remoteAddress: self.connection.remoteAddress,
            isSecure: true, keepAlive: true, bodyFollows: !endStream)
        self.exchange = exchange
        exchange.start(beginning)
    }

    // MARK: - ExchangeTransport

    var allocator: ByteBufferAllocator { ByteBufferAllocator() }
    var isStopping: Bool { false }
    var counters: LoopCounters { self.connection.counters }
    var hosts: HostLookup { self.connection.hosts }
    var loopLocals: LoopLocals { self.connection.loopLocals }

    func writeContinue() {
        guard !self.gone else { return }
        self.connection.writeInformational(100, streamID: self.streamID)
    }

    func writeResponse(_ head: ResponseHead, body: ResponseBody, exchange: Exchange) {
        guard !self.gone else { return }
        // Frames are filled by reading files: one held in memory is not read again.
        switch body.heldInMemory {
        case .empty, .stream:
            _ = self.connection.writeHeaders(head, streamID: self.streamID, endStream: true, stopRequest: self.stopsRequest)
            return
        case .bytes(let buffer):
            self.queue.append(.bytes(buffer, nil))
        case .file(let file, let offset, let count):
            self.queue.append(.file(file, offset: offset, count: count))
        case .parts(let parts):
            for part in parts {
                switch part {
                case .bytes(let buffer): self.queue.append(.bytes(buffer, nil))
                case .file(let file, let offset, let count): self.queue.append(.file(file, offset: offset, count: count))
                }
            }
        }
        self.ends = true
        guard self.connection.writeHeaders(head, streamID: self.streamID, endStream: false) else { return }
        self.connection.bodyQueued(self.streamID)
    }

    func startStream(_ head: ResponseHead, exchange: Exchange) {
        guard !self.gone else { return }
        _ = self.connection.writeHeaders(head, streamID: self.streamID, endStream: false)
    }

    func writeChunk(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        guard !self.gone else { return self.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        guard chunk.readableBytes > 0 else { return self.eventLoop.makeSucceededVoidFuture() }
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.queue.append(.bytes(chunk, promise))
        self.connection.bodyQueued(self.streamID)
        return promise.futureResult
    }

    func endStream(exchange: Exchange) {
        guard !self.gone else { return }
        self.ends = true
        self.connection.bodyQueued(self.streamID)
    }

    func abort(exchange: Exchange) {
        guard !self.gone else { return }
        self.gone = true
        self.failQueue()
        self.connection.reset(self.streamID, code: .cancel)
    }

    /// HTTP/2 has no 101 (RFC 9113 §8.6): `WebSocketHandshake` answers h2 requests to a
    /// WebSocket route with 426 before this could be reached.
    func switchProtocols(_ head: ResponseHead, exchange: Exchange, to session: WebSocketSession) {
        self.abort(exchange: exchange)
    }

    func exchangeEnded(_ exchange: Exchange, _ completion: ExchangeState.CompletionAction, at endedAt: NIODeadline) {
        // A request still arriving after its answer is stopped by the connection state
        // (RST_STREAM NO_ERROR, RFC 9113 §8.1); nothing else outlives the stream.
    }

    /// The exchange gave up on the request body (it stalled, or outgrew the limit): once the
    /// answer is out, the stream is reset rather than read to its end.
    private var stopsRequest: Bool { self.exchange?.state.requestBody == .abandoned }

    // MARK: - From the connection

    /// The final frame went out: the exchange is complete.
    func responseFinished() {
        self.gone = true
        self.exchange?.responseHandedOver()
        self.exchange = nil
    }

    /// The stream was reset or the connection closed.
    func connectionClosed() {
        guard !self.gone else { return }
        self.gone = true
        self.failQueue()
        self.exchange?.transportWentAway()
        self.exchange = nil
    }

    private func failQueue() {
        while let pending = self.queue.popFirst() {
            if case .bytes(_, let promise?) = pending { promise.fail(ChannelError.ioOnClosedChannel) }
        }
    }

    /// Frames as much of the queued body as the windows and `budget` allow.
    func frameBody(state: inout HTTP2ConnectionState, output: inout ByteBuffer, budget: Int) -> FrameResult {
        var budget = budget
        while true {
            guard let first = self.queue.first else {
                guard self.ends else { return .blocked }
                let action = state.sendDataHeader(streamID: self.streamID, length: 0, endStream: true, output: &output)
                if case .streamCancelled = action { return .cancelled }
                return .finished(state.responseWritten(streamID: self.streamID, stopRequest: self.stopsRequest, output: &output))
            }
            let remaining: Int
            switch first {
            case .bytes(let buffer, _): remaining = buffer.readableBytes
            case .file(_, _, let count): remaining = Int(count)
            }
            let length = min(remaining, state.sendableBytes(streamID: self.streamID), budget - HTTP2Limits.frameHeaderLength)
            guard length > 0 else { return remaining == 0 ? self.dropFirst(state: &state, output: &output) : .blocked }
            let isLast = self.ends && self.queue.count == 1 && length == remaining
            let action = state.sendDataHeader(streamID: self.streamID, length: length, endStream: isLast, output: &output)
            if case .streamCancelled = action { return .cancelled }
            budget -= length + HTTP2Limits.frameHeaderLength
            switch first {
            case .bytes(var buffer, let promise):
                output.writeImmutableBuffer(buffer.readSlice(length: length)!)
                if buffer.readableBytes == 0 {
                    self.queue.removeFirst()
                    promise?.succeed()
                } else {
                    self.queue[self.queue.startIndex] = .bytes(buffer, promise)
                }
            case .file(let file, let offset, let count):
                guard Self.read(file, offset: offset, count: length, into: &output) else { return .failed }
                if length == count {
                    self.queue.removeFirst()
                } else {
                    self.queue[self.queue.startIndex] = .file(file, offset: offset + Int64(length), count: count - Int64(length))
                }
            }
            if isLast { return .finished(state.responseWritten(streamID: self.streamID, stopRequest: self.stopsRequest, output: &output)) }
        }
    }

    /// An empty queued part (an empty chunk) is dropped without a frame.
    private func dropFirst(state: inout HTTP2ConnectionState, output: inout ByteBuffer) -> FrameResult {
        if case .bytes(_, let promise?) = self.queue.removeFirst() { promise.succeed() }
        return self.frameBody(state: &state, output: &output, budget: Int.max / 2)
    }

    /// `count` bytes of the file at `offset`, appended to `output`; false if the file no longer
    /// has them (it shrank after its length went into the response head).
    private static func read(_ file: OpenFile, offset: Int64, count: Int, into output: inout ByteBuffer) -> Bool {
        let complete: Bool? = try? file.handle.withUnsafeFileDescriptor { descriptor in
            var done = 0
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                while done < count {
                    let got = pread(descriptor, pointer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    if got > 0 {
                        done += got
                    } else if got < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                return done
            }
            return done == count
        }
        return complete == true
    }
}
