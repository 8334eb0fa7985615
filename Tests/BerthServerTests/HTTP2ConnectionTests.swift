import BerthConfig
import Logging
import NIOCore
import NIOEmbedded
import NIOHPACK
import Testing

@testable import BerthServer

/// The HTTP/2 connection handler in an `EmbeddedChannel`: client frames in, server frames out,
/// streams answered by the exchange core, time moved by hand.
@Suite("HTTP/2 connection over the exchange core")
struct HTTP2ConnectionTests {
    func generation(limits: Limits = Limits()) -> SiteGeneration {
        let page = ErrorPage(body: ByteBuffer(string: "<p>custom</p>"), contentType: "text/html")
        let routes = [
            PathRoute(prefix: "/old", handlers: [RedirectHandler(redirect: .init(target: "/new", status: 301, keepPath: true))],
                      headers: [("X-Route", "old")], errorPages: [408: page]),
            PathRoute(prefix: "/", handlers: [], headers: [], errorPages: [404: page, 408: page]),
        ]
        let host = VirtualHost(name: "example.test", names: ["example.test"], isDefault: true, routes: routes, accessLog: nil)
        return SiteGeneration(hosts: [host], limits: ConnectionLimits(limits), accessLog: nil, allAccessLogs: [], logger: Logger(label: "test"))
    }

    struct Client {
        let channel: EmbeddedChannel
        var encoder = ClientEncoder()
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())

        init(_ generation: SiteGeneration) throws {
            self.channel = EmbeddedChannel()
            try self.channel.pipeline.syncOperations.addHandler(HTTP2Connection(generation: generation, allocator: self.channel.allocator))
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try self.send(ClientFrames.opening)
            _ = try self.frames()
        }

        func send(_ bytes: ByteBuffer) throws {
            try self.channel.writeInbound(bytes)
            self.channel.pipeline.fireChannelReadComplete()
            self.channel.embeddedEventLoop.run()
        }

        mutating func request(_ stream: UInt32, _ path: String, method: String = "GET", endStream: Bool = true, _ extra: [(String, String)] = []) -> ByteBuffer {
            let block = self.encoder.request(path, method: method, extra)
            return ClientFrames.frame(type: HTTP2FrameType.headers, flags: 0x4 | (endStream ? 0x1 : 0), stream: stream,
                                      payload: Array(block.readableBytesView))
        }

        func frames() throws -> [ServerFrame] {
            var all = ByteBuffer()
            while let part = try self.channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = part { all.writeImmutableBuffer(buffer) }
            }
            return ServerFrame.parse(all)
        }

        mutating func fields(_ frame: ServerFrame) throws -> [String: String] {
            var block = ByteBuffer(bytes: frame.payload)
            let headers = try self.decoder.decodeHeaders(from: &block)
            return Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
    }

    @Test func requestsAreAnsweredByTheCoreWithRouteHeadersAndPages() throws {
        var client = try Client(generation())
        var bytes = client.request(1, "/old/a?b")
        bytes.writeImmutableBuffer(client.request(3, "/missing"))
        try client.send(bytes)
        let frames = try client.frames()
        let heads = frames.filter { $0.type == HTTP2FrameType.headers }
        #expect(heads.map(\.stream) == [1, 3])
        let redirect = try client.fields(heads[0])
        #expect(redirect[":status"] == "301" && redirect["location"] == "/new/a?b" && redirect["x-route"] == "old")
        #expect(redirect["server"] == "berth" && redirect["date"] != nil && redirect["connection"] == nil)
        let missing = try client.fields(heads[1])
        #expect(missing[":status"] == "404" && missing["content-length"] == "13")
        let body = try #require(frames.last { $0.type == HTTP2FrameType.data && $0.stream == 3 })
        #expect(String(decoding: body.payload, as: UTF8.self) == "<p>custom</p>" && body.flags & 0x1 != 0)
    }

    @Test func streamsBeyondTheLimitAreRefusedNotTheConnection() throws {
        var client = try Client(generation())
        var bytes = ByteBuffer()
        // 100 streams that wait for bodies, then one more.
        for index in 0..<101 { bytes.writeImmutableBuffer(client.request(UInt32(2 * index + 1), "/", method: "POST", endStream: false, [("content-length", "10")])) }
        try client.send(bytes)
        let frames = try client.frames()
        let refused = frames.filter { $0.type == HTTP2FrameType.rstStream }
        #expect(refused.map(\.stream) == [201] && refused.first?.errorCode == .refusedStream, "\(refused)")
        #expect(!frames.contains { $0.type == HTTP2FrameType.goAway })
    }

    @Test func bodyTimeoutAnswers408AndIdleConnectionsGetGoAway() throws {
        var limits = Limits()
        limits.bodyTimeout = .seconds(1)
        limits.idleTimeout = .seconds(5)
        var client = try Client(generation(limits: limits))
        try client.send(client.request(1, "/old", method: "POST", endStream: false, [("content-length", "10")]))
        #expect(try client.frames().isEmpty)
        client.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        let frames = try client.frames()
        let head = try #require(frames.first { $0.type == HTTP2FrameType.headers })
        #expect(try client.fields(head)[":status"] == "408")
        #expect(frames.contains { $0.type == HTTP2FrameType.data && String(decoding: $0.payload, as: UTF8.self) == "<p>custom</p>" })
        // The request body never came: the stream is reset once answered (RFC 9113 §8.1).
        #expect(frames.contains { $0.type == HTTP2FrameType.rstStream && $0.errorCode == .noError })
        client.channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        let goAway = try client.frames()
        #expect(goAway.contains { $0.type == HTTP2FrameType.goAway && $0.errorCode == .noError }, "\(goAway)")
    }

    @Test func rapidResetFloodEndsTheConnection() throws {
        var client = try Client(generation())
        var flood = ByteBuffer()
        for index in 0..<1000 {
            let stream = UInt32(2 * index + 1)
            flood.writeImmutableBuffer(client.request(stream, "/old", endStream: false))
            flood.writeImmutableBuffer(ClientFrames.frame(type: HTTP2FrameType.rstStream, stream: stream, payload: ClientFrames.u32(0x8)))
        }
        try client.send(flood)
        let frames = try client.frames()
        #expect(frames.contains { $0.type == HTTP2FrameType.goAway && $0.errorCode == .enhanceYourCalm }, "\(frames.suffix(3))")
    }

    @Test func pingWithABadLengthClosesTheConnection() throws {
        let client = try Client(generation())
        try client.send(ClientFrames.frame(type: HTTP2FrameType.ping, stream: 0, payload: [1, 2, 3]))
        let frames = try client.frames()
        #expect(frames.contains { $0.type == HTTP2FrameType.goAway && $0.errorCode == .frameSizeError })
        #expect(!client.channel.isActive)
    }
}

