import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 listener for operators (`/metrics`, `/health`), apart from the sites:
/// its own socket and one thread, so a flood of site traffic cannot starve a scrape and a
/// scrape never touches a worker's event loops.
public final class AdminServer: Sendable {
    /// The answer to one request.
    public struct Reply: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public typealias Responder = @Sendable (_ path: String) async -> Reply

    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    /// Binds at once, so a taken port is reported with the rest of a start or reload. Blocks:
    /// call it from a thread, not from an event loop or a task.
    public init(address: String, port: Int, respond: @escaping Responder) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(respond: respond))
                }
            }
        do {
            self.channel = try bootstrap.bind(host: address, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
    }

    /// The bound port (the kernel's choice for `port: 0`).
    public var port: Int { self.channel.localAddress?.port ?? 0 }

    /// Blocks like `init`.
    public func stop() {
        try? self.channel.close().wait()
        try? self.group.syncShutdownGracefully()
    }
}

/// Answers GET and HEAD by path; everything else is 405. One request per connection keeps it
/// simple: scrapers open few connections.
private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: AdminServer.Responder
    private var head: HTTPRequestHead?

    init(respond: @escaping AdminServer.Responder) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            guard head.method == .GET || head.method == .HEAD else {
                self.write(AdminServer.Reply(status: 405, body: "only GET and HEAD\n"), isHead: false, context: context)
                return
            }
            let path = String(head.uri.prefix { $0 != "?" })
            let respond = self.respond
            let isHead = head.method == .HEAD
            let promise = context.eventLoop.makePromise(of: AdminServer.Reply.self)
            promise.completeWithTask { await respond(path) }
            promise.futureResult.whenSuccess { reply in
                let (handler, context) = loopBound.value
                handler.write(reply, isHead: isHead, context: context)
            }
        }
    }

    private func write(_ reply: AdminServer.Reply, isHead: Bool, context: ChannelHandlerContext) {
        let body = context.channel.allocator.buffer(string: reply.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if !isHead { context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
