@_spi(BerthServer) import BerthApp
@_spi(BerthServer) import BerthAppLoader
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

    public init(name: String, app: LoadedApp, requestTimeout: Duration, logger: Logger) {
        self.name = name
        self.app = app
        self.requestTimeout = TimeAmount(requestTimeout)
        self.logger = logger
    }

    /// Runs the app's shutdown hook (a draining worker closes files and connections).
    public func stop() async {
        await self.app.stop()
    }
}

/// One request being answered by an app: feeds the request body to the app's stream and
/// makes sure exactly one answer is written — the app's, a 504 when it is too slow, or a
/// 413 when the body outgrows the limit. Lives on the connection's event loop.
final class AppExchange {
    let source: RequestBodySource?
    /// The app's task; cancelled when the client goes away or the answer is no longer wanted.
    var task: Task<Void, Never>?
    var timeout: Scheduled<Void>?
    /// Set once the response (any response) started: later answers are dropped.
    var answered = false

    init(source: RequestBodySource?) {
        self.source = source
    }

    func receivedBody(_ chunk: ByteBuffer) {
        // The body is bounded by `body_bytes`, so buffering what the app has not read yet is
        // bounded too.
        _ = self.source?.yield(Array(chunk.readableBytesView))
    }

    func receivedEnd() {
        self.source?.finish()
    }

    func bodyTooLarge() {
        self.source?.fail(RequestBodyError.tooLarge(limit: 0))
    }

    func connectionClosed() {
        self.source?.fail(CancellationError())
        self.task?.cancel()
        self.timeout?.cancel()
        self.answered = true
    }

    /// The response is out: an unread body must not hold the connection.
    func finished() {
        self.timeout?.cancel()
        self.source?.discardRemaining()
    }
}

extension HTTPRequestHandler {
    func startApp(
        _ endpoint: AppEndpoint, head: HTTPRequestHead, accepted: RequestHeadCheck.Accepted,
        host: VirtualHost, route: PathRoute, context: ChannelHandlerContext
    ) {
        self.progress(.requestHeadReceived(expectsBody: accepted.expectsBody), context: context)
        if accepted.expectsContinue {
            // The app will read the body: tell the client to send it (RFC 9110 §10.1.1).
            context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }

        let body: RequestBody
        let source: RequestBodySource?
        if accepted.expectsBody {
            let stream = RequestBody.stream(onDemand: {})
            body = stream.body
            source = stream.source
        } else {
            body = RequestBody(bytes: [])
            source = nil
        }
        let exchange = AppExchange(source: source)
        self.unansweredApp = exchange
        self.state = accepted.expectsBody ? .streamingToApp(exchange) : .discardingBody

        let request = Request(
            method: Request.Method(rawValue: head.method.rawValue),
            path: PercentEncoding.encodePath(accepted.target.path),
            queryString: accepted.target.query ?? "",
            headers: Headers(trustedFields: head.headers.map { (name: $0.name, value: $0.value) }),
            remoteAddress: self.remoteAddress == "-" ? nil : self.remoteAddress,
            host: host.name,
            body: body
        )
        let app = endpoint.app
        let loop = context.eventLoop
        let loopBound = NIOLoopBound((self, context, exchange), eventLoop: loop)
        exchange.timeout = loop.scheduleTask(in: endpoint.requestTimeout) {
            let (handler, context, exchange) = loopBound.value
            guard !exchange.answered else { return }
            exchange.answered = true
            exchange.task?.cancel()
            endpoint.logger.error(
                "app did not answer in time",
                metadata: ["app.name": "\(endpoint.name)", "http.host": "\(host.name)", "http.route": "\(route.prefix)"])
            handler.finishAppExchange(exchange, context: context)
            handler.sendError(.gatewayTimeout, route: route, context: context)
        }
        // One task per request: the app's answer, then back to the connection's event loop.
        exchange.task = Task {
            let outcome = await app.respond(to: request)
            loop.execute {
                let (handler, context, exchange) = loopBound.value
                guard !exchange.answered else { return }
                exchange.answered = true
                handler.finishAppExchange(exchange, context: context)
                if let error = outcome.error {
                    endpoint.logger.error(
                        "app failed",
                        metadata: [
                            "app.name": "\(endpoint.name)", "http.host": "\(host.name)",
                            "http.route": "\(outcome.route ?? route.prefix)", "error": "\(error)",
                        ])
                }
                handler.writeAppResponse(outcome.response, endpoint: endpoint, route: route, context: context)
            }
        }
    }

    private func finishAppExchange(_ exchange: AppExchange, context: ChannelHandlerContext) {
        exchange.finished()
        if self.unansweredApp === exchange { self.unansweredApp = nil }
        // A body still arriving is read and dropped; past the end the next request starts.
        if case .streamingToApp = self.state { self.state = .discardingBody }
    }

    /// Writes what the app answered. Framing (Content-Length, Transfer-Encoding, Connection)
    /// is the server's: the app's values for those are dropped, and a header that could
    /// split the response (CR, LF, other control bytes) never reaches the wire.
    func writeAppResponse(_ response: Response, endpoint: AppEndpoint, route: PathRoute, context: ChannelHandlerContext) {
        var headers: [(String, String)] = []
        headers.reserveCapacity(response.headers.count + 2)
        for field in response.headers {
            let lower = field.name.lowercased()
            if lower == "content-length" || lower == "transfer-encoding" || lower == "connection" { continue }
            guard AppHeaderCheck.isSafe(name: field.name, value: field.value) else {
                endpoint.logger.error(
                    "app set an unsafe header", metadata: ["app.name": "\(endpoint.name)", "http.header": "\(field.name)"])
                self.sendError(.internalServerError, route: route, context: context)
                return
            }
            headers.append((field.name, field.value))
        }
        let status = response.status.code
        switch response.body {
        case .empty:
            if status != 204 && status != 304 { headers.append(("Content-Length", "0")) }
            self.send(status: status, headers: headers, body: .empty, route: route, context: context)
        case .bytes(let bytes):
            headers.append(("Content-Length", String(bytes.count)))
            let body: StaticBody = self.isHead ? .empty : .bytes(context.channel.allocator.buffer(bytes: bytes))
            self.send(status: status, headers: headers, body: body, route: route, context: context)
        case .file(let path):
            self.writeAppFile(path, status: status, headers: headers, route: route, context: context)
        case .stream(let produce):
            self.writeAppStream(produce, status: status, headers: headers, endpoint: endpoint, route: route, context: context)
        @unknown default:
            self.sendError(.internalServerError, route: route, context: context)
        }
    }

