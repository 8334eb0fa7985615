@_spi(BerthServer) import BerthApp
@_spi(BerthServer) import BerthAppLoader
import BerthConfig
import BerthStatic
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// An app mounted on routes: the loaded library plus what the server enforces around it.
public final class AppEndpoint: Sendable {
    public let name: String
    let app: LoadedApp
    /// An app that has not answered by then gets its request cut off with 504.
    let requestTimeout: TimeAmount
    let logger: Logger
    /// The files an app answers with (`.file(path)`), served like a static site's, from one
    /// open-file cache for the app's lifetime.
    let files: StaticSite?
    /// The limits of the app's WebSocket connections.
    let webSocket: WebSocketConfig
    /// Requests started on an event loop, and their first steps that no route could take and
    /// that held the loop too long (see ``StepHold``), weighed as a route's are: once heavy,
    /// the app's requests run on the shared pool, as tasks.
    private let weight = RouteWeight()

    public init(name: String, app: LoadedApp, requestTimeout: Duration, webSocket: WebSocketConfig = WebSocketConfig(), logger: Logger) {
        self.name = name
        self.app = app
        self.requestTimeout = TimeAmount(requestTimeout)
        self.webSocket = webSocket
        self.logger = logger
        var options = StaticConfig(root: "/")
        options.index = []
        options.dotfiles = true
        options.symlinksOutsideRoot = true
        options.precompressed = false
        self.files = try? StaticSite(options: options)
    }

    /// Whether the app's requests start on the shared pool rather than on their connection's
    /// event loop.
    var startsOnPool: Bool { self.weight.isHeavy }

    /// Counts a request that starts on its connection's event loop.
    func countRequestOnLoop() { self.weight.countRequest() }

    /// A step of a request's task held its event loop for `held` nanoseconds: counted against
    /// its route, or else the whole app; past a share, that runs on the shared pool from then on.
    /// Said once in the log.
    func stepHeldLoop(_ held: UInt64, note: RouteNote) {
        let milliseconds = "\(held / 1_000_000).\(held / 100_000 % 10) ms"
        switch note.countLongStep() {
        case .route(let route, let madeHeavy):
            guard madeHeavy else { return }
            self.logger.notice("app route held an event loop; it runs on the shared pool from now on", metadata: [
                "app.name": "\(self.name)", "http.route": "\(route)", "held": "\(milliseconds)",
            ])
        case .notOnRoute:
            fallthrough
        @unknown default:
            guard self.weight.countLongStep() else { return }
            self.logger.notice("app held an event loop outside its routes' handlers; all its requests run on the shared pool from now on", metadata: [
                "app.name": "\(self.name)", "held": "\(milliseconds)",
            ])
        }
    }

    /// Runs the app's shutdown hook (a draining worker closes files and connections).
    public func stop() async {
        await self.app.stop()
    }
}

/// A path's app: the request goes to the app on the connection's event loop, answered there
/// and then when the app's router can without a task (a handler that does not suspend), or
/// else in a task that starts there; the answer goes to the exchange on that loop. The exchange makes
/// sure exactly one answer is written: the app's, a 504 when it is too slow, or a 413 when the
/// body outgrows the limit.
final class AppHandler: RouteHandler {
    let endpoint: AppEndpoint

    init(endpoint: AppEndpoint) {
        self.endpoint = endpoint
    }

