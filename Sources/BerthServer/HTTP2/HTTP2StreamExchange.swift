import BerthStatic
import NIOCore
import NIOHTTP1

/// The transport of one HTTP/2 stream's exchange, on the stream's channel: request parts in,
/// response parts out (the stream codec below turns them into frames).
final class HTTP2StreamExchange: ChannelInboundHandler, ExchangeTransport {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let generation: SiteGeneration
    private var exchange: Exchange?
    private var context: ChannelHandlerContext?
    private var common: CommonFields
    let eventLoop: EventLoop
    private(set) lazy var counters = self.generation.metrics.counters()
    private var remoteAddress = "-"

    init(generation: SiteGeneration, eventLoop: EventLoop) {
        self.generation = generation
        self.eventLoop = eventLoop
        self.common = CommonFields(server: generation.serverName)
    }

    var allocator: ByteBufferAllocator { self.context?.channel.allocator ?? ByteBufferAllocator() }
    var isStopping: Bool { false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.parent?.remoteAddress?.ipAddress { self.remoteAddress = address }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange = self.exchange, !exchange.isFinished { exchange.transportWentAway() }
        self.exchange = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            // An HTTP/2 stream carries one request; its connection outlives it (RFC 9113 §8.1).
            self.exchange = Exchange.start(head: head, generation: self.generation, transport: self, remoteAddress: self.remoteAddress,
                                           isSecure: true, keepAlive: true)
        case .body(let chunk):
            self.exchange?.receivedBody(chunk)
        case .end:
            self.exchange?.receivedEnd()
        }
    }

    private func writeHead(_ head: ResponseHead, context: ChannelHandlerContext) {
        var fields = HTTPHeaders()
        fields.reserveCapacity(head.fields.count + 2)
        fields.add(name: "Server", value: self.common.server)
        fields.add(name: "Date", value: self.common.currentDate())
        for (name, value) in head.fields { fields.add(name: name, value: value) }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http2, status: HTTPResponseStatus(statusCode: head.status), headers: fields))), promise: nil)
    }

    func writeContinue() {
        guard let context else { return }
        context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http2, status: .continue))), promise: nil)
    }

    func writeResponse(_ head: ResponseHead, body: ResponseBody, exchange: Exchange) {
        guard let context else { return }
        self.writeHead(head, context: context)
        var openFile: OpenFile?
        func write(_ part: StaticBodyPart) {
            switch part {
            case .bytes(let buffer):
                context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            case .file(let file, let offset, let count):
                openFile = file
                let region = FileRegion(fileHandle: file.handle, readerIndex: Int(offset), endIndex: Int(offset + count))
                context.write(self.wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            }
        }
        switch body {
        case .empty, .stream: break
        case .bytes(let buffer): write(.bytes(buffer))
        case .file(let file, let offset, let count): write(.file(file, offset: offset, count: count))
        case .parts(let parts): parts.forEach(write)
        }
        // Handed over before the end is written: writing it may close the stream at once,
        // which would look like a client that went away.
        exchange.responseHandedOver()
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.whenComplete { _ in withExtendedLifetime(openFile) {} }
    }

    func startStream(_ head: ResponseHead, exchange: Exchange) {
        guard let context else { return }
        self.writeHead(head, context: context)
        context.flush()
    }

    func writeChunk(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        guard let context, context.channel.isActive else { return self.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        return context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(chunk))))
    }

    func endStream(exchange: Exchange) {
        guard let context else { return }
        exchange.responseHandedOver()
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func abort(exchange: Exchange) {
        self.context?.close(promise: nil)
    }

    func exchangeEnded(_ exchange: Exchange, _ completion: ExchangeState.CompletionAction) {
        // The stream guard below resets a stream whose request is still arriving.
        self.exchange = nil
    }
}