extension HTTP2ConnectionTests {
    /// RFC 9113 §5.1: frames other than WINDOW_UPDATE, PRIORITY and RST_STREAM after the
    /// client's END_STREAM are STREAM_CLOSED errors; once the stream is closed on both sides,
    /// of the connection.
    @Test func headersOnAStreamTheClientEndedIsStreamClosed() throws {
        for together in [true, false] {
            var client = try Client(generation())
            if together {
                var bytes = client.request(1, "/old")
                bytes.writeImmutableBuffer(client.request(1, "/old"))
                try client.send(bytes)
            } else {
                try client.send(client.request(1, "/old"))
                try client.send(client.request(1, "/old"))
            }
            let frames = try client.frames()
            #expect(frames.contains { $0.type == HTTP2FrameType.goAway && $0.errorCode == .streamClosed }, "\(frames.map { ($0.type, $0.stream, $0.errorCode as Any) })")
        }
    }

    /// A request body that is still coming holds the answer of a handler that does not read
    /// it until the body ends; a reset of the client's ends the exchange, and what it sends
    /// afterwards on the stream is a STREAM_CLOSED error.
    @Test func anAnswerWaitsForTheEndOfTheRequest() throws {
        var client = try Client(generation())
        try client.send(client.request(1, "/old", endStream: false))
        #expect(try client.frames().isEmpty)
        try client.send(ClientFrames.data(stream: 1, [], endStream: true))
        let answered = try client.frames()
        #expect(answered.contains { $0.type == HTTP2FrameType.headers && $0.stream == 1 })
        #expect(!answered.contains { $0.type == HTTP2FrameType.rstStream })

        try client.send(client.request(3, "/old", endStream: false))
        try client.send(ClientFrames.frame(type: HTTP2FrameType.rstStream, stream: 3, payload: ClientFrames.u32(0x8)))
        try client.send(ClientFrames.data(stream: 3, [1], endStream: true))
        let reset = try client.frames()
        #expect(!reset.contains { $0.type == HTTP2FrameType.headers })
        #expect(reset.contains { $0.type == HTTP2FrameType.rstStream && $0.stream == 3 && $0.errorCode == .streamClosed })
    }

    /// RFC 9113 §8.1: an answer given before the request ended. A short rest of the body is
    /// read to its end so the client's upload ends cleanly; a long one is stopped.
    @Test func answeredRequestsReadAShortRestAndResetALongOne() throws {
        var limits = Limits()
        limits.bodyBytes = 1024
        var client = try Client(generation(limits: limits))
        try client.send(client.request(1, "/old", method: "POST", endStream: false, [("content-length", "2000")]))
        let short = try client.frames()
        let head = try #require(short.first { $0.type == HTTP2FrameType.headers })
        #expect(try client.fields(head)[":status"] == "413")
        #expect(!short.contains { $0.type == HTTP2FrameType.rstStream })
        try client.send(ClientFrames.data(stream: 1, Array(repeating: 0x61, count: 2000), endStream: true))
        #expect(!(try client.frames()).contains { $0.type == HTTP2FrameType.rstStream || $0.type == HTTP2FrameType.goAway })

        try client.send(client.request(3, "/old", method: "POST", endStream: false, [("content-length", "10000000")]))
        let long = try client.frames()
        #expect(long.contains { $0.type == HTTP2FrameType.rstStream && $0.stream == 3 && $0.errorCode == .noError })
    }
}