    func respond(to routed: RoutedRequest, exchange: Exchange) -> HandlerOutcome {
        let locals = exchange.transport.loopLocals
        let request = Self.request(for: routed, exchange: exchange, locals: locals)
        let note = RouteNote.fresh(reusing: &locals.routeNote)
        if self.endpoint.startsOnPool {
            let call = AppCall(request: request, routed: nil, note: note, endpoint: self.endpoint, exchange: exchange)
            call.awaitAnswer(of: Task { await call.run() })
            return .pending
        }
        // What the app does here, before its first suspension, holds the loop: a route that
        // holds it too long is moved to the pool (see `StepHold`).
        self.endpoint.countRequestOnLoop()
        let clock = locals.stepClock
        // From the exchange's start, a few microseconds earlier (the request's checks and
        // routing): one reading of the clock fewer, against a limit of milliseconds.
        let start = clock.stepStarts(at: exchange.startedAt.uptimeNanoseconds)
        // A route whose handler does not suspend, of an app that lets its router answer, is
        // answered here and now: no task, no call object, no timer. For another route the
        // router has found it already, and the task only runs its handler.
        let routedInApp: Router.Routed?
        switch self.endpoint.app.firstStep(for: request, note: note) {
        case .answered(let outcome):
            if let held = clock.heldTooLong(since: start) {
                self.endpoint.stepHeldLoop(held, note: note)
            }
            AppAnswer.deliver(outcome, endpoint: self.endpoint, exchange: exchange)
            return .pending
        case .routed(let found):
            routedInApp = found
        case .needsTask:
            routedInApp = nil
        @unknown default:
            routedInApp = nil
        }
        // Otherwise one task per request, started here on the connection's event loop: it runs
        // until it first suspends, so a handler that answers without suspending is answered
        // before this returns, with no thread switch and no timer. After a suspension the task
        // goes on on the shared pool, and its answer comes back to the loop.
        let call = AppCall(request: request, routed: routedInApp, note: note, endpoint: self.endpoint, exchange: exchange)
        call.firstStepStarted(at: start, on: clock)
        let task = startImmediately { await call.run() }
        call.firstStepEnded()
        if !exchange.state.isAnswered { call.awaitAnswer(of: task) }
        return .pending
    }

    /// The app's view of the request: its body complete, or a stream the exchange feeds.
    private static func request(for routed: RoutedRequest, exchange: Exchange, locals: LoopLocals) -> Request {
        let head = routed.head
        let body: RequestBody
        if exchange.state.requestBody == .complete {
            body = RequestBody.empty(reusing: &locals.emptyBody)
        } else {
            let stream = RequestBody.stream(onDemand: {})
            body = stream.body
            // The body is bounded by `body_bytes`, so what the app has not read yet is too.
            exchange.readBody(into: AppBodyFeed(source: stream.source))
        }
        return Request(
            method: Request.Method(rawValue: head.method.rawValue),
            path: PercentEncoding.encodePath(routed.target.path),
            queryString: routed.target.query ?? "",
            headers: Headers(trustedFieldCount: head.headers.count) { add in
                for field in head.headers { add(field.name, field.value) }
            },
            remoteAddress: routed.remoteAddress == "-" ? nil : routed.remoteAddress,
            host: routed.host.name,
            body: body
        )
    }
}

/// One app request in flight: all the server keeps for it besides the task, in one object.
/// `request` and `routed` are read once, by the task's start; `timeout` only on the loop.
private final class AppCall: @unchecked Sendable {
    private var request: Request?
    /// The route the app's router found for the request already, if it did.
    private var routed: Router.Routed?
    private let endpoint: AppEndpoint
    private let exchange: NIOLoopBound<Exchange>
    private let loop: EventLoop
    /// Where the app's router writes the route it matched.
    let note: RouteNote
    /// The 504 timer, cancelled as soon as the app answers: a timer left pending for every
    /// answered request would pile up in the event loop's timer heap. A scheduled callback
    /// rather than a scheduled task: no promise and future per request.
    private var timeout: NIOScheduledCallback?

    init(request: Request, routed: Router.Routed?, note: RouteNote, endpoint: AppEndpoint, exchange: Exchange) {
        self.request = request
        self.routed = routed
        self.note = note
        self.endpoint = endpoint
        self.exchange = NIOLoopBound(exchange, eventLoop: exchange.eventLoop)
        self.loop = exchange.eventLoop
    }

    /// When the task's first step began on the loop, and the loop's clock; nil once it was
    /// weighed, or when the task started on the pool.
    private var firstStep: (start: UInt64, clock: StepClock)?

    /// Before the task starts on the loop: its first step began at `start` (from `clock`).
    func firstStepStarted(at start: UInt64, on clock: StepClock) {
        self.firstStep = (start, clock)
    }

    /// The first step ended, with the answer or with a suspension: weighed once. An answer is
    /// weighed before it is written, so the client's next request already finds a heavy route
    /// moved.
    func firstStepEnded() {
        guard let (start, clock) = self.firstStep.take() else { return }
        if let held = clock.heldTooLong(since: start) {
            self.endpoint.stepHeldLoop(held, note: self.note)
        }
    }

