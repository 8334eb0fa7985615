import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// The limits and timeouts of an HTTP/1.1 connection, applied to one HTTP/2 stream. Sits at the
/// head of the stream's pipeline, below the HTTP/2 ⇄ HTTP/1 codec, so it sees frames and needs
/// nothing from the handlers above:
///
/// - A field block over `header_bytes` or `header_count` is answered 431, as over HTTP/1.1
///   (NIOHTTP2 has already bounded it by SETTINGS_MAX_HEADER_LIST_SIZE).
/// - A request body beyond `body_bytes` is answered 413 (a declared Content-Length over the
///   limit already is, by `RequestHeadCheck`), or reset if a response has started.
/// - `body_timeout` runs between the DATA frames of a request body; expiry answers 408 when no
///   response has started, and ends the stream either way.
/// - Once the response is sent while the request body is still coming, RST_STREAM with
///   NO_ERROR asks the client to stop sending (RFC 9113 §8.1): what an HTTP/1.1 connection
///   does by closing, for this stream alone. The connection and its other streams carry on.
final class HTTP2StreamGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let limits: ConnectionLimits
    private var sawHead = false
    private var requestEnded = false
    private var bodyBytes = 0
    private var responseStarted = false
    /// The frame ending the response has left for the connection (flow control may hold it
    /// back for a while): a reset from then on cannot cut the response short.
    private var responseSent = false
    /// This handler answered (431, 413, 408) or gave up; the rest of the request is dropped.
    private var answered = false
    private var timer: Scheduled<Void>?
    /// When the body timeout expires; nil while none runs.
    private var deadline: NIODeadline?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    // MARK: - Request frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.answered else { return }
        switch self.unwrapInboundIn(data) {
        case .headers(let headers):
            if headers.endStream { self.requestEnded = true }
            self.sawHead = true
        case .data(let payload):
            if payload.endStream { self.requestEnded = true }
            self.bodyBytes += payload.data.readableBytes
            if self.bodyBytes > self.limits.bodyBytes {
                self.giveUp(.payloadTooLarge, context: context)
                return
            }
        default:
            break
        }
        if self.requestEnded || self.responseSent {
            self.deadline = nil
        } else {
            self.arm(context: context)
        }
        context.fireChannelRead(data)
    }

    // MARK: - Response frames

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var endsResponse = false
        switch self.unwrapOutboundIn(data) {
        case .headers(let headers):
            if let status = headers.headers.first(name: ":status"), !status.hasPrefix("1") { self.responseStarted = true }
            endsResponse = headers.endStream
        case .data(let payload):
            endsResponse = payload.endStream
        default:
            break
        }
        guard endsResponse else {
            context.write(data, promise: promise)
            return
        }
        let promise = promise ?? context.eventLoop.makePromise()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess {
            let (handler, context) = loopBound.value
            handler.responseSent = true
            handler.timer?.cancel()
            handler.timer = nil
            if !handler.requestEnded { handler.reset(.noError, context: context) }
        }
        context.write(data, promise: promise)
    }

    // MARK: - Ending the stream

    private func reset(_ code: HTTP2ErrorCode, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        context.writeAndFlush(self.wrapOutboundOut(.rstStream(code)), promise: nil)
    }

    /// Answers `status` when no response has started yet; otherwise the response in progress
    /// cannot be completed and the stream is reset.
    private func giveUp(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        if self.responseStarted {
            self.answered = true
            self.timer?.cancel()
            self.timer = nil
            self.reset(.cancel, context: context)
        } else {
            self.answer(status, context: context)
        }
    }

    /// A complete, small response from this handler; the request handler above has not seen
    /// the request, or waits for a body it will now never get (the reset closes it).
    private func answer(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        self.answered = true
        self.timer?.cancel()
        self.timer = nil
        let body = "\(status.code) \(status.reasonPhrase)\n"
        let headers: HPACKHeaders = [
            ":status": String(status.code),
            "content-type": "text/plain; charset=utf-8",
            "content-length": String(body.utf8.count),
        ]
        self.write(context: context, data: self.wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        let data = HTTP2Frame.FramePayload.Data(data: .byteBuffer(context.channel.allocator.buffer(string: body)), endStream: true)
        self.write(context: context, data: self.wrapOutboundOut(.data(data)), promise: nil)
        context.flush()
    }

    /// Moves the body deadline; the scheduled task only moves when it would fire too late, so
    /// a stream of DATA frames costs an assignment per frame, not a reschedule.
    private func arm(context: ChannelHandlerContext) {
        let deadline = NIODeadline.now() + self.limits.bodyTimeout
        self.deadline = deadline
        if self.timer == nil { self.schedule(at: deadline, context: context) }
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let deadline = handler.deadline else { return }
            if deadline > .now() {
                handler.schedule(at: deadline, context: context)
                return
            }
            guard !handler.answered, !handler.requestEnded, !handler.responseSent else { return }
            handler.giveUp(.requestTimeout, context: context)
        }
    }
}

/// The last handler of a stream: an error nothing above handled ends this stream (closing a
/// stream channel that is still open sends RST_STREAM), never the connection.
final class HTTP2StreamErrorHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
