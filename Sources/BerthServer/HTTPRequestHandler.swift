import BerthConfig
import BerthStatic
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOHTTP1

/// Answers the requests of one HTTP/1.1 connection (or one HTTP/2 stream): checks the head,
/// finds the host and the path route, and runs its handler. On HTTP/1.1 it sits on
/// `HTTP1Codec`, which hands it one request at a time, so pipelined responses leave in order.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// The response is decided (or sent); request body bytes are read and dropped.
        case discardingBody
        /// The response is decided but waits for the end of the request body, so that a
        /// malformed body (a bad chunk size) is still answered with 400.
        case answeringAfterBody(() -> Void)
        /// The request body streams to an app.
        case streamingToApp(AppExchange)
        /// A fatal error was answered; the connection is closing.
        case closing
    }

    let generation: SiteGeneration
    /// The guard of the connection (nil on an HTTP/2 stream, whose connection has its own).
    let connectionGuard: ConnectionGuardHandler?
    /// The HTTP/1.1 codec right below (nil on an HTTP/2 stream): prepared response fields go
    /// to it directly.
    let http1: HTTP1Codec?
    var state = State.idle
    var date = DateHeader()
    private var bodyBytes = 0
    var keepAlive = true
    var isHead = false
    /// The request being answered, kept for the access log line.
    /// No head for input that never became a request (logged with "-").
    var current: (head: HTTPRequestHead?, startedAt: ContinuousClock.Instant, host: String)?
    var remoteAddress = "-"
    private var accessLog: AccessLog?
    /// The connection is TLS: `redirect_http` does not apply, and the host's HSTS value does.
    private let isSecure: Bool
    /// Strict-Transport-Security for the current response (RFC 6797 §7.1: over TLS only).
    var hsts: String?
    /// The matched route's prefix: a metrics label, "-" until a route matched.
    private var routePrefix = "-"
    /// The app exchange whose answer is still outstanding (with or without a request body).
    var unansweredApp: AppExchange?
    /// This thread's request counters, looked up once per connection (or HTTP/2 stream).
    private lazy var counters = self.generation.metrics.counters()

    init(generation: SiteGeneration, connectionGuard: ConnectionGuardHandler? = nil, http1: HTTP1Codec? = nil, isSecure: Bool = false) {
        self.generation = generation
        self.connectionGuard = connectionGuard
        self.http1 = http1
        self.isSecure = isSecure
    }

    func channelActive(context: ChannelHandlerContext) {
        self.captureRemoteAddress(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.captureRemoteAddress(context: context)
    }

    private func captureRemoteAddress(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress?.ipAddress {
            self.remoteAddress = address
        }
    }

    /// This handler's context, for parts the HTTP/1.1 codec hands over directly.
    private var context: ChannelHandlerContext?

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received(self.unwrapInboundIn(data), context: context)
    }

    /// A request part from the HTTP/1.1 codec below, without the pipeline dispatch.
    func received(_ part: HTTPServerRequestPart) {
        guard let context = self.context else { return }
        self.received(part, context: context)
    }

    private func received(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.receivedHead(head, context: context)
        case .body(let chunk):
            self.receivedBody(chunk, context: context)
        case .end:
            self.receivedEnd(context: context)
        }
    }

    /// A response head went out and its end has not yet: a protocol error can then no longer
    /// be answered, only cut off.
    var responseInProgress = false

    /// Errors of the HTTP parser get the status RFC 9110 asks for — 431 for oversized heads,
    /// 505 for unknown versions, 400 for the rest — and the connection closes: after a
    /// framing error nothing later on it can be trusted.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError || error is ByteToMessageDecoderError else {
            context.fireErrorCaught(error)
            return
        }
        if case .streamingToApp(let exchange) = self.state {
            exchange.bodyTooLarge()
            exchange.answered = true
            exchange.task?.cancel()
            exchange.finished()
            self.unansweredApp = nil
        }
        self.state = .closing
        self.keepAlive = false
        guard !self.responseInProgress else {
            context.close(promise: nil)
            return
        }
        self.isHead = false
        self.beginUnparsedExchange()
        self.sendError(Self.status(for: error), route: nil, context: context)
    }

    /// Input the connection refused before it became a request (the guard's 408, 414, 431):
    /// logged and counted like any answer.
    func refusedInput(status: Int, bodyBytes: Int) {
        self.beginUnparsedExchange()
        self.logAccess(status: status, bodyBytes: Int64(bodyBytes))
    }

    /// An answer to bytes that never made a whole request head still gets its access-log line
    /// and its count, with "-" for the request and the host.
    private func beginUnparsedExchange() {
        guard self.current == nil else { return }
        self.current = (nil, .now, "-")
        self.accessLog = self.generation.accessLog
        self.routePrefix = "-"
    }

    static func status(for error: Error) -> HTTPResponseStatus {
        switch error {
        case let parserError as HTTPParserError:
            switch parserError {
            case .headerOverflow: return .requestHeaderFieldsTooLarge
            case .invalidVersion: return .httpVersionNotSupported
            default: return .badRequest
            }
        case is ByteToMessageDecoderError.PayloadTooLargeError:
            return .requestHeaderFieldsTooLarge
        default:
            return .badRequest
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client went away: an app still working for it is cancelled.
        self.unansweredApp?.connectionClosed()
        self.unansweredApp = nil
        self.state = .closing
        context.fireChannelInactive()
    }

    // MARK: - Request parts

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.bodyBytes = 0
        // An HTTP/2 stream carries one request; its connection outlives it (RFC 9113 §8.1).
        // A draining server still answers what arrives, then closes (RFC 9112 §9.6).
        self.keepAlive = (head.isKeepAlive || head.version.major >= 2) && self.connectionGuard?.isStopping != true
        self.isHead = head.method == .HEAD
        self.hsts = nil
        self.accessLog = self.generation.accessLog
        self.current = (head, .now, "-")
        self.routePrefix = "-"

        let accepted: RequestHeadCheck.Accepted
        switch RequestHeadCheck.check(head, limits: self.generation.limits) {
        case .success(let value):
            accepted = value
        case .failure(let rejected):
            self.progress(.requestHeadReceived(expectsBody: false), context: context)
            self.generation.logger.debug(
                "request rejected",
                metadata: ["http.status": "\(rejected.status.code)", "http.reason": "\(rejected.reason)", "net.peer": "\(self.remoteAddress)"]
            )
            if rejected.mustClose { self.keepAlive = false }
            self.sendError(rejected.status, route: nil, context: context)
            self.state = rejected.mustClose ? .closing : .discardingBody
            return
        }

        guard let host = self.generation.hosts.host(for: accepted.authority) else {
            self.answer(accepted, context: context) { $0.sendError(.misdirectedRequest, route: nil, context: $1) }
            return
        }
        self.current?.host = host.name
        self.accessLog = host.accessLog ?? self.generation.accessLog
        let path = accepted.target.path
        if self.isSecure {
            self.hsts = host.hsts
        } else if let location = host.httpsRedirect?.location(uri: head.uri, path: path, authority: accepted.authority, host: host) {
            self.answer(accepted, context: context) { handler, context in
                let (headers, body) = HTTPSRedirect.response(to: location, allocator: context.channel.allocator)
                handler.send(status: 308, headers: headers, body: handler.isHead ? .empty : .bytes(body), route: nil, context: context)
            }
            return
        }
        guard let route = host.route(for: path) else {
            self.answer(accepted, context: context) { $0.sendError(.notFound, route: nil, context: $1) }
            return
        }
        self.routePrefix = route.prefix

        switch route.handler {
        case .app(let endpoint):
            self.startApp(endpoint, head: head, accepted: accepted, host: host, route: route, context: context)
        case .staticFiles(let site, let fallback):
            // Files answer GET and HEAD only; other methods belong to the fallback app when
            // there is one, whether or not a file matches (Caddy's file_server does the same).
            if head.method != .GET && head.method != .HEAD {
                if let fallback {
                    self.startApp(fallback, head: head, accepted: accepted, host: host, route: route, context: context)
                } else {
                    self.answer(accepted, context: context) { $0.sendError(.methodNotAllowed, route: route, context: $1) }
                }
                return
            }
            let request = StaticRequest(
                method: head.method.rawValue,
                path: route.remainder(of: path),
                originalPath: path,
                query: accepted.target.query,
                headers: StaticRequestHeaders(head.headers)
            )
            switch site.respond(to: request) {
            case .response(let response):
                self.answer(accepted, context: context) {
                    $0.send(
                        status: response.status, headers: response.headers, serializedHeaders: response.serializedHeaders,
                        body: response.body, route: route, context: $1)
                }
            case .notFound:
                if let fallback {
                    self.startApp(fallback, head: head, accepted: accepted, host: host, route: route, context: context)
                } else {
                    self.answer(accepted, context: context) { $0.sendError(.notFound, route: route, context: $1) }
                }
            }
        case .redirect(let redirect):
            let location = Self.redirectLocation(redirect, route: route, target: accepted.target)
            self.answer(accepted, context: context) { handler, context in
                let body = BuiltInErrorPage.body(for: HTTPResponseStatus(statusCode: redirect.status), allocator: context.channel.allocator)
                handler.send(
                    status: redirect.status,
                    headers: [("Location", location), ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", String(body.readableBytes))],
                    body: handler.isHead ? .empty : .bytes(body),
                    route: route,
                    context: context
                )
            }
        }
    }

    /// With `keep_path`, the part of the path below the route's prefix and the query are
    /// appended to the target.
    static func redirectLocation(_ redirect: RedirectConfig, route: PathRoute, target: RequestTarget) -> String {
        var location = redirect.target
        guard redirect.keepPath else { return location }
        let rest = route.remainder(of: target.path)
        if location.hasSuffix("/") && rest.hasPrefix("/") {
            location += rest.dropFirst()
        } else if !(rest == "/" && !target.path.hasSuffix("/")) {
            location += rest
        }
        if let query = target.query { location += "?" + query }
        return location
    }

    /// Runs `respond` now, or after the request body when one is coming: a malformed body
    /// must still get its 400, and the next pipelined request starts after this body.
    /// A client waiting for 100 Continue is answered at once instead, and since it may then
    /// never send its body, the connection closes after the response (RFC 9110 §10.1.1).
    func answer(
        _ accepted: RequestHeadCheck.Accepted, context: ChannelHandlerContext,
        _ respond: @escaping (HTTPRequestHandler, ChannelHandlerContext) -> Void
    ) {
        self.progress(.requestHeadReceived(expectsBody: accepted.expectsBody), context: context)
        if accepted.expectsBody && !accepted.expectsContinue {
            self.state = .answeringAfterBody { respond(self, context) }
        } else {
            if accepted.expectsContinue { self.keepAlive = false }
            self.state = .discardingBody
            respond(self, context)
        }
    }

    private func receivedBody(_ chunk: ByteBuffer, context: ChannelHandlerContext) {
        self.bodyBytes += chunk.readableBytes
        let overLimit = self.bodyBytes > self.generation.limits.bodyBytes
        switch self.state {
        case .streamingToApp(let exchange):
            if overLimit {
                // The app may still be reading: it sees the body fail, and the client gets
                // 413 unless an answer already started.
                exchange.bodyTooLarge()
                self.keepAlive = false
                self.state = .closing
                if !exchange.answered {
                    exchange.answered = true
                    exchange.task?.cancel()
                    exchange.finished()
                    self.unansweredApp = nil
                    self.sendError(.payloadTooLarge, route: nil, context: context)
                } else {
                    self.progress(.closeAfterDraining, context: context)
                }
                return
            }
            exchange.receivedBody(chunk)
        case .discardingBody, .answeringAfterBody:
            // Chunked bodies have no declared length: the limit is enforced as they arrive.
            if overLimit {
                self.state = .closing
                self.progress(.closeAfterDraining, context: context)
            }
        case .idle, .closing:
            break
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        self.progress(.requestBodyComplete, context: context)
        switch self.state {
        case .streamingToApp(let exchange):
            exchange.receivedEnd()
        case .discardingBody:
            self.state = .idle
        case .answeringAfterBody(let answer):
            self.state = .idle
            answer()
        case .idle, .closing:
            break
        }
    }

    // MARK: - Responses

    func sendError(_ status: HTTPResponseStatus, route: PathRoute?, context: ChannelHandlerContext) {
        let code = Int(status.code)
        let page = route?.errorPages[code]
        let body = page?.body ?? BuiltInErrorPage.body(for: status, allocator: context.channel.allocator)
        var headers: [(String, String)] = [
            ("Content-Type", page?.contentType ?? "text/html; charset=utf-8"),
            ("Content-Length", String(body.readableBytes)),
        ]
        if status == .methodNotAllowed { headers.append(("Allow", "GET, HEAD")) }
        self.send(status: code, headers: headers, body: self.isHead ? .empty : .bytes(body), route: route, context: context)
    }

    /// Writes one complete response. `headers` come from the handler; the route's configured
    /// headers are applied on top, then the connection headers.
    func send(
        status: Int, headers: [(String, String)], serializedHeaders: ByteBuffer? = nil, body: StaticBody, route: PathRoute?,
        context: ChannelHandlerContext
    ) {
        // A handler's 4xx/5xx gets the route's custom page when one is configured.
        if status >= 400, let route, let page = route.errorPages[status], !Self.isCustomPage(headers) {
            var pageHeaders = headers.filter { name, _ in
                let lower = name.lowercased()
                return lower != "content-type" && lower != "content-length" && lower != "content-encoding" && lower != "etag"
                    && lower != "last-modified" && lower != "content-range" && lower != "accept-ranges"
            }
            pageHeaders.append(("Content-Type", page.contentType))
            pageHeaders.append(("Content-Length", String(page.body.readableBytes)))
            pageHeaders.append((Self.errorPageMarker, "1"))
            self.writeResponse(status: status, headers: pageHeaders, body: self.isHead ? .empty : .bytes(page.body), route: route, context: context)
            return
        }
        self.writeResponse(status: status, headers: headers, serializedHeaders: serializedHeaders, body: body, route: route, context: context)
    }

    /// Marks a response that already carries the route's error page; never sent.
    static let errorPageMarker = "X-Berth-Error-Page"

    private static func isCustomPage(_ headers: [(String, String)]) -> Bool {
        headers.contains { $0.0 == Self.errorPageMarker }
    }

    private func writeResponse(
        status: Int, headers: [(String, String)], serializedHeaders: ByteBuffer? = nil, body: StaticBody, route: PathRoute?,
        context: ChannelHandlerContext
    ) {
        let version = self.current?.head?.version == .http1_0 ? HTTPVersion.http1_0 : HTTPVersion.http1_1
        if let http1 = self.http1 {
            let connection = !self.keepAlive ? "close" : version == .http1_0 ? "keep-alive" : nil
            http1.writeHead(
                status: status, version: version, fields: headers, prepared: serializedHeaders, overrides: route?.headers ?? [],
                strictTransportSecurity: self.hsts, connection: connection, allocator: context.channel.allocator)
        } else {
            self.writeHead(status: status, version: version, headers: headers, route: route, context: context)
        }
        self.writeBody(status: status, body: body, context: context)
    }

    private func writeHead(status: Int, version: HTTPVersion, headers: [(String, String)], route: PathRoute?, context: ChannelHandlerContext) {
        var fields = HTTPHeaders()
        fields.reserveCapacity(headers.count + 6)
        fields.add(name: "Server", value: self.generation.serverName)
        fields.add(name: "Date", value: self.date.current())
        for (name, value) in headers where name != Self.errorPageMarker {
            fields.add(name: name, value: value)
        }
        if let route {
            for (name, value) in route.headers { fields.replaceOrAdd(name: name, value: value) }
        }
        if let hsts = self.hsts { fields.replaceOrAdd(name: "Strict-Transport-Security", value: hsts) }
        if !self.keepAlive {
            fields.replaceOrAdd(name: "Connection", value: "close")
        } else if version == .http1_0 {
            fields.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: fields)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
    }

    private func writeBody(status: Int, body: StaticBody, context: ChannelHandlerContext) {
        var sent: Int64 = 0
        var keepAliveUntilWritten: OpenFile?
        switch body {
        case .empty:
            break
        case .bytes(let buffer):
            sent = Int64(buffer.readableBytes)
            self.write(.body(.byteBuffer(buffer)), promise: nil, context: context)
        case .file(let file, let offset, let count):
            sent = count
            keepAliveUntilWritten = file
            let region = FileRegion(fileHandle: file.handle, readerIndex: Int(offset), endIndex: Int(offset + count))
            self.write(.body(.fileRegion(region)), promise: nil, context: context)
        case .parts(let parts):
            for part in parts {
                switch part {
                case .bytes(let buffer):
                    sent += Int64(buffer.readableBytes)
                    self.write(.body(.byteBuffer(buffer)), promise: nil, context: context)
                case .file(let file, let offset, let count):
                    sent += count
                    keepAliveUntilWritten = file
                    let region = FileRegion(fileHandle: file.handle, readerIndex: Int(offset), endIndex: Int(offset + count))
                    self.write(.body(.fileRegion(region)), promise: nil, context: context)
                }
            }
        }

        let close = !self.keepAlive
        if close || keepAliveUntilWritten != nil {
            let written = context.eventLoop.makePromise(of: Void.self)
            self.write(.end(nil), promise: written, context: context)
            self.flush(context: context)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let connectionGuard = self.connectionGuard.map { NIOLoopBound($0, eventLoop: context.eventLoop) }
            written.futureResult.whenComplete { _ in
                // The open file must outlive the sendfile of its region.
                withExtendedLifetime(keepAliveUntilWritten) {}
                if close { if let connectionGuard { connectionGuard.value.progress(.closeAfterDraining) } else { loopBound.value.close(promise: nil) } }
            }
        } else {
            self.write(.end(nil), promise: nil, context: context)
            self.flush(context: context)
        }
        self.progress(.responseComplete, context: context)
        self.logAccess(status: status, bodyBytes: sent)
    }

    /// Straight to the HTTP/1.1 codec below when there is one, else down the pipeline (an
    /// HTTP/2 stream).
    private func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        if let http1 = self.http1 {
            http1.write(part, promise: promise)
        } else {
            context.write(self.wrapOutboundOut(part), promise: promise)
        }
    }

    private func flush(context: ChannelHandlerContext) {
        if let http1 = self.http1 { http1.flush() } else { context.flush() }
    }

    func logAccess(status: Int, bodyBytes: Int64) {
        guard let (head, startedAt, host) = self.current else { return }
        self.current = nil
        self.counters.record(host: host, route: self.routePrefix, status: status, bytes: bodyBytes, since: startedAt)
        guard let log = self.accessLog else { return }
        log.append(AccessRecord(
            remoteAddress: self.remoteAddress,
            startedAt: startedAt,
            wallClock: Date(),
            method: head?.method.rawValue ?? "-",
            uri: head?.uri ?? "-",
            version: head.map { "HTTP/\($0.version.major).\($0.version.minor)" } ?? "-",
            host: host,
            status: status,
            bodyBytes: bodyBytes,
            referer: head?.headers.first(name: "referer"),
            userAgent: head?.headers.first(name: "user-agent")
        ))
    }

    func progress(_ event: ConnectionProgress, context: ChannelHandlerContext) {
        self.connectionGuard?.progress(event)
    }
}