    /// The task's work: the app's answer, delivered on the loop.
    func run() async {
        guard let request = self.request.take() else { return }
        // Started on the pool (a route moved there): behind the loops from the start.
        if !self.loop.inEventLoop { PoolPriority.lowerThisThread() }
        let outcome = await self.endpoint.app.respond(to: request, note: self.note, routed: self.routed.take())
        if self.loop.inEventLoop {
            // Still the first step: the task has not left the loop.
            self.firstStepEnded()
            self.deliver(outcome)
        } else {
            // The task went on on the pool: that thread runs behind the loops from now on.
            PoolPriority.lowerThisThread()
            self.loop.execute { self.deliver(outcome) }
        }
    }

    /// The task went on past the loop's turn: bound it by the app's timeout, and cancel it when
    /// the answer is no longer wanted (the client left, a refusal answered).
    func awaitAnswer(of task: Task<Void, Never>) {
        self.timeout = try? self.loop.scheduleCallback(in: self.endpoint.requestTimeout, handler: AppTimeout(call: self, task: task))
        self.exchange.value.onAbandon = {
            task.cancel()
            self.timeout?.cancel()
        }
    }

    private func deliver(_ outcome: AppOutcome) {
        self.timeout?.cancel()
        self.timeout = nil
        let exchange = self.exchange.value
        // The exchange holds this call through `onAbandon` until then.
        exchange.onAbandon = nil
        AppAnswer.deliver(outcome, endpoint: self.endpoint, exchange: exchange)
    }

    /// The 504 of an app that did not answer within its `request_timeout`: its task is cancelled.
    fileprivate func timedOut(_ task: Task<Void, Never>) {
        let exchange = self.exchange.value
        guard !exchange.state.isAnswered else { return }
        exchange.onAbandon = nil
        task.cancel()
        self.endpoint.logger.error("app did not answer in time", metadata: [
            "app.name": "\(self.endpoint.name)", "http.host": "\(exchange.hostName)", "http.route": "\(exchange.routePrefix)",
        ])
        exchange.answer(.page(504))
    }
}

/// An app's outcome, on the loop, to its exchange: the failure logged, the response written.
/// The host and route are the exchange's, read only for a log line.
private enum AppAnswer {
    static func deliver(_ outcome: AppOutcome, endpoint: AppEndpoint, exchange: Exchange) {
        if let error = outcome.error {
            endpoint.logger.error("app failed", metadata: [
                "app.name": "\(endpoint.name)", "http.host": "\(exchange.hostName)",
                "http.route": "\(outcome.route ?? exchange.routePrefix)", "error": "\(error)",
            ])
        }
        let response = outcome.response
        // The fields, with room for the Content-Length the server adds.
        let (status, fields, body) = response.parts(reservingExtra: 1)
        if case .upgrade(let upgrade) = body {
            // The switch of protocols waits for the next turn of the loop: an answer made
            // while the connection is still reading the request's bytes must not take the
            // bytes after the handshake (the client's first frames) from under it.
            let onLoop = NIOLoopBound(exchange, eventLoop: exchange.eventLoop)
            exchange.eventLoop.execute {
                let exchange = onLoop.value
                WebSocketRoute.answer(response, upgrade: upgrade, route: outcome.route ?? exchange.routePrefix,
                                      endpoint: endpoint, exchange: exchange)
            }
        } else {
            // The fields are handed over, so the server's field is added in place.
            exchange.answer(AppResponse.message(status: status, fields: consume fields, body: body, endpoint: endpoint,
                                                exchange: exchange))
        }
    }
}

private struct AppTimeout: NIOScheduledCallbackHandler, Sendable {
    let call: AppCall
    let task: Task<Void, Never>

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.call.timedOut(self.task)
    }
}

/// Feeds a request body to the app's `RequestBody` stream.
private final class AppBodyFeed: RequestBodyConsumer {
    let source: RequestBodySource

    init(source: RequestBodySource) {
        self.source = source
    }

    func received(_ chunk: ByteBuffer) {
        _ = self.source.yield(Array(chunk.readableBytesView))
    }

    func ended() {
        self.source.finish()
    }

    func failed(tooLarge: Bool) {
        self.source.fail(tooLarge ? RequestBodyError.tooLarge(limit: 0) : CancellationError())
    }
}

