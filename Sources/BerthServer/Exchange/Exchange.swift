import BerthStatic
import FoundationEssentials
import NIOCore
import NIOHTTP1

/// What an exchange needs from the protocol carrying it: one implementation for an HTTP/1.1
/// connection, one for an HTTP/2 stream. Every call is made on the transport's event loop.
protocol ExchangeTransport: AnyObject {
    var allocator: ByteBufferAllocator { get }
    var eventLoop: EventLoop { get }
    /// The server is stopping: answers announce the close.
    var isStopping: Bool { get }
    /// This thread's request counters, looked up once per connection.
    var counters: LoopCounters { get }
    /// The generation's hosts, with the connection's last lookup remembered.
    var hosts: HostLookup { get }
    /// This thread's own values, looked up once per connection.
    var loopLocals: LoopLocals { get }
    /// "100 Continue" (RFC 9110 §15.2.1), before the request body is read.
    func writeContinue()
    /// The head and the whole body; the transport calls `exchange.responseHandedOver()` once
    /// they are handed to the socket (or to the connection's frames).
    func writeResponse(_ head: ResponseHead, body: ResponseBody, exchange: Exchange)
    /// The head of a streamed body; chunks follow (`writeChunk`), then `endStream`.
    func startStream(_ head: ResponseHead, exchange: Exchange)
    /// One chunk of a streamed body; completes when the transport took it.
    func writeChunk(_ chunk: ByteBuffer) -> EventLoopFuture<Void>
    /// The end of a streamed body.
    func endStream(exchange: Exchange)
    /// The response cannot be completed: HTTP/1.1 closes the connection, HTTP/2 resets the
    /// stream, so the client sees a cut-off answer rather than a short one.
    func abort(exchange: Exchange)
    /// The exchange is over; what becomes of the connection (or stream) is `completion`.
    /// `endedAt`: the loop's clock when it ended, read once for the log and the transport.
    func exchangeEnded(_ exchange: Exchange, _ completion: ExchangeState.CompletionAction, at endedAt: NIODeadline)
    /// A 101 (RFC 9110 §15.2.2) for an accepted WebSocket handshake: the transport writes
    /// `head`, calls `exchange.protocolSwitched()`, and hands its connection to `session`.
    /// Only HTTP/1.1 can; `WebSocketHandshake` refuses the others first.
    func switchProtocols(_ head: ResponseHead, exchange: Exchange, to session: WebSocketSession)
}

/// Who reads a request body (an app): the exchange hands it the body as it arrives.
protocol RequestBodyConsumer: AnyObject {
    func received(_ chunk: ByteBuffer)
    func ended()
    /// The body will not be completed: it outgrew the limit, or the client went away.
    func failed(tooLarge: Bool)
}

/// One request and its answer, whatever the protocol: checks the head, routes it, runs the
/// path's handlers (a handler may decline: the next one runs), passes the answer through the
/// response filters and hands it to the transport with the head the builder made. The rules
/// themselves are `ExchangeState`'s; this class carries them out. Lives on one event loop.
final class Exchange {
    let generation: SiteGeneration
    let transport: ExchangeTransport
    /// Nil for input that never became a request (a refused head): logged with "-".
    let head: HTTPRequestHead?
    let startedAt: NIODeadline
    let remoteAddress: String
    let isSecure: Bool
    private(set) var state: ExchangeState
    /// What the request was routed to: for error pages, headers, logs and metrics.
    private(set) var host: VirtualHost?
    private(set) var route: PathRoute?
    /// The host's name and the route's prefix, "-" before either was found: for log lines.
    var hostName: String { self.host?.name ?? "-" }
    var routePrefix: String { self.route?.prefix ?? "-" }
    private var hsts: String?
    private var accessLog: AccessLog?
    private var answerHeld: (ResponseHead, ResponseBody)?
    /// The head's conditional, range and Accept-Encoding fields, gathered when it was checked.
    private var checkedFields: StaticRequestHeaders?
    private var bodyConsumer: RequestBodyConsumer?
    /// Called when the exchange ends before its handler answered (the client left, a timeout
    /// answered instead): an app's task is cancelled.
    var onAbandon: (() -> Void)?
    private var sentBytes: Int64 = 0
    private(set) var isFinished = false
    /// The transport went away: nothing more can be written.
    private var transportClosed = false

