import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// The pipeline of a connection on a `tls` listener:
///
///     SNI → TLS (the certificate for that name) → handshake timeout
///         → ALPN → HTTP/2 (`h2`) or HTTP/1.1 (`http/1.1`, or no ALPN at all)
///
/// The HTTP/1.1 handlers behind ALPN are exactly those of a plain connection. The first
/// HTTP/1.1 response sent from a file puts a `FileRegionReader` right above TLS
/// (`addFileRegionReader`): until then, every write goes to TLS without passing it. (HTTP/2
/// reads files into its frames itself.)
enum TLSPipeline {
    static func configure(
        channel: Channel,
        contexts: LiveTLSContexts,
        generation: SiteGeneration
    ) throws {
        let sync = channel.pipeline.syncOperations
        let handshakeGuard = TLSHandshakeGuard(timeout: generation.limits.headerTimeout)
        // SNIHandler buffers the ClientHello, reports its server name, then removes itself and
        // hands the buffered bytes on to the TLS handler added for that name (RFC 6066 §3).
        let sni = ByteToMessageHandler(
            SNIHandler { result in
                var serverName: String?
                if case .hostname(let name) = result { serverName = name }
                let context = contexts.context(forServerName: serverName)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .before(handshakeGuard))
                }
            },
            // A ClientHello fits in one record of at most 16 KiB plus its header (RFC 8446 §5.1).
            maximumBufferSize: 64 * 1024
        )
        try sync.addHandler(sni)
        try sync.addHandler(handshakeGuard)
        let http2 = contexts.profile.http2
        // The protocol's handler goes before the failure handler, which stays last: every
        // record read then stops at the protocol, rather than passing one more handler first,
        // while errors the protocol does not handle still reach the failure handler.
        let failures = TLSFailureHandler(logger: generation.logger)
        try sync.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
            channel.eventLoop.makeCompletedFuture {
                if http2, result == .negotiated(TLSContexts.http2Protocol) {
                    try channel.pipeline.syncOperations.addHandler(HTTP2Connection(generation: generation, allocator: channel.allocator),
                                                                   position: .before(failures))
                } else {
                    try HTTP1Pipeline.configure(channel, generation: generation, isSecure: true, position: .before(failures))
                }
            }
        })
        try sync.addHandler(failures)
    }
}

extension TLSPipeline {
    /// Puts a `FileRegionReader` right above the TLS handler, once: file regions must be read
    /// and encrypted, never reach the socket as they are. Throws when the connection has no TLS
    /// handler (a plain one needs no reader).
    static func addFileRegionReader(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        if (try? pipeline.handler(type: FileRegionReader.self)) != nil { return }
        let tls = try pipeline.handler(type: NIOSSLServerHandler.self)
        try pipeline.addHandler(FileRegionReader(), position: .after(tls))
    }
}

/// Closes a connection whose TLS handshake has not completed within `header_timeout`: a client
/// that connects and then stalls, or trickles its ClientHello, holds a descriptor and memory
/// for nothing. Also closes such a connection at once when the server stops, since nothing was
/// asked of it yet. Removes itself once the handshake is done.
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: self.timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.timer?.cancel()
            self.timer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Sees the errors of the TLS layer and the socket: a failed handshake (garbage, a plain-HTTP
/// request on the TLS port, an unacceptable version or cipher) or a broken record is logged at
/// debug level and the connection closed; nothing else is affected. Errors of the HTTP layers
/// behind it start further down the pipeline and never pass here.
final class TLSFailureHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.logger.debug("TLS connection failed", metadata: [
            "net.peer": "\(context.channel.remoteAddress?.ipAddress ?? "-")", "tls.error": "\(error)",
        ])
        context.close(promise: nil)
    }
}
