@_spi(BerthServer) import BerthApp
import Logging
import NIOCore
import NIOWebSocket

/// What an accepted handshake hands the connection: the app's code and its limits.
struct WebSocketSession {
    let handler: @Sendable (WebSocket) async throws -> Void
    let maxMessage: Int
    let idleTimeout: TimeAmount
    let logger: Logger
    /// For log lines: the app and the route.
    let appName: String
    let route: String
}

/// A server-initiated close (RFC 6455 §7.4.1, 1001) a draining worker sends its WebSocket
/// connections once `websocket_drain` has passed.
struct WebSocketGoingAway: Sendable {}

/// One WebSocket connection on its channel, between NIO's frame decoder and encoder: carries
/// out what `WebSocketState` decides, runs the app's handler in a task, and keeps both
/// directions bounded.
///
/// - Inbound: whole messages go to a `WebSocketInbox`; while it is full, reading from the
///   socket pauses, so a slow app holds a few messages, not whatever the client sends.
/// - Outbound: the app's `send` queues its frame for the loop and returns at once while the
///   connection keeps up; it waits while the channel is over its high-water mark or the queue
///   is full (`WebSocketOutbox`), so an app writing faster than the client reads waits instead
///   of filling memory. The frames queued in one tick leave with one flush.
/// - Idle: no frame either way for `idleTimeout` closes with 1001; a close of ours the client
///   does not answer within `closeReplyTime` ends the connection.
/// - A graceful stop (`ChannelShouldQuiesceEvent`) leaves the connection open: it closes when
///   the client or the app closes it, or at `WebSocketGoingAway`.
final class WebSocketConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let closeReplyTime = TimeAmount.seconds(5)
    /// Messages the app may leave untaken before reading pauses.
    static let inboxLimit = 16

    private var state: WebSocketState
    private let session: WebSocketSession
    private var context: ChannelHandlerContext?
    private var inbox: WebSocketInbox?
    private var appTask: Task<Void, Never>?
    private var readingPaused = false
    private var readPending = false
    /// The app's sends: queued frames, and whether a send must wait.
    private var outbox: WebSocketOutbox?
    /// A flush is queued behind the frames written in this tick.
    private var flushScheduled = false
    private var lastActivity = NIODeadline.now()
    /// The channel's allocator, taken once: asking the channel for it costs reference counting
    /// on every frame.
    private var allocator = ByteBufferAllocator()
    private var idleTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?

    init(session: WebSocketSession) {
        self.session = session
        self.state = WebSocketState(maxMessage: session.maxMessage)
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.allocator = context.channel.allocator
        let loop = context.eventLoop
        let connection = NIOLoopBound(self, eventLoop: loop)
        let inbox = WebSocketInbox(limit: Self.inboxLimit) {
            loop.execute { connection.value.resumeReading() }
        }
        self.inbox = inbox
        let outbox = WebSocketOutbox(writable: context.channel.isWritable)
        self.outbox = outbox
        let socket = WebSocket(transport: WebSocketLink(connection: connection, eventLoop: loop, outbox: outbox), inbox: inbox)
        let handler = self.session.handler
        self.appTask = Task {
            PoolPriority.lowerThisThread()
            let failure: (any Error)?
            do {
                try await handler(socket)
                failure = nil
            } catch {
                failure = error
            }
            loop.execute { connection.value.appFinished(failure) }
        }
        self.lastActivity = loop.now
        self.armIdleTimer(at: loop.now + self.session.idleTimeout)
        // The HTTP/1.1 handler before us may have held a read back while the handshake was
        // answered.
        context.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.ended()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.ended()
        context.fireChannelInactive()
    }

    /// The connection is gone: the app's messages end, its waiting sends fail, and its task is
    /// cancelled (nothing it does can reach the client any more).
    private func ended() {
        _ = self.state.inputEnded()
        self.idleTimer?.cancel()
        self.idleTimer = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
        // The inbox's demand callback holds this handler: let go of it, or neither is freed.
        self.inbox?.finish()
        self.inbox = nil
        self.outbox?.close()
        self.appTask?.cancel()
        self.appTask = nil
    }

    // MARK: - From the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = context.eventLoop.now
        self.perform(self.state.received(self.unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let decoding = error as? NIOWebSocketError {
            self.perform(self.state.decodingFailed(tooLarge: decoding == .invalidFrameLength))
        } else {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            // A reload or stop: WebSockets stay until they close or the drain bound passes.
            return
        case is WebSocketGoingAway:
            self.perform(self.state.close(code: .goingAway, reason: "server going away"))
        case let event as ChannelEvent where event == .inputClosed:
            self.perform(self.state.inputEnded())
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Reading, with backpressure

    func read(context: ChannelHandlerContext) {
        if self.readingPaused {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private func resumeReading() {
        self.readingPaused = false
        if self.readPending, let context {
            self.readPending = false
            context.read()
        }
    }

    // MARK: - From the app

    /// Writes a message the app queued (`bytes` as the outbox counted it); a message queued
    /// while the connection closed is dropped, as it would have been on the wire.
    fileprivate func send(_ message: WebSocketMessage, bytes: Int) {
        defer { self.outbox?.written(bytes) }
        guard let context, self.state.acceptsMessages else { return }
        let frame: WebSocketFrame
        switch message {
        case .text(let text):
            frame = WebSocketFrame(fin: true, opcode: .text, data: self.allocator.buffer(string: text))
        case .binary(let bytes):
            frame = WebSocketFrame(fin: true, opcode: .binary, data: self.allocator.buffer(bytes: bytes))
        }
        self.lastActivity = context.eventLoop.now
        context.write(self.wrapOutboundOut(frame), promise: nil)
        self.scheduleFlush(context: context)
    }

    /// One flush for the frames written in this tick, after the tasks already queued (the
    /// app's other sends among them): one `writev` for a burst rather than one per frame.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let connection = connection.value
            connection.flushScheduled = false
            connection.context?.flush()
        }
    }

    fileprivate func close(code: WebSocketCloseCode, reason: String) {
        self.perform(self.state.close(code: code, reason: reason))
    }

    /// The app's handler returned (1000) or threw (1011, and a log line).
    private func appFinished(_ failure: (any Error)?) {
        self.appTask = nil
        if let failure, !(failure is CancellationError), failure as? WebSocketError != .closed {
            self.session.logger.error("app failed on a WebSocket", metadata: [
                "app.name": "\(self.session.appName)", "http.route": "\(self.session.route)", "error": "\(failure)",
            ])
            self.perform(self.state.close(code: .internalError, reason: ""))
        } else {
            self.perform(self.state.close(code: .normalClosure, reason: ""))
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.outbox?.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Actions

    private func perform(_ action: WebSocketState.Action) {
        guard let context else { return }
        // Once closing, the app's sends throw rather than vanish.
        if !self.state.acceptsMessages { self.outbox?.close() }
        switch action {
        case .none:
            break
        case .deliver(let message):
            if self.inbox?.deliver(message) == false { self.readingPaused = true }
        case .pong(let data):
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: data)), promise: nil)
        case .sendClose(let code, let reason, let thenClose):
            var payload = self.allocator.buffer(capacity: 2 + reason.utf8.count)
            payload.writeInteger(code)
            payload.writeString(reason)
            let written = context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)))
            if thenClose {
                // RFC 6455 §7.1.1: the server closes the TCP connection first.
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            } else {
                self.armCloseTimer(context: context)
            }
        case .closeConnection:
            context.close(promise: nil)
        }
    }

    private func armCloseTimer(context: ChannelHandlerContext) {
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.closeTimer = context.eventLoop.scheduleTask(in: Self.closeReplyTime) {
            connection.value.perform(connection.value.state.closeReplyTimedOut())
        }
    }

    /// One timer for the idle bound: activity moves `lastActivity`, and the timer re-arms for
    /// the rest when it fires early, so a busy connection costs no rescheduling per frame.
    private func armIdleTimer(at deadline: NIODeadline) {
        guard let context else { return }
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            connection.value.idleTimerFired()
        }
    }

    private func idleTimerFired() {
        guard let context, self.state.phase == .open else { return }
        let due = self.lastActivity + self.session.idleTimeout
        if due > context.eventLoop.now {
            self.armIdleTimer(at: due)
            return
        }
        self.perform(self.state.close(code: .goingAway, reason: "idle timeout"))
    }
}