    init(generation: SiteGeneration, transport: ExchangeTransport, head: HTTPRequestHead?, remoteAddress: String, isSecure: Bool,
         state: ExchangeState) {
        self.generation = generation
        self.transport = transport
        self.head = head
        // The loop's clock, like the connection's timers (a test's loop has a clock of its own).
        self.startedAt = transport.eventLoop.now
        self.remoteAddress = remoteAddress
        self.isSecure = isSecure
        self.state = state
        self.accessLog = generation.accessLog
    }

    var allocator: ByteBufferAllocator { self.transport.allocator }

    /// The request's conditional, range and Accept-Encoding fields: those gathered when the
    /// head was checked, or, for a head refused before that, read from it now.
    var requestFields: StaticRequestHeaders {
        if let fields = self.checkedFields { return fields }
        return self.head.map { StaticRequestHeaders($0.headers) } ?? StaticRequestHeaders()
    }
    var eventLoop: EventLoop { self.transport.eventLoop }

    // MARK: - Starting

    /// What `start` does: answer a refusal, or route an accepted head (the exchange's own).
    /// Handed from the factory to `start` by the transport rather than kept in the exchange,
    /// which would copy what the check found once more per request.
    enum Beginning {
        case answer(Int)
        case route(RequestHeadCheck.Accepted)
    }

    /// The exchange for a parsed request head, checked, and what `start` then does with it:
    /// answer or route. The transport keeps the exchange before it starts, since an answer
    /// can come at once.
    /// `bodyFollows`: the protocol knows whether a body follows (HTTP/2: no END_STREAM on the
    /// HEADERS, with or without content-length); nil to go by the framing fields.
    static func forRequest(
        head: HTTPRequestHead, generation: SiteGeneration, transport: ExchangeTransport, remoteAddress: String, isSecure: Bool,
        keepAlive: Bool, bodyFollows: Bool? = nil
    ) -> (Exchange, Beginning) {
        let limits = generation.limits
        switch RequestHeadCheck.check(head, limits: limits) {
        case .failure(let rejected):
            let state = ExchangeState(expectsBody: false, expectsContinue: false, isHead: head.method == .HEAD,
                                      keepAlive: keepAlive && !rejected.mustClose, bodyLimit: limits.bodyBytes)
            let exchange = Exchange(generation: generation, transport: transport, head: head, remoteAddress: remoteAddress,
                                    isSecure: isSecure, state: state)
            generation.logger.debug("request rejected", metadata: [
                "http.status": "\(rejected.status.code)", "http.reason": "\(rejected.reason)", "net.peer": "\(remoteAddress)",
            ])
            exchange.host = generation.hosts.host(for: head.headers.first(name: "host"))
            return (exchange, .answer(Int(rejected.status.code)))
        case .success(let accepted):
            let state = ExchangeState(expectsBody: bodyFollows ?? accepted.expectsBody, expectsContinue: accepted.expectsContinue,
                                      isHead: head.method == .HEAD, keepAlive: keepAlive, bodyLimit: limits.bodyBytes)
            let exchange = Exchange(generation: generation, transport: transport, head: head, remoteAddress: remoteAddress,
                                    isSecure: isSecure, state: state)
            return (exchange, .route(accepted))
        }
    }

    /// The exchange answering input that never became a request (a head too large, a timeout
    /// while it arrived, malformed bytes): logged and counted like any answer, and the
    /// connection ends. `start(.answer(status))` writes the answer.
    static func forRefusal(
        _ status: Int, generation: SiteGeneration, transport: ExchangeTransport, remoteAddress: String, isSecure: Bool
    ) -> Exchange {
        let state = ExchangeState(expectsBody: false, expectsContinue: false, isHead: false, keepAlive: false,
                                  bodyLimit: generation.limits.bodyBytes)
        let exchange = Exchange(generation: generation, transport: transport, head: nil, remoteAddress: remoteAddress,
                                isSecure: isSecure, state: state)
        exchange.host = generation.hosts.defaultHost
        return exchange
    }

    /// Answers the refusal, or routes the request to its handlers: called once, with what the
    /// factory returned.
    func start(_ beginning: Beginning) {
        switch beginning {
        case .answer(let status): self.answer(.page(status))
        case .route(let accepted): self.route(accepted)
        }
    }

