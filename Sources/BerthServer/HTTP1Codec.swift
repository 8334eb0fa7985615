import BerthStatic
import Glibc
import NIOCore
import NIOHTTP1

/// HTTP/1.1 on one connection, in one handler: requests are parsed (`HTTP1RequestParser`)
/// and handed on one at a time, and responses are serialized.
///
/// - Pipelining: the parts of a request go up as they arrive; the next request waits, in the
///   read buffer, until the response to the one before has ended, so responses leave in order.
///   While one waits, reading from the socket pauses, so a client cannot queue unbounded work.
/// - Writes are coalesced: a head and a small body leave as one buffer, so a small response is
///   one `write(2)`. Bodies of responses whose head says `Transfer-Encoding: chunked` are
///   chunk-coded here; every other framing header is the request handler's to set.
/// - After a response that announces `Connection: close`, nothing more is parsed.
final class HTTP1Codec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    /// Bodies up to this size are copied behind their head rather than written on their own.
    static let coalescingLimit = 16 * 1024

    private var parser: HTTP1RequestParser
    /// Received bytes not parsed yet (nil when none: an idle connection holds no buffer).
    private var unparsed: ByteBuffer?
    /// A request went up and its response has not ended.
    private var responding = false
    /// The last response closes the connection, or the input was malformed.
    private var acceptsRequests = true
    /// The input was malformed: everything after it is dropped.
    private var failed = false
    /// Re-entrancy guard: a response ending inside `deliver` resumes the loop already running.
    private var delivering = false
    /// A `read` held back while a pipelined request waits.
    private var readPending = false

    /// The response being written: serialized bytes not yet handed to the socket.
    private var pending: ByteBuffer?
    private var chunked = false
    private var requestIsHead = false

    /// The request handler right above, called directly instead of through the pipeline (set
    /// by `HTTP1Pipeline`; released when the channel goes, which breaks the reference cycle).
    var requestHandler: HTTPRequestHandler?
    private var context: ChannelHandlerContext?

    /// "Server: …" and "Date: …" lines, rebuilt when the second changes.
    private let serverName: String
    private var commonFields = ByteBuffer()
    private var commonFieldsSecond = -1

    init(limits: ConnectionLimits, serverName: String) {
        self.parser = HTTP1RequestParser(maxHeaderBytes: limits.headerBytes, maxHeaderCount: limits.headerCount, maxHeadBytes: limits.maxHeadBytes)
        self.serverName = serverName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.requestHandler = nil
    }

    // MARK: - Requests

    private func fire(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if let requestHandler = self.requestHandler {
            requestHandler.received(part)
        } else {
            context.fireChannelRead(self.wrapInboundOut(part))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        let incoming = self.unwrapInboundIn(data)
        if self.unparsed == nil {
            self.unparsed = incoming
        } else {
            self.unparsed!.writeImmutableBuffer(incoming)
        }
        self.deliver(context: context)
    }

    /// Hands up every part the buffered bytes hold, stopping at a request boundary while a
    /// response is still being written.
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
                // Nothing after malformed input can be trusted; the request handler answers
                // the error and closes.
                self.failed = true
                self.acceptsRequests = false
                context.fireErrorCaught(error)
                return
            }
            switch part {
            case nil:
                return
            case .head(let head):
                self.responding = true
                self.requestIsHead = head.method == .HEAD
                self.fire(.head(head), context: context)
            case .body(let chunk):
                self.fire(.body(chunk), context: context)
            case .end:
                self.fire(.end(nil), context: context)
            }
        }
    }

    /// The next request is buffered and waits for the response before it: reading more would
    /// only queue. Until one arrives, reading goes on as usual.
    private var waitsForResponse: Bool { self.responding && self.parser.isBetweenRequests && self.unparsed != nil }

    func read(context: ChannelHandlerContext) {
        if self.waitsForResponse {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// The response ended: the next pipelined request may go up, and reading resumes.
    private func responseEnded(context: ChannelHandlerContext) {
        self.responding = false
        if self.delivering { return }
        if self.unparsed != nil {
            // Not from inside this write: the request handler is still finishing the response
            // that ended (logging, timers) and must not see the next request first.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (codec, context) = loopBound.value
                codec.deliver(context: context)
                codec.resumeReading(context: context)
            }
        } else {
            self.resumeReading(context: context)
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        if self.readPending && !self.waitsForResponse {
            self.readPending = false
            context.read()
        }
    }

    // MARK: - Responses

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.write(self.unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// For the request handler above: a write (and flush) without the pipeline dispatch.
    func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?) {
        guard let context = self.context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        self.write(part, context: context, promise: promise)
    }

    func flush() {
        if let context = self.context { self.flush(context: context) }
    }

    private func write(_ part: HTTPServerResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            var out = context.channel.allocator.buffer(capacity: 192 + head.headers.count * 40)
            let closes = Self.serialize(head, into: &out)
            if head.status.code >= 200 {
                // Informational heads (100 Continue) precede the real one.
                let code = head.status.code
                self.chunked = Self.isChunked(head.headers) && !self.requestIsHead && code != 204 && code != 304
                if closes { self.acceptsRequests = false }
            }
            self.append(&out)
            if promise != nil { self.writePending(context: context, promise: promise) }

        case .body(.byteBuffer(var body)):
            if self.chunked {
                guard body.readableBytes > 0 else {
                    // An empty chunk would read as the last one.
                    if promise != nil { self.writePending(context: context, promise: promise) }
                    return
                }
                var frame = context.channel.allocator.buffer(capacity: body.readableBytes + 16)
                frame.writeString(String(body.readableBytes, radix: 16))
                frame.writeStaticString("\r\n")
                frame.writeBuffer(&body)
                frame.writeStaticString("\r\n")
                self.append(&frame)
            } else if self.pending != nil && body.readableBytes <= Self.coalescingLimit {
                self.pending!.writeBuffer(&body)
            } else {
                self.writePending(context: context, promise: nil)
                context.write(self.wrapOutboundOut(.byteBuffer(body)), promise: promise)
                return
            }
            if promise != nil { self.writePending(context: context, promise: promise) }

        case .body(.fileRegion(let region)):
            if self.chunked {
                var size = context.channel.allocator.buffer(capacity: 16)
                size.writeString(String(region.readableBytes, radix: 16))
                size.writeStaticString("\r\n")
                self.append(&size)
            }
            self.writePending(context: context, promise: nil)
            context.write(self.wrapOutboundOut(.fileRegion(region)), promise: promise)
            if self.chunked {
                var end = context.channel.allocator.buffer(capacity: 2)
                end.writeStaticString("\r\n")
                self.append(&end)
            }

        case .end:
            if self.chunked {
                var last = context.channel.allocator.buffer(capacity: 5)
                last.writeStaticString("0\r\n\r\n")
                self.append(&last)
                self.chunked = false
            }
            self.writePending(context: context, promise: promise)
            self.responseEnded(context: context)
        }
    }

    /// A response head written without building an `HTTPResponseHead`: status line, Server
    /// and Date, the handler's `fields` (or the same `prepared` as lines, a hot static file's),
    /// the route's `overrides` (replacing fields of the same name), then HSTS and Connection
    /// when given (replacing those too). The body and end follow as ordinary writes. Called by
    /// the request handler of this connection, on its event loop.
    func writeHead(
        status: Int, version: HTTPVersion, fields: [(String, String)], prepared: ByteBuffer?, overrides: [(String, String)],
        strictTransportSecurity: String?, connection: String?, allocator: ByteBufferAllocator
    ) {
        var out = allocator.buffer(capacity: 192 + (prepared?.readableBytes ?? fields.count * 48))
        if status == 200 && version.minor == 1 {
            out.writeStaticString("HTTP/1.1 200 OK\r\n")
        } else {
            Self.writeStatusLine(status: HTTPResponseStatus(statusCode: status), version: version, into: &out)
        }
        let second = time(nil)
        if second != self.commonFieldsSecond {
            self.commonFieldsSecond = second
            self.commonFields.clear()
            self.commonFields.writeStaticString("Server: ")
            self.commonFields.writeString(self.serverName)
            self.commonFields.writeStaticString("\r\nDate: ")
            self.commonFields.writeString(HTTPDate.format(second))
            self.commonFields.writeStaticString("\r\n")
        }
        out.writeImmutableBuffer(self.commonFields)
        if let prepared, overrides.isEmpty {
            out.writeImmutableBuffer(prepared)
        } else {
            for (name, value) in fields {
                if name.utf8.count == HTTPRequestHandler.errorPageMarker.utf8.count && name == HTTPRequestHandler.errorPageMarker { continue }
                if strictTransportSecurity != nil && name.caseInsensitiveEquals("strict-transport-security") { continue }
                if connection != nil && name.caseInsensitiveEquals("connection") { continue }
                if !overrides.isEmpty && overrides.contains(where: { $0.0.lowercased() == name.lowercased() }) { continue }
                Self.writeField(name, value, into: &out)
            }
            for (name, value) in overrides { Self.writeField(name, value, into: &out) }
        }
        if let strictTransportSecurity { Self.writeField("Strict-Transport-Security", strictTransportSecurity, into: &out) }
        if let connection {
            Self.writeField("Connection", connection, into: &out)
            if connection == "close" { self.acceptsRequests = false }
        } else if version.minor == 0 {
            self.acceptsRequests = false
        }
        out.writeStaticString("\r\n")
        self.chunked = false
        self.append(&out)
    }

    private static func writeField(_ name: String, _ value: String, into out: inout ByteBuffer) {
        out.writeString(name)
        out.writeStaticString(": ")
        out.writeString(value)
        out.writeStaticString("\r\n")
    }

    func flush(context: ChannelHandlerContext) {
        self.writePending(context: context, promise: nil)
        context.flush()
    }

    private func append(_ bytes: inout ByteBuffer) {
        if self.pending == nil {
            self.pending = bytes
        } else {
            self.pending!.writeBuffer(&bytes)
        }
    }

    private func writePending(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let bytes = self.pending {
            self.pending = nil
            context.write(self.wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        } else if let promise {
            // Writes complete in order: an empty one completes once everything before it has.
            context.write(self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
        }
    }

    /// Status line and fields. Returns whether the response ends the connection: it says
    /// `Connection: close`, or it is HTTP/1.0 without `keep-alive`.
    static func serialize(_ head: HTTPResponseHead, into out: inout ByteBuffer) -> Bool {
        Self.writeStatusLine(status: head.status, version: head.version, into: &out)
        var close = false
        var keepAlive = false
        for (name, value) in head.headers {
            Self.writeField(name, value, into: &out)
            if name.utf8.count == 10 && name.caseInsensitiveEquals("connection") {
                let lower = value.lowercased()
                if lower.contains("close") { close = true }
                if lower.contains("keep-alive") { keepAlive = true }
            }
        }
        out.writeStaticString("\r\n")
        return close || (head.version.minor == 0 && !keepAlive)
    }

    private static func writeStatusLine(status: HTTPResponseStatus, version: HTTPVersion, into out: inout ByteBuffer) {
        out.writeStaticString(version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
    }

    private static func isChunked(_ headers: HTTPHeaders) -> Bool {
        for (name, value) in headers where name.utf8.count == 17 && name.caseInsensitiveEquals("transfer-encoding") {
            return value.lowercased().contains("chunked")
        }
        return false
    }
}