    /// A file named by the app is served like a static file (ranges, conditional requests,
    /// sendfile), through a site rooted at the file's folder.
    private func writeAppFile(_ path: String, status: Int, headers: [(String, String)], route: PathRoute, context: ChannelHandlerContext) {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
            self.sendError(.internalServerError, route: route, context: context)
            return
        }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        var options = StaticSiteOptions(root: directory)
        options.dotfiles = true
        options.symlinksOutsideRoot = true
        options.precompressed = false
        guard let site = try? StaticSite(options: options), let head = self.current?.head else {
            self.sendError(.notFound, route: route, context: context)
            return
        }
        let request = StaticRequest(
            method: self.isHead ? "HEAD" : "GET", path: String(path[slash...]), originalPath: String(path[slash...]),
            query: nil, headers: StaticRequestHeaders(head.headers))
        switch site.respond(to: request) {
        case .notFound:
            self.sendError(.notFound, route: route, context: context)
        case .response(let fileResponse):
            var merged = fileResponse.headers
            // The app's own headers win (say, its Content-Type or Cache-Control).
            for (name, value) in headers {
                merged.removeAll { $0.0.lowercased() == name.lowercased() }
                merged.append((name, value))
            }
            let finalStatus = fileResponse.status == 200 ? status : fileResponse.status
            self.send(status: finalStatus, headers: merged, body: fileResponse.body, route: route, context: context)
        }
    }

    /// A streamed body goes out chunked (HTTP/1.1) as the app writes it; each write waits
    /// until the socket took the previous one, so a fast app cannot flood memory.
    private func writeAppStream(
        _ produce: @escaping @Sendable (ResponseBodyWriter) async throws -> Void, status: Int, headers: [(String, String)],
        endpoint: AppEndpoint, route: PathRoute, context: ChannelHandlerContext
    ) {
        if self.isHead {
            self.send(status: status, headers: headers, body: .empty, route: route, context: context)
            return
        }
        let version = self.current?.head?.version ?? .http1_1
        var fields = HTTPHeaders()
        fields.add(name: "Server", value: self.generation.serverName)
        fields.add(name: "Date", value: self.date.current())
        for (name, value) in headers { fields.add(name: name, value: value) }
        for (name, value) in route.headers { fields.replaceOrAdd(name: name, value: value) }
        if let hsts = self.hsts { fields.replaceOrAdd(name: "Strict-Transport-Security", value: hsts) }
        if version == .http1_0 {
            // No chunked coding in HTTP/1.0: the end of the body is the end of the connection.
            self.keepAlive = false
            fields.replaceOrAdd(name: "Connection", value: "close")
        } else {
            fields.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            if !self.keepAlive { fields.replaceOrAdd(name: "Connection", value: "close") }
        }
        self.responseInProgress = true
        context.writeAndFlush(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: fields))),
            promise: nil)

        let loop = context.eventLoop
        let loopBound = NIOLoopBound((self, context), eventLoop: loop)
        let sent = SentBytes()
        let writer = ResponseBodyWriter { bytes in
            guard !bytes.isEmpty else { return }
            sent.count.withLock { $0 += Int64(bytes.count) }
            try await loop.flatSubmit { () -> EventLoopFuture<Void> in
                let (handler, context) = loopBound.value
                guard context.channel.isActive else { return loop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))))
            }.get()
        }
        Task {
            var failure: Error?
            do { try await produce(writer) } catch { failure = error }
            loop.execute {
                let (handler, context) = loopBound.value
                if let failure {
                    // Mid-body there is no way to send an error status: log and cut the
                    // connection, so the client sees an incomplete response, not a short one.
                    endpoint.logger.error(
                        "app failed while streaming a response",
                        metadata: ["app.name": "\(endpoint.name)", "http.route": "\(route.prefix)", "error": "\(failure)"])
                    context.close(promise: nil)
                    return
                }
                handler.responseInProgress = false
                let close = !handler.keepAlive
                let connectionGuard = handler.connectionGuard.map { NIOLoopBound($0, eventLoop: loop) }
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if close {
                        if let connectionGuard { connectionGuard.value.progress(.closeAfterDraining) } else { loopBound.value.1.close(promise: nil) }
                    }
                }
                handler.progress(.responseComplete, context: context)
                handler.logAccess(status: status, bodyBytes: sent.count.withLock { $0 })
            }
        }
    }
}

/// The body bytes a streamed response wrote, for the access log.
private final class SentBytes: Sendable {
    let count = Mutex<Int64>(0)
}

/// RFC 9110 §5.1/§5.5: a field name is a token, a value has no CR, LF or NUL (and no other
/// control bytes but tab). Anything else from an app would let it forge headers.
enum AppHeaderCheck {
    static func isSafe(name: String, value: String) -> Bool {
        guard !name.isEmpty else { return false }
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
                UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                continue
            default:
                return false
            }
        }
        return value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
