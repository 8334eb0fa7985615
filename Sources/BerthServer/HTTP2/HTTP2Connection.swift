import BerthStatic
import NIOCore
import NIOHTTP1

/// HTTP/2 on one connection (RFC 9113), in one handler on the connection's channel: frames
/// are cut from the bytes (`HTTP2FrameDecoder`), the connection's rules applied
/// (`HTTP2ConnectionState`), and each stream's request becomes an `Exchange` whose transport
/// is an `HTTP2StreamTransport`. No child channels, no translation to HTTP/1 messages.
///
/// Writes are coalesced: every frame produced while handling one read batch, or in one
/// event-loop tick for answers that arrive asynchronously (apps), leaves in one write, so TLS
/// makes few records. Response bodies are framed as the send windows allow, at most
/// `writeBudget` bytes per write, so a large file costs bounded memory whatever the client's
/// window.
final class HTTP2Connection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = IOData

    /// Bytes of frames gathered before a write; the next are framed once it completed.
    static let writeBudget = 256 * 1024

    let generation: SiteGeneration
    private var decoder: HTTP2FrameDecoder
    private(set) var state: HTTP2ConnectionState
    private var unread: ByteBuffer?
    private var output: ByteBuffer
    private var streams: [UInt32: HTTP2StreamTransport] = [:]
    /// Streams with body bytes waiting for window or for the next write, in arrival order.
    private var sending: [UInt32] = []
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private var writeInFlight = false
    private var closing = false
    private(set) var common: CommonFields
    private var commonBlockDate = ""
    private var commonBlockBytes = ByteBuffer()
    private var blockScratch = ByteBuffer()
    private(set) lazy var counters = self.generation.metrics.counters()
    private(set) lazy var hosts = HostLookup(self.generation.hosts)
    private(set) lazy var loopLocals = LoopLocals.current
    private(set) var remoteAddress = "-"
    /// One timer for the connection's deadlines: the idle one and each stream's body one.
    private var timer = ConnectionTimer()
    private var idleSince: NIODeadline?

    init(generation: SiteGeneration, allocator: ByteBufferAllocator) {
        let limits = generation.limits
        let maxHeaderListSize = HTTP2Connection.maxHeaderListSize(limits)
        self.generation = generation
        self.decoder = HTTP2FrameDecoder(maxFieldBlockBytes: maxHeaderListSize)
        self.state = HTTP2ConnectionState(maxHeaderListSize: maxHeaderListSize, initialWindowSize: 1 << 20, connectionWindowSize: 1 << 22)
        self.output = allocator.buffer(capacity: 4096)
        self.common = CommonFields(server: generation.serverName)
    }

    /// The hard cap on a request's field block, advertised as SETTINGS_MAX_HEADER_LIST_SIZE
    /// (RFC 9113 §6.5.2, which counts 32 bytes of overhead per field). It sits well above
    /// `header_bytes`, so that a request somewhat over the limit gets the same 431 as over
    /// HTTP/1.1, while a field block beyond the cap never gets decoded into memory at all.
    static func maxHeaderListSize(_ limits: ConnectionLimits) -> Int {
        2 * (limits.headerBytes + limits.uriBytes) + 32 * (limits.headerCount + 8)
    }

    // MARK: - The channel

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress?.ipAddress { self.remoteAddress = address }
        self.state.start(output: &self.output)
        self.idleSince = context.eventLoop.now
        self.rearm(context: context)
        self.writeOutput(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer.cancel()
        let streams = self.streams
        self.streams = [:]
        self.sending = []
        for stream in streams.values { stream.connectionClosed() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing else { return }
        let incoming = self.unwrapInboundIn(data)
        if self.unread == nil {
            self.unread = incoming
        } else {
            self.unread!.writeImmutableBuffer(incoming)
        }
        var buffer = self.unread!
        self.unread = nil
        let now = context.eventLoop.now
        while !self.closing {
            let frame: HTTP2FrameDecoder.Frame?
            do {
                frame = try self.decoder.next(from: &buffer)
            } catch {
                self.perform(self.state.fail(error, output: &self.output), context: context)
                break
            }
            guard let frame else { break }
            self.perform(self.state.receive(frame, now: now, output: &self.output), context: context)
        }
        if buffer.readableBytes > 0 && !self.closing {
            buffer.discardReadBytes()
            self.unread = buffer
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.pump()
        self.writeOutput(context: context)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // A graceful stop (RFC 9113 §6.8): GOAWAY and a PING; the final GOAWAY follows the
            // PING's ACK, or a second later from here if the client never acknowledges.
            self.perform(self.state.beginGracefulShutdown(output: &self.output), context: context)
            self.writeOutput(context: context)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: ConnectionGuard.quiesceGrace) {
                let (connection, context) = loopBound.value
                guard connection.context != nil else { return }
                connection.perform(connection.state.stopAcceptingStreams(output: &connection.output), context: context)
                connection.writeOutput(context: context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - What the connection state asks for

    private func perform(_ action: HTTP2ConnectionState.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .requestHead(let streamID, let head, _, let endStream):
            let stream = HTTP2StreamTransport(streamID: streamID, connection: self, eventLoop: context.eventLoop)
            self.streams[streamID] = stream
            self.idleSince = nil
            stream.start(head: head, endStream: endStream)
            if endStream {
                stream.exchange?.receivedEnd()
            } else {
                stream.bodyDeadline = context.eventLoop.now + self.generation.limits.bodyTimeout
                self.rearm(context: context)
            }
        case .requestData(let streamID, let data, let endStream):
            // Request bodies are bounded by `body_bytes`: the window is handed back at once,
            // and the exchange holds or drops the bytes.
            self.state.consumed(streamID: streamID, bytes: data.readableBytes, output: &self.output)
            guard let stream = self.streams[streamID] else { return }
            stream.exchange?.receivedBody(data)
            if endStream {
                stream.bodyDeadline = nil
                stream.exchange?.receivedEnd()
            } else if stream.bodyDeadline != nil {
                stream.bodyDeadline = context.eventLoop.now + self.generation.limits.bodyTimeout
            }
        case .requestEnd(let streamID):
            guard let stream = self.streams[streamID] else { return }
            stream.bodyDeadline = nil
            stream.exchange?.receivedEnd()
        case .streamCancelled(let streamID, _):
            self.streamGone(streamID)
        case .sendWindowOpened:
            self.pump()
        case .closeConnection:
            self.closing = true
            self.writeOutput(context: context)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0)))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
    }

    /// A stream the client reset, or that a stream error closed: its exchange is dropped.
    private func streamGone(_ streamID: UInt32) {
        guard let stream = self.streams.removeValue(forKey: streamID) else { return }
        stream.connectionClosed()
        self.streamEnded()
    }

    /// Called when a stream leaves the table: an idle connection starts its idle timeout.
    private func streamEnded() {
        guard self.streams.isEmpty, let context else { return }
        self.idleSince = context.eventLoop.now
        self.rearm(context: context)
    }

    // MARK: - Writing frames

    /// A response head as an HPACK block: `:status`, `server`, `date`, then the fields (a hot
    /// file's as the block prepared when it was opened). The block is built in a buffer the
    /// connection keeps, so a response allocates none.
    func writeHeaders(_ head: ResponseHead, streamID: UInt32, endStream: Bool, stopRequest: Bool = false) -> Bool {
        var block = self.blockScratch
        self.blockScratch = ByteBuffer()
        block.clear()
        HPACKResponseEncoder.writeStatus(head.status, into: &block)
        block.writeImmutableBuffer(self.commonBlock())
        if let prepared = head.prepared?.fieldBlock {
            block.writeImmutableBuffer(prepared)
            for (name, value) in head.unpreparedFields { HPACKResponseEncoder.writeField(name: name, value: value, into: &block) }
        } else {
            for (name, value) in head.fields { HPACKResponseEncoder.writeField(name: name, value: value, into: &block) }
        }
        let written = self.sendHeaders(block, streamID: streamID, endStream: endStream, stopRequest: stopRequest)
        self.blockScratch = block
        return written
    }

    /// `server` and `date` as HPACK literals, re-encoded when the second changes.
    private func commonBlock() -> ByteBuffer {
        let date = self.common.currentDate()
        if date != self.commonBlockDate {
            self.commonBlockDate = date
            self.commonBlockBytes.clear()
            HPACKResponseEncoder.writeField(name: "server", value: self.common.server, into: &self.commonBlockBytes)
            HPACKResponseEncoder.writeField(name: "date", value: date, into: &self.commonBlockBytes)
        }
        return self.commonBlockBytes
    }

    /// An informational head (100 Continue): HEADERS without END_STREAM.
    func writeInformational(_ status: Int, streamID: UInt32) {
        var block = ByteBufferAllocator().buffer(capacity: 8)
        HPACKResponseEncoder.writeStatus(status, into: &block)
        _ = self.sendHeaders(block, streamID: streamID, endStream: false)
    }

    private func sendHeaders(_ block: ByteBuffer, streamID: UInt32, endStream: Bool, stopRequest: Bool = false) -> Bool {
        let action = self.state.sendHeaders(streamID: streamID, fieldBlock: block, endStream: endStream, stopRequest: stopRequest, output: &self.output)
        self.scheduleFlush()
        if endStream { self.responseFinished(streamID) }
        return self.handleSendAction(action)
    }

    /// The stream has body bytes queued: frame them as the windows allow.
    func bodyQueued(_ streamID: UInt32) {
        if !self.sending.contains(streamID) { self.sending.append(streamID) }
        self.pump()
        self.scheduleFlush()
    }

    /// Frames queued body bytes into the output: each stream in turn, as far as its window
    /// and the write budget allow.
    private func pump() {
        guard !self.closing, !self.writeInFlight else { return }
        var index = 0
        while index < self.sending.count, self.output.readableBytes < Self.writeBudget {
            let streamID = self.sending[index]
            guard let stream = self.streams[streamID] else {
                self.sending.remove(at: index)
                continue
            }
            let budget = Self.writeBudget - self.output.readableBytes
            switch stream.frameBody(state: &self.state, output: &self.output, budget: budget) {
            case .blocked:
                index += 1
            case .finished(let action):
                self.sending.remove(at: index)
                self.responseFinished(streamID)
                _ = self.handleSendAction(action)
            case .cancelled:
                self.sending.remove(at: index)
                self.streamGone(streamID)
            case .failed:
                // A file shrank under a DATA frame already announced: the connection's
                // framing cannot be kept, so it ends.
                self.closing = true
                self.context?.close(promise: nil)
                return
            }
        }
    }

    private func responseFinished(_ streamID: UInt32) {
        guard let stream = self.streams.removeValue(forKey: streamID) else { return }
        stream.responseFinished()
        self.streamEnded()
    }

    private func handleSendAction(_ action: HTTP2ConnectionState.Action) -> Bool {
        guard let context else { return false }
        switch action {
        case .streamCancelled(let streamID, _):
            self.streamGone(streamID)
            return false
        case .closeConnection:
            self.perform(.closeConnection, context: context)
            return true
        default:
            return true
        }
    }

    /// The server gives up on a stream: RST_STREAM with `code`.
    func reset(_ streamID: UInt32, code: HTTP2ErrorCode) {
        guard let context else { return }
        let action = self.state.resetStream(streamID: streamID, code: code, output: &self.output)
        self.streams.removeValue(forKey: streamID)
        self.streamEnded()
        self.scheduleFlush()
        if action == .closeConnection { self.perform(action, context: context) }
    }

    /// Frames written outside a read batch (an app's answer, a timer) leave at the end of the
    /// event-loop tick, together with whatever else the tick produces.
    func scheduleFlush() {
        guard !self.flushScheduled, let context else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (connection, context) = loopBound.value
            connection.flushScheduled = false
            guard connection.context != nil else { return }
            connection.pump()
            connection.writeOutput(context: context)
        }
    }

    private func writeOutput(context: ChannelHandlerContext) {
        guard self.output.readableBytes > 0, !self.writeInFlight else { return }
        let bytes = self.output
        self.output = context.channel.allocator.buffer(capacity: 4096)
        if self.sending.isEmpty {
            context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
            return
        }
        // Bodies are still being framed: the next batch waits for this write, so what is
        // buffered stays within the write budget.
        self.writeInFlight = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(bytes))).whenComplete { result in
            let (connection, context) = loopBound.value
            connection.writeInFlight = false
            guard case .success = result, connection.context != nil else { return }
            connection.pump()
            connection.writeOutput(context: context)
        }
    }

    // MARK: - Deadlines

    /// Arms the timer for the earliest deadline: the idle timeout of a connection without
    /// streams (from its start too, so a client that never sends a request is closed), and
    /// the body timeout of each stream whose request body is still arriving.
    private func rearm(context: ChannelHandlerContext) {
        var earliest = self.idleSince.map { $0 + self.generation.limits.idleTimeout }
        for stream in self.streams.values {
            if let deadline = stream.bodyDeadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        guard let earliest else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer.arm(at: earliest, on: context.eventLoop) {
            let (connection, context) = loopBound.value
            connection.deadlinePassed(context: context)
        }
    }

    private func deadlinePassed(context: ChannelHandlerContext) {
        self.timer.fired()
        guard self.context != nil, !self.closing else { return }
        let now = context.eventLoop.now
        if let idleSince = self.idleSince, self.streams.isEmpty, idleSince + self.generation.limits.idleTimeout <= now {
            // RFC 9113 §9.1: "the terminating endpoint SHOULD first send a GOAWAY frame".
            self.perform(self.state.stopAcceptingStreams(output: &self.output), context: context)
            self.perform(.closeConnection, context: context)
            return
        }
        for stream in self.streams.values {
            if let deadline = stream.bodyDeadline, deadline <= now {
                stream.bodyDeadline = nil
                stream.exchange?.bodyFailed(status: 408)
            }
        }
        self.pump()
        self.writeOutput(context: context)
        self.rearm(context: context)
    }
}

/// One scheduled task at a time for a set of deadlines: moving a deadline later costs an
/// assignment, and the task reschedules itself when it fires early.
struct ConnectionTimer {
    private var scheduled: Scheduled<Void>?
    private var firesAt = NIODeadline.distantFuture

    mutating func arm(at deadline: NIODeadline, on loop: EventLoop, _ fire: @escaping () -> Void) {
        if self.scheduled != nil && self.firesAt <= deadline { return }
        self.scheduled?.cancel()
        self.firesAt = deadline
        let loopBound = NIOLoopBound(fire, eventLoop: loop)
        self.scheduled = loop.scheduleTask(deadline: deadline) { loopBound.value() }
    }

    /// The task ran: the next `arm` schedules anew.
    mutating func fired() {
        self.scheduled = nil
        self.firesAt = .distantFuture
    }

    mutating func cancel() {
        self.scheduled?.cancel()
        self.scheduled = nil
        self.firesAt = .distantFuture
    }
}