    private func route(_ accepted: RequestHeadCheck.Accepted) {
        // A routed exchange always has its head (`forRequest` made it with one).
        guard let head = self.head else { return }
        self.checkedFields = accepted.fields
        switch RequestRouter.route(head, accepted, hosts: self.transport.hosts, isSecure: self.isSecure,
                                   challenges: self.generation.challenges) {
        case .misdirected:
            self.answer(.page(421))
        case .answer(let message, let host):
            self.select(host: host, route: nil)
            self.answer(message)
        case .notFound(let host):
            self.select(host: host, route: nil)
            self.answer(.page(404))
        case .handlers(let request):
            self.select(host: request.host, route: request.route)
            self.run(request, from: 0)
        }
    }

    private func select(host: VirtualHost, route: PathRoute?) {
        self.host = host
        self.route = route
        self.accessLog = host.accessLog ?? self.generation.accessLog
        if self.isSecure { self.hsts = host.hsts }
    }

    /// Runs the path's handlers from `index` until one answers or takes the request. When all
    /// decline, the last one's `otherwise` answers (a 404 when the path has no handlers).
    private func run(_ request: RoutedRequest, from index: Int, otherwise: ResponseMessage? = nil) {
        let handlers = request.route.handlers
        guard index < handlers.count else {
            self.answer(otherwise ?? .page(404))
            return
        }
        switch handlers[index].respond(to: request, exchange: self) {
        case .answer(let message):
            self.answer(message)
        case .decline(let fallback):
            self.run(request, from: index + 1, otherwise: fallback)
        case .pending:
            break
        }
    }

    // MARK: - The request body

    /// For a handler that reads the body: the exchange delivers it to `consumer` as it arrives
    /// (after "100 Continue" when the client waits for one).
    func readBody(into consumer: RequestBodyConsumer) {
        self.bodyConsumer = consumer
        if self.state.handlerWantsBody() == .sendContinue { self.transport.writeContinue() }
        if self.state.requestBody == .complete { consumer.ended() }
    }

    func receivedBody(_ chunk: ByteBuffer) {
        switch self.state.bodyReceived(chunk.readableBytes) {
        case .deliver:
            self.bodyConsumer?.received(chunk)
        case .discard:
            break
        case .refuseTooLarge:
            self.bodyConsumer?.failed(tooLarge: true)
            self.bodyConsumer = nil
            self.abandonHandler()
            self.answer(.page(413), overriding: true)
        case .cutOff:
            self.bodyConsumer?.failed(tooLarge: true)
            self.bodyConsumer = nil
            self.cutOff()
        }
    }

    func receivedEnd() {
        let action = self.state.bodyEnded()
        self.bodyConsumer?.ended()
        if action == .writeDeferredAnswer, let (head, body) = self.answerHeld {
            self.answerHeld = nil
            self.state.deferredAnswerWritten()
            self.write(head, body)
        }
    }

    /// The request body was malformed or stalled (`status`: 400, 408); answered if nothing was.
    func bodyFailed(status: Int) {
        self.state.bodyFailed()
        self.bodyConsumer?.failed(tooLarge: false)
        self.bodyConsumer = nil
        if self.state.answer == .none || self.state.answer == .deferred {
            self.abandonHandler()
            self.answer(.page(status), overriding: true)
        } else if !self.isFinished {
            self.cutOff()
        }
    }

    /// The client went away (HTTP/1.1 connection closed, HTTP/2 stream reset).
    func transportWentAway() {
        self.transportClosed = true
        self.bodyConsumer?.failed(tooLarge: false)
        self.bodyConsumer = nil
        self.abandonHandler()
        self.isFinished = true
    }

    private func abandonHandler() {
        let abandon = self.onAbandon
        self.onAbandon = nil
        abandon?()
    }

    // MARK: - Answering

    /// The answer of a handler, of a timeout or of a refusal. Only the first is written.
    func answer(_ message: consuming ResponseMessage, overriding: Bool = false) {
        guard !self.transportClosed else { return }
        if overriding, self.answerHeld != nil { self.answerHeld = nil }
        let action = self.state.answer(overriding: overriding)
        if action == .drop { return }
        if self.transport.isStopping { self.state.endsConnection() }
        // Filtered in place: a consuming parameter is the exchange's to change, not a copy.
        ResponseFilters.apply(to: &message, exchange: self)
        var keepAlive = self.state.keepAlive
        let withBody = action != .write(withBody: false)
        let head = ResponseHeadBuilder.build(
            message, bodyLength: withBody ? message.body.count : 0, overrides: self.route?.headers ?? .none, hsts: self.hsts,
            version: self.head?.version ?? .http1_1, keepAlive: &keepAlive)
        if !keepAlive { self.state.endsConnection() }
        switch action {
        case .write:
            self.write(head, withBody ? message.body : .empty)
        case .waitForBodyEnd:
            self.answerHeld = (head, self.state.isHead ? .empty : message.body)
        case .drop:
            break
        }
    }