/// What the app answered, as a response message. Framing (Content-Length, Transfer-Encoding,
/// Connection) is the server's: the app's values for those are dropped, and a header that could
/// split the response (CR, LF, other control bytes) never reaches the wire.
enum AppResponse {
    /// `fields`: the app's, with room for one more.
    static func message(
        status: Int, fields: consuming [(String, String)], body: Response.Body, endpoint: AppEndpoint, exchange: Exchange
    ) -> ResponseMessage {
        // One pass for both rules: every field of every app answer goes through it.
        var framing = false
        for index in fields.indices {
            let (name, value) = fields[index]
            if Self.isFraming(name) {
                framing = true
            } else if !FieldSyntax.isSafeField(name: name, value: value) {
                endpoint.logger.error("app set an unsafe header", metadata: ["app.name": "\(endpoint.name)", "http.header": "\(name)"])
                return .page(500)
            }
        }
        if framing { fields.removeAll { Self.isFraming($0.0) } }
        switch body {
        case .empty:
            if status != 204 && status != 304 { fields.append(("Content-Length", "0")) }
            return ResponseMessage(status: status, fields: fields, body: .empty)
        case .bytes(let bytes):
            fields.append(("Content-Length", String(bytes.count)))
            // Answered on the exchange's loop: its thread's buffers.
            let body = exchange.transport.loopLocals.responseBuffers.body(copying: bytes, allocator: exchange.allocator)
            return ResponseMessage(status: status, fields: fields, body: .bytes(body))
        case .file(let path):
            return Self.file(path, status: status, fields: fields, endpoint: endpoint, exchange: exchange)
        case .stream(let produce):
            return ResponseMessage(status: status, fields: fields, body: .stream(Self.stream(produce, endpoint: endpoint, routePrefix: exchange.routePrefix, loop: exchange.eventLoop)))
        case .upgrade:
            // `WebSocketRoute` answers these.
            return .page(500)
        @unknown default:
            return .page(500)
        }
    }

    /// Content-Length, Transfer-Encoding or Connection, in any case: compared without making a
    /// lowercased copy of every name.
    private static func isFraming(_ name: String) -> Bool {
        switch name.utf8.count {
        case 14: return name.caseInsensitiveEquals("content-length")
        case 17: return name.caseInsensitiveEquals("transfer-encoding")
        case 10: return name.caseInsensitiveEquals("connection")
        default: return false
        }
    }

    /// A file named by the app is served like a static file (ranges, conditional requests,
    /// sendfile), from the app's own open-file cache.
    private static func file(_ path: String, status: Int, fields: [(String, String)], endpoint: AppEndpoint, exchange: Exchange) -> ResponseMessage {
        guard path.hasPrefix("/"), let files = endpoint.files, let head = exchange.head else { return .page(500) }
        let request = StaticRequest(
            method: head.method == .HEAD ? "HEAD" : "GET", path: path, originalPath: path, query: nil,
            headers: exchange.requestFields)
        guard case .response(let fileResponse) = files.respond(to: request), fileResponse.status != 301 else { return .page(404) }
        var message = ResponseMessage(fileResponse)
        if !fields.isEmpty {
            // The app's own headers win (say, its Content-Type or Cache-Control).
            for (name, value) in fields {
                message.removeFields { $0.lowercased() == name.lowercased() }
                message.fields.append((name, value))
            }
        }
        if fileResponse.status == 200 { message.status = status }
        return message
    }

    /// A streamed body: each write waits until the transport took the previous one, so a fast
    /// app cannot flood memory. A failure mid-body cuts the response off.
    private static func stream(
        _ produce: @escaping @Sendable (ResponseBodyWriter) async throws -> Void, endpoint: AppEndpoint, routePrefix: String, loop: EventLoop
    ) -> ResponseStream {
        ResponseStream { sink in
            let sinkOnLoop = NIOLoopBound(sink, eventLoop: loop)
            let writer = ResponseBodyWriter { bytes in
                try await loop.flatSubmit { () -> EventLoopFuture<Void> in
                    sinkOnLoop.value.write(ByteBuffer(bytes: bytes))
                }.get()
            }
            Task {
                PoolPriority.lowerThisThread()
                var failure: Error?
                do { try await produce(writer) } catch { failure = error }
                loop.execute { [failure] in
                    if let failure {
                        endpoint.logger.error("app failed while streaming a response", metadata: [
                            "app.name": "\(endpoint.name)", "http.route": "\(routePrefix)", "error": "\(failure)",
                        ])
                        sinkOnLoop.value.fail(failure)
                    } else {
                        sinkOnLoop.value.finish()
                    }
                }
            }
        }
    }
}