/// The app's handle on the connection: sends are queued for the connection's event loop
/// (`WebSocketOutbox` says when to wait); a close hops there.
private struct WebSocketLink: WebSocketTransport {
    let connection: NIOLoopBound<WebSocketConnection>
    let eventLoop: EventLoop
    let outbox: WebSocketOutbox

    func send(_ message: WebSocketMessage) async throws {
        let bytes: Int
        switch message {
        case .text(let text): bytes = text.utf8.count
        case .binary(let data): bytes = data.count
        }
        try self.outbox.enqueue(bytes)
        let connection = self.connection
        self.eventLoop.execute { connection.value.send(message, bytes: bytes) }
        try await self.outbox.waitUntilCaughtUp()
    }

    func close(code: WebSocketCloseCode, reason: String) async {
        try? await self.eventLoop.submit { self.connection.value.close(code: code, reason: reason) }.get()
    }
}

/// The handlers of a connection that switched to WebSocket: NIO's frame decoder (frames up to
/// the app's `max_message`; a longer one is refused before its payload is read) and encoder,
/// then the connection.
enum WebSocketPipeline {
    static func handlers(for session: WebSocketSession) -> [ChannelHandler] {
        [
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: session.maxMessage)),
            WebSocketFrameEncoder(),
            WebSocketConnection(session: session),
        ]
    }
}