    private func write(_ head: ResponseHead, _ body: ResponseBody) {
        self.status = head.status
        if case .stream(let stream) = body {
            self.transport.startStream(head, exchange: self)
            stream.start(StreamSink(exchange: self))
        } else {
            self.sentBytes = body.count ?? 0
            self.transport.writeResponse(head, body: body, exchange: self)
        }
    }

    /// The status written, for the log.
    private(set) var status = 0

    /// Answers an accepted WebSocket handshake with 101 and `fields`; the connection then
    /// belongs to `session`. Like any answer, only if none was given (a timeout's 504).
    func switchProtocols(fields: [(String, String)], to session: WebSocketSession) {
        guard !self.transportClosed, case .write = self.state.answer() else { return }
        self.status = 101
        var fields = fields
        if let hsts = self.hsts { fields.append(("Strict-Transport-Security", hsts)) }
        self.transport.switchProtocols(ResponseHead(status: 101, fields: fields, closes: false, chunked: false),
                                       exchange: self, to: session)
    }

    /// The 101 went out and the connection speaks WebSocket now: this exchange is over, and
    /// logged with its 101; the connection's later life is not a request's.
    func protocolSwitched() {
        guard !self.isFinished else { return }
        self.isFinished = true
        self.onAbandon = nil
        self.log()
    }

    /// The transport handed the whole response to the socket (or to the connection's frames).
    func responseHandedOver() {
        guard !self.isFinished else { return }
        self.isFinished = true
        self.finish(self.state.responseWritten())
    }

    private func finish(_ completion: ExchangeState.CompletionAction) {
        let endedAt = self.log()
        self.transport.exchangeEnded(self, completion, at: endedAt)
    }

    /// Ends an exchange whose response cannot be completed.
    private func cutOff() {
        guard !self.isFinished else {
            self.transport.abort(exchange: self)
            return
        }
        self.isFinished = true
        self.abandonHandler()
        if self.status == 0 { self.status = 500 }
        self.log()
        self.transport.abort(exchange: self)
    }

    fileprivate func streamed(_ count: Int) { self.sentBytes += Int64(count) }

    fileprivate func streamFailed() {
        self.cutOff()
    }

    fileprivate func streamEnded() {
        guard !self.transportClosed else { return }
        self.transport.endStream(exchange: self)
    }

    // MARK: - Logging

    /// Counts the exchange and writes its access log line; returns when it ended.
    @discardableResult
    private func log() -> NIODeadline {
        let hostName = self.hostName
        let routePrefix = self.routePrefix
        let endedAt = self.eventLoop.now
        let duration = endedAt - self.startedAt
        self.transport.counters.record(
            host: self.head == nil ? "-" : hostName, route: routePrefix, status: self.status, bytes: self.sentBytes,
            duration: duration)
        guard let log = self.accessLog else { return endedAt }
        let head = self.head
        log.append(AccessRecord(
            remoteAddress: self.remoteAddress,
            duration: duration,
            wallClock: Date(),
            method: head?.method.rawValue ?? "-",
            uri: head?.uri ?? "-",
            version: head.map { "HTTP/\($0.version.major).\($0.version.minor)" } ?? "-",
            host: head == nil ? "-" : hostName,
            status: self.status,
            bodyBytes: self.sentBytes,
            referer: head?.headers.first(name: "referer"),
            userAgent: head?.headers.first(name: "user-agent")
        ))
        return endedAt
    }
}

/// The sink a streamed body writes to: chunks go to the transport, counted for the log.
private final class StreamSink: ResponseStreamSink {
    private let exchange: Exchange

    init(exchange: Exchange) {
        self.exchange = exchange
    }

    func write(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        guard !self.exchange.isFinished else {
            return self.exchange.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        self.exchange.streamed(chunk.readableBytes)
        return self.exchange.transport.writeChunk(chunk)
    }

    func finish() {
        self.exchange.streamEnded()
    }

    func fail(_ error: Error) {
        self.exchange.streamFailed()
    }
}
