import BerthConfig
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import BerthServer

/// The HTTP/1.1 connection handlers in an `EmbeddedChannel`: bytes in, bytes out, timers
/// driven by hand.
@Suite("HTTP/1.1 connection over the exchange core")
struct HTTP1ConnectionTests {
    static let page = ByteBuffer(string: "<p>custom</p>")

    func generation(limits: Limits = Limits()) -> SiteGeneration {
        let pages = [404: ErrorPage(body: Self.page, contentType: "text/html"), 431: ErrorPage(body: Self.page, contentType: "text/html"),
                     408: ErrorPage(body: Self.page, contentType: "text/html"), 400: ErrorPage(body: Self.page, contentType: "text/html")]
        let routes = [
            PathRoute(prefix: "/old", handlers: [RedirectHandler(redirect: .init(target: "/new", status: 301, keepPath: true))],
                      headers: [("X-Route", "old")], errorPages: pages),
            PathRoute(prefix: "/", handlers: [], headers: [], errorPages: pages),
        ]
        let host = VirtualHost(name: "site.test", names: ["site.test"], isDefault: true, routes: routes, accessLog: nil)
        return SiteGeneration(hosts: [host], limits: ConnectionLimits(limits), accessLog: nil, allAccessLogs: [],
                              logger: Logger(label: "test"))
    }

    func channel(_ generation: SiteGeneration) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try HTTP1Pipeline.configure(channel, generation: generation, isSecure: false)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        return text
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithRouteHeaders() throws {
        let channel = try channel(generation())
        try channel.writeInbound(ByteBuffer(string: "GET /old/a?b HTTP/1.1\r\nHost: site.test\r\n\r\nGET /nothing HTTP/1.1\r\nHost: site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try output(channel)
        let first = try #require(text.range(of: "HTTP/1.1 301 Moved Permanently\r\n"))
        let second = try #require(text.range(of: "HTTP/1.1 404 Not Found\r\n"))
        #expect(first.lowerBound < second.lowerBound)
        #expect(text.contains("Location: /new/a?b\r\n") && text.contains("X-Route: old\r\n"))
        #expect(text.contains("Server: berth\r\n") && text.contains("Date: "))
        // No handler for "/": the host's page for 404, with its own type and length.
        #expect(text.hasSuffix("Content-Type: text/html\r\nContent-Length: 13\r\n\r\n<p>custom</p>"), "\(text)")
        #expect(!text.contains("Connection: close"))
    }

    @Test func malformedInputIsAnsweredWithThePageAndCloses() throws {
        let channel = try channel(generation())
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost : site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try output(channel)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(text.contains("Connection: close\r\n") && text.hasSuffix("<p>custom</p>"))
    }

    @Test func guardRefusalsGetErrorPagesToo() throws {
        var limits = Limits()
        limits.headerBytes = 100
        limits.headerTimeout = .seconds(5)
        let oversized = try channel(generation(limits: limits))
        // The whole head's budget (request line, fields and slack) is spent before a line ends.
        try oversized.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: site.test\r\nX-Big: " + String(repeating: "b", count: 12_000)))
        oversized.embeddedEventLoop.run()
        let refused = try output(oversized)
        #expect(refused.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(refused)")
        #expect(refused.contains("Connection: close\r\n") && refused.hasSuffix("<p>custom</p>"))

        // A head that never completes: 408 when header_timeout expires.
        let slow = try channel(generation(limits: limits))
        try slow.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHo"))
        slow.embeddedEventLoop.advanceTime(by: .seconds(6))
        let timedOut = try output(slow)
        #expect(timedOut.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(timedOut)")
        #expect(timedOut.hasSuffix("<p>custom</p>"))
    }

    @Test func headAnswersCarryTheLengthButNoBody() throws {
        let channel = try channel(generation())
        try channel.writeInbound(ByteBuffer(string: "HEAD /nothing HTTP/1.1\r\nHost: site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try output(channel)
        #expect(text.hasPrefix("HTTP/1.1 404 Not Found\r\n") && text.hasSuffix("Content-Length: 13\r\n\r\n"), "\(text)")
    }

    @Test func http10GetsKeepAliveOnlyWhenItAsks() throws {
        let channel = try channel(generation())
        try channel.writeInbound(ByteBuffer(string: "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(try output(channel).contains("HTTP/1.0 301 Moved Permanently\r\n"))
        let closing = try self.channel(generation())
        try closing.writeInbound(ByteBuffer(string: "GET /old HTTP/1.0\r\n\r\n"))
        closing.embeddedEventLoop.run()
        #expect(try output(closing).contains("Connection: close\r\n"))
    }

    /// A plain connection sends its responses on the socket itself. When the socket did not
    /// take one, the rest waits in NIO's queue, and the responses after it go there too, even
    /// once the socket has room again: nothing may overtake bytes still queued. Once the
    /// queue has drained, responses go to the socket again.
    @Test func responsesWaitBehindWhatNIOStillHolds() throws {
        var ends: [CInt] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        let (server, client) = (ends[0], ends[1])
        defer { close(server); close(client) }
        for fd in ends { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        // A socket that takes nothing more, as a client that does not read leaves it.
        let filler = [UInt8](repeating: UInt8(ascii: "."), count: 4096)
        while write(server, filler, filler.count) > 0 {}

        let held = HeldWrites()
        let channel = EmbeddedChannel(handler: held)
        try HTTP1Pipeline.configure(channel, generation: generation(), isSecure: false, socket: ConnectionSocket(descriptor: server))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        try channel.writeInbound(ByteBuffer(string: "GET /first HTTP/1.1\r\nHost: site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(held.text.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "the socket was full: the answer went to NIO")

        // The client reads: the socket has room, but NIO still holds the first answer.
        #expect(Self.drain(client).allSatisfy { $0 == UInt8(ascii: ".") })
        try channel.writeInbound(ByteBuffer(string: "GET /second HTTP/1.1\r\nHost: site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(Self.drain(client).isEmpty, "the second answer did not overtake the first")
        #expect(held.text.components(separatedBy: "HTTP/1.1 404 Not Found\r\n").count == 3)

        held.leave()
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "GET /third HTTP/1.1\r\nHost: site.test\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let direct = String(decoding: Self.drain(client), as: UTF8.self)
        #expect(direct.hasPrefix("HTTP/1.1 404 Not Found\r\n") && direct.hasSuffix("<p>custom</p>"), "\(direct)")
    }

    /// Everything a non-blocking socket has to read now.
    private static func drain(_ fd: CInt) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { return bytes }
            bytes += chunk[0..<count]
        }
    }
}

/// Writes that reach the channel's head and stay there, as on a socket that does not drain,
/// until `leave()`: their promises complete then.
private final class HeldWrites: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    private var promises: [EventLoopPromise<Void>] = []
    private(set) var text = ""

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(let buffer) = self.unwrapOutboundIn(data) { self.text += String(buffer: buffer) }
        if let promise { self.promises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {}

    func leave() {
        let promises = self.promises
        self.promises = []
        for promise in promises { promise.succeed() }
    }
}
