import BerthStatic
import NIOCore
import NIOHTTP1

/// HTTP/1.1 on one connection, in one handler: requests are parsed (`HTTP1RequestParser`),
/// each becomes an `Exchange`, and its answer is written back as HTTP/1.1 bytes
/// (`HTTP1ResponseWriter`). It is the exchange's transport for this connection.
///
/// - Pipelining: a request's head goes to a new exchange once the one before has ended; until
///   then the next request waits, in the read buffer, and reading from the socket pauses, so a
///   client cannot queue unbounded work. Responses therefore leave in order.
/// - Writes are coalesced: a head and a small body leave as one buffer, so a small response is
///   one `send(2)`. On a plain connection a complete response goes to the socket directly, a
///   file by `sendfile(2)` behind its head; only what the socket does not take, streams and
///   the parts of multipart answers go through NIO's write queue (see `send(_:on:context:)`).
/// - After a response that announces `Connection: close`, or malformed input, nothing more is
///   parsed.
///
/// Inbound only: the reads, writes and flushes of the channel pass it by rather than through it.
final class HTTP1Connection: ChannelInboundHandler, RemovableChannelHandler, ExchangeTransport {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    private let generation: SiteGeneration
    let isSecure: Bool
    /// The plain connection's socket, which complete responses are sent on directly (nil
    /// behind TLS, whose handler writes the records).
    private let socket: ConnectionSocket?
    /// Writes through NIO's queue, on a plain connection, that have not all left: while there
    /// are any, responses go the same way.
    private var writesInNIO = 0
    private let connectionGuard: ConnectionGuard
    private var parser: HTTP1RequestParser
    private var writer: HTTP1ResponseWriter
    /// Received bytes not parsed yet (nil when none: an idle connection holds no buffer).
    private var unparsed: ByteBuffer?
    /// The exchange of the request being read or answered.
    private var exchange: Exchange?
    /// The current request's head went up and its response has not ended.
    private var responding = false
    /// The last response closes the connection, or the input was malformed.
    private var acceptsRequests = true
    private var failed = false
    /// Re-entrancy guard: a response ending inside `deliver` resumes the loop already running.
    private var delivering = false
    /// Reading from the socket is paused while a pipelined request waits.
    private var readsPaused = false
    /// The file-region reader is in this TLS connection's pipeline.
    private var readsFileRegions = false
    private var context: ChannelHandlerContext?
    private(set) var remoteAddress = "-"
    private(set) lazy var counters = self.generation.metrics.counters()
    private(set) lazy var hosts = HostLookup(self.generation.hosts)
    /// The connection's thread's values. The connection is made where its pipeline is
    /// configured, on its event loop, so they are that loop's; the writer's buffers are among them.
    let loopLocals: LoopLocals

    init(generation: SiteGeneration, isSecure: Bool, socket: ConnectionSocket? = nil, eventLoop: EventLoop) {
        let limits = generation.limits
        self.eventLoop = eventLoop
        self.generation = generation
        self.connectionGuard = ConnectionGuard(limits: limits)
        self.isSecure = isSecure
        self.socket = isSecure ? nil : socket
        self.parser = HTTP1RequestParser(maxHeaderBytes: limits.headerBytes, maxHeaderCount: limits.headerCount, maxHeadBytes: limits.maxHeadBytes)
        self.loopLocals = LoopLocals.current
        self.writer = HTTP1ResponseWriter(serverName: generation.serverName, buffers: self.loopLocals.responseBuffers)
    }

    // MARK: - ExchangeTransport

    /// The channel's allocator, taken once: asking the channel each time costs reference
    /// counting on every response.
    private(set) var allocator = ByteBufferAllocator()
    let eventLoop: EventLoop
    var isStopping: Bool { self.connectionGuard.isStopping }

