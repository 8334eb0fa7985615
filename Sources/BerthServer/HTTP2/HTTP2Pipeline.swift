import NIOCore
import NIOHTTP2

/// The pipeline of an HTTP/2 connection (RFC 9113), once ALPN chose `h2`:
///
///     NIOHTTP2Handler (frames, flow control, HPACK, stream limits, flood protection)
///       → graceful shutdown (two-step GOAWAY) → idle timeout
///       each stream: limits and timeouts → HTTP/2 ⇄ HTTP/1 messages → HTTPRequestHandler
///
/// Every stream is answered by the same `HTTPRequestHandler` as an HTTP/1.1 request, so static
/// files, apps, redirects, errors and the access log behave identically on both protocols.
enum HTTP2Pipeline {
    /// SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2), so one connection cannot pin
    /// unbounded work. A client that opens more at once anyway gets GOAWAY with PROTOCOL_ERROR
    /// from NIOHTTP2: stricter than the stream error §5.1.2 asks for, and only ever seen by a
    /// client that ignored the setting.
    static let maxConcurrentStreams = 100

    /// The hard cap on a request's field block, advertised as SETTINGS_MAX_HEADER_LIST_SIZE
    /// (RFC 9113 §6.5.2, which counts 32 bytes of overhead per field). It sits well above
    /// `header_bytes`, so that a request somewhat over the limit gets the same 431 as over
    /// HTTP/1.1 from `HTTP2StreamGuard`, while a field block beyond the cap never gets decoded
    /// into memory at all (a connection error).
    static func maxHeaderListSize(_ limits: ConnectionLimits) -> Int {
        2 * (limits.headerBytes + limits.uriBytes) + 32 * (limits.headerCount + 8)
    }

    static func configure(channel: Channel, generation: SiteGeneration) throws {
        let limits = generation.limits
        let sync = channel.pipeline.syncOperations

        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: Self.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: Self.maxHeaderListSize(limits)),
        ]
        // Flood protection (the "rapid reset" attack, CVE-2023-44487, and its relatives): a peer
        // that resets streams, causes stream errors or sends PING/SETTINGS/PRIORITY frames
        // faster than this, or piles up protocol "glitches", gets GOAWAY with ENHANCE_YOUR_CALM
        // (RFC 9113 §7) and loses the connection; other connections are unaffected.
        connection.controlFrameRateLimit.maximumCount = 200
        connection.controlFrameRateLimit.windowLength = .seconds(30)
        connection.maximumConnectionGlitches = 200
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.streamResetFrameRateLimit.maximumCount = 200
        stream.streamResetFrameRateLimit.windowLength = .seconds(30)
        stream.streamErrorRateLimit.maximumCount = 200
        stream.streamErrorRateLimit.windowLength = .seconds(30)

        // A graceful stop (ChannelShouldQuiesceEvent) sends GOAWAY with the highest stream ID,
        // then a PING; once acknowledged, a second GOAWAY names the last stream really opened
        // and the connection closes when those streams are done (RFC 9113 §6.8).
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: nil, keepalive: nil)
        )
        let idleGuard = HTTP2IdleGuard(idleTimeout: limits.idleTimeout)
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: connection,
            streamConfiguration: stream,
            streamDelegate: HTTP2StreamEvents(
                idleGuard: NIOLoopBound(idleGuard, eventLoop: channel.eventLoop),
                management: management.http2StreamDelegate
            )
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let streamSync = streamChannel.pipeline.syncOperations
                try streamSync.addHandler(HTTP2StreamGuard(limits: limits))
                try streamSync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try streamSync.addHandler(HTTP2StreamExchange(generation: generation, eventLoop: streamChannel.eventLoop))
                try streamSync.addHandler(HTTP2StreamErrorHandler())
            }
        }
        try sync.addHandler(management)
        try sync.addHandler(idleGuard)
    }
}

/// Streams opening and closing, for the connection-level handlers: the multiplexer reports them
/// to one delegate rather than down the pipeline. Called on the connection's event loop.
struct HTTP2StreamEvents: NIOHTTP2StreamDelegate {
    let idleGuard: NIOLoopBound<HTTP2IdleGuard>
    let management: NIOHTTP2ServerConnectionManagementHandler.HTTP2StreamDelegate

    func streamCreated(_ id: HTTP2StreamID, channel: Channel) {
        self.management.streamCreated(id, channel: channel)
        self.idleGuard.value.streamCreated(id)
    }

    func streamClosed(_ id: HTTP2StreamID, channel: Channel) {
        self.management.streamClosed(id, channel: channel)
        self.idleGuard.value.streamClosed(id)
    }
}

/// Closes an HTTP/2 connection that has had no open stream for `idle_timeout`, with a GOAWAY
/// first (RFC 9113 §9.1: "the terminating endpoint SHOULD first send a GOAWAY frame"). The
/// timer runs from the start, so a client that never sends its preface or a complete request
/// (a field block trickled in CONTINUATION frames) is closed too.
final class HTTP2IdleGuard: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    private let idleTimeout: TimeAmount
    private var openStreams = Set<HTTP2StreamID>()
    private var lastStreamID = HTTP2StreamID.rootStream
    private var timer: Scheduled<Void>?
    private var timerGeneration = 0
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.arm(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func streamCreated(_ id: HTTP2StreamID) {
        self.openStreams.insert(id)
        if id > self.lastStreamID { self.lastStreamID = id }
        self.timer?.cancel()
        self.timer = nil
    }

    func streamClosed(_ id: HTTP2StreamID) {
        self.openStreams.remove(id)
        if self.openStreams.isEmpty, let context = self.context { self.arm(context: context) }
    }

    private func arm(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timerGeneration &+= 1
        let generation = self.timerGeneration
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: self.idleTimeout) {
            let (handler, context) = loopBound.value
            guard handler.timerGeneration == generation, handler.openStreams.isEmpty else { return }
            let goAway = HTTP2Frame(
                streamID: .rootStream,
                payload: .goAway(lastStreamID: handler.lastStreamID, errorCode: .noError, opaqueData: nil)
            )
            context.writeAndFlush(NIOAny(goAway)).whenComplete { _ in
                loopBound.value.1.close(promise: nil)
            }
        }
    }
}