    func writeContinue() {
        guard let context else { return }
        var out = self.allocator.buffer(capacity: 32)
        out.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(out)), promise: nil)
        self.noteWritesInNIO(context: context)
    }

    func writeResponse(_ head: ResponseHead, body: ResponseBody, exchange: Exchange) {
        guard let context else { return }
        // Over TLS a file is read to be encrypted: one held in memory is not read again.
        let body = self.isSecure ? body.heldInMemory : body
        if self.isSecure && !self.readsFileRegions && body.readsFromFile {
            // Over TLS a file is read and encrypted, not sent as it is (see `TLSPipeline`).
            do {
                try TLSPipeline.addFileRegionReader(to: context.pipeline.syncOperations)
                self.readsFileRegions = true
            } catch {
                self.abort(exchange: exchange)
                return
            }
        }
        self.writer.writeHead(head, version: exchange.head?.version ?? .http1_1, allocator: self.allocator, body: body)
        if head.closes { self.acceptsRequests = false }
        // The descriptor is the connection's only while the channel is open (see `ConnectionSocket`).
        if let socket = self.socket, self.writesInNIO == 0, context.channel.isActive {
            self.send(self.writer.coalesce(body), on: socket, context: context)
        } else {
            let sendsFile = self.writer.write(body, context: context)
            // A head before a file region is its own write, then the file its own `sendfile`:
            // corked, they leave in the same segments instead of the head as a packet of its
            // own (nginx's `tcp_nopush`). Over TLS the file is read and encrypted with the head.
            let cork = sendsFile ? self.socket : nil
            if let cork, context.channel.isActive { cork.cork(true) }
            self.writer.flush(context: context)
            if let cork, context.channel.isActive { cork.cork(false) }
            self.noteWritesInNIO(context: context)
        }
        exchange.responseHandedOver()
    }

    /// Sends a response on the socket itself: the head (and a small body behind it) in one
    /// `send`, a larger body in a second one or by `sendfile`, the head marked `MSG_MORE` so
    /// that both share segments. What the socket does not take goes through NIO, which sends it
    /// as the socket drains; so does an answer in parts, behind its head.
    private func send(_ body: ResponseBody, on socket: ConnectionSocket, context: ChannelHandlerContext) {
        // `writeHead` left the head there.
        guard var head = self.writer.take() else { return }
        guard let sent = socket.send(head, more: body.count != 0) else { return self.connectionBroke() }
        guard sent == head.readableBytes else {
            head.moveReaderIndex(forwardBy: sent)
            return self.queue(head, then: body, context: context)
        }
        self.writer.sent(head)
        switch body {
        case .empty:
            return
        case .parts, .stream:
            self.queue(nil, then: body, context: context)
        case .bytes(var bytes):
            guard let sent = socket.send(bytes, more: false) else { return self.connectionBroke() }
            guard sent == bytes.readableBytes else {
                bytes.moveReaderIndex(forwardBy: sent)
                return self.queue(nil, then: .bytes(bytes), context: context)
            }
        case .file(let file, let offset, let count):
            guard let sent = socket.sendFile(file.descriptor, offset: offset, count: count).map(Int64.init) else {
                return self.connectionBroke()
            }
            guard sent == count else {
                return self.queue(nil, then: .file(file, offset: offset + sent, count: count - sent), context: context)
            }
        }
    }

    /// What the socket did not take, written through NIO, which sends it when the socket drains
    /// (a file region keeps its file open until then).
    private func queue(_ head: ByteBuffer?, then body: ResponseBody, context: ChannelHandlerContext) {
        if let head { context.write(NIOAny(IOData.byteBuffer(head)), promise: nil) }
        self.writer.write(body, context: context)
        self.writer.flush(context: context)
        self.noteWritesInNIO(context: context)
    }

    /// Writes went through NIO's queue (the socket was full; an answer in parts, a stream, a
    /// "100 Continue"): later responses follow them there until they have left, so that no
    /// bytes overtake others.
    private func noteWritesInNIO(context: ChannelHandlerContext) {
        guard self.socket != nil else { return }
        self.writesInNIO += 1
        self.writer.whenWritten(context: context) { [self] in self.writesInNIO -= 1 }
    }

    /// The response cannot be completed (a direct send failed, as a write through NIO would
    /// have): the connection is over.
    private func connectionBroke() {
        self.acceptsRequests = false
        self.failed = true
        self.context?.close(promise: nil)
    }

    func startStream(_ head: ResponseHead, exchange: Exchange) {
        guard let context else { return }
        self.writer.writeHead(head, version: exchange.head?.version ?? .http1_1, allocator: self.allocator)
        if head.closes { self.acceptsRequests = false }
        // The head goes out now, so the client sees it before the first chunk.
        self.writer.flush(context: context)
        self.noteWritesInNIO(context: context)
    }

    func writeChunk(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        guard let context, context.channel.isActive else {
            return self.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        return self.writer.writeChunk(chunk, context: context)
    }

    func endStream(exchange: Exchange) {
        guard let context else { return }
        self.writer.endChunks(context: context)
        self.writer.flush(context: context)
        self.noteWritesInNIO(context: context)
        exchange.responseHandedOver()
    }

    func abort(exchange: Exchange) {
        self.connectionBroke()
    }

    /// The handshake's 101 goes out, then the WebSocket handlers take this connection's place
    /// (and its guard's: WebSocket has timeouts of its own). Bytes the client sent
    /// after the handshake, already read, go to them first.
    func switchProtocols(_ head: ResponseHead, exchange: Exchange, to session: WebSocketSession) {
        guard let context else { return }
        self.writer.writeHead(head, version: .http1_1, allocator: self.allocator)
        self.writer.flush(context: context)
        self.acceptsRequests = false
        self.failed = true
        self.exchange = nil
        self.responding = false
        self.pauseOrResumeReading(context: context)
        exchange.protocolSwitched()
        let early = self.unparsed
        self.unparsed = nil
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandlers(WebSocketPipeline.handlers(for: session), position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        self.generation.connections.markLongLived(context.channel)
        if let early { context.fireChannelRead(NIOAny(early)) }
        self.connectionGuard.detach()
        pipeline.removeHandler(context: context, promise: nil)
    }

    func exchangeEnded(_ exchange: Exchange, _ completion: ExchangeState.CompletionAction, at endedAt: NIODeadline) {
        guard let context else { return }
        switch completion {
        case .complete, .completeWithBodyArriving:
            // An unread body is read and dropped by the exchange up to its end; the next
            // request starts after it (`requestEnded`).
            self.connectionGuard.progress(.responseComplete, at: endedAt)
        case .close:
            self.acceptsRequests = false
            let connectionGuard = NIOLoopBound(self.connectionGuard, eventLoop: context.eventLoop)
            self.writer.whenWritten(context: context) { connectionGuard.value.progress(.closeAfterDraining) }
            self.connectionGuard.progress(.responseComplete, at: endedAt)
        }
        if self.parser.isBetweenRequests { self.requestEnded(context: context) }
    }

    // MARK: - Requests

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.allocator = context.channel.allocator
        if let address = context.channel.remoteAddress?.ipAddress { self.remoteAddress = address }
        self.connectionGuard.onRefusal = { [unowned self] status in self.refuse(status) }
        self.connectionGuard.attach(context, active: context.channel.isActive)
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress?.ipAddress { self.remoteAddress = address }
        self.connectionGuard.connectionStarted()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.connectionGuard.detach()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionGuard.detach()
        // The client went away: an app still working for it is cancelled.
        if let exchange = self.exchange, !exchange.isFinished { exchange.transportWentAway() }
        self.exchange = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = self.unwrapInboundIn(data)
        // The guard sees every read before the parser, even after a failure (it drains).
        guard let read = self.connectionGuard.bytesArrive(incoming) else { return }
        if !self.failed {
            if self.unparsed == nil {
                self.unparsed = incoming
            } else {
                self.unparsed!.writeImmutableBuffer(incoming)
            }
            self.deliver(context: context)
            self.pauseOrResumeReading(context: context)
        }
        self.connectionGuard.bytesParsed(read)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Handled by the guard, next to the timers it re-arms; nothing after sees them.
        if event is ChannelShouldQuiesceEvent {
            self.connectionGuard.quiesce()
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed, self.connectionGuard.inputClosed() { return }
        context.fireUserInboundEventTriggered(event)
    }

    /// Hands every part the buffered bytes hold to the exchange, stopping at a request boundary
    /// while a response is still being written.
    private func deliver(context: ChannelHandlerContext) {
        guard !self.delivering, var buffer = self.unparsed else { return }
        self.unparsed = nil
        self.delivering = true
        defer {
            self.delivering = false
            // Bytes after a closing response are dropped, unless they finish the current request.
            if buffer.readableBytes > 0 && !self.failed && (self.acceptsRequests || !self.parser.isBetweenRequests) {
                self.unparsed = buffer
            }
        }
        while true {
            if self.parser.isBetweenRequests && (self.responding || !self.acceptsRequests) { return }
            let part: HTTP1RequestParser.Part?
            do {
                part = try self.parser.next(from: &buffer)
            } catch {
                self.malformed(error, context: context)
                return
            }
            switch part {
            case nil:
                return
            case .head(let head):
                self.responding = true
                // Before the exchange starts: it may answer at once, which ends this phase.
                self.connectionGuard.progress(.requestHeadReceived(expectsBody: self.parser.isReadingBody))
                let keepAlive = self.parser.keepsAlive && !self.connectionGuard.isStopping
                let (exchange, beginning) = Exchange.forRequest(
                    head: head, generation: self.generation, transport: self, remoteAddress: self.remoteAddress,
                    isSecure: self.isSecure, keepAlive: keepAlive)
                self.exchange = exchange
                exchange.start(beginning)
            case .body(let chunk):
                self.exchange?.receivedBody(chunk)
            case .end:
                self.connectionGuard.progress(.requestBodyComplete)
                self.exchange?.receivedEnd()
                if let exchange = self.exchange, exchange.isFinished { self.requestEnded(context: context) }
            }
        }
    }

    /// Malformed input: nothing after it can be trusted. The exchange in progress answers the
    /// error if it has not answered yet (400, 431, 505); otherwise the connection just ends.
    private func malformed(_ error: Error, context: ChannelHandlerContext) {
        self.failed = true
        self.acceptsRequests = false
        let status = Self.status(for: error)
        if let exchange = self.exchange, !exchange.isFinished {
            exchange.bodyFailed(status: status)
        } else if !self.responding {
            self.refuse(status)
        } else {
            context.close(promise: nil)
        }
    }

    /// Answers input that never became a request (the connection guard's 408, 414 and 431, or
    /// malformed bytes) and ends the connection.
    func refuse(_ status: Int) {
        self.failed = true
        self.acceptsRequests = false
        if let exchange = self.exchange, !exchange.isFinished {
            exchange.bodyFailed(status: status)
            return
        }
        guard !self.responding || self.exchange?.isFinished == true else {
            self.context?.close(promise: nil)
            return
        }
        self.responding = true
        let exchange = Exchange.forRefusal(status, generation: self.generation, transport: self, remoteAddress: self.remoteAddress,
                                        isSecure: self.isSecure)
        self.exchange = exchange
        exchange.start(.answer(status))
    }

    static func status(for error: Error) -> Int {
        guard let parserError = error as? HTTPParserError else { return 400 }
        switch parserError {
        case .headerOverflow: return 431
        case .invalidVersion: return 505
        default: return 400
        }
    }

    /// The current request has been read to its end and answered: the next pipelined request
    /// may start, and reading resumes.
    private func requestEnded(context: ChannelHandlerContext) {
        guard let exchange = self.exchange, exchange.isFinished, self.parser.isBetweenRequests else { return }
        self.exchange = nil
        self.responding = false
        if self.delivering { return }
        if self.unparsed != nil {
            // Not from inside this write: the exchange is still finishing the response that
            // ended (logging, timers) and must not see the next request first.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (connection, context) = loopBound.value
                connection.deliver(context: context)
                connection.pauseOrResumeReading(context: context)
            }
        } else {
            self.pauseOrResumeReading(context: context)
        }
    }

    /// The next request is buffered and waits for the response before it: reading more would
    /// only queue. Until one arrives, reading goes on as usual.
    private var waitsForResponse: Bool { self.responding && self.parser.isBetweenRequests && self.unparsed != nil }

    /// Pauses reading while a buffered request waits (`waitsForResponse`), and resumes it
    /// after. The channel's `autoRead` rather than holding back its `read` calls: a handler
    /// that sees those would put every request's read through one more pipeline hop.
    private func pauseOrResumeReading(context: ChannelHandlerContext) {
        let pause = self.waitsForResponse
        guard pause != self.readsPaused else { return }
        self.readsPaused = pause
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: !pause)
    }
}

