import BerthApp
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing

@testable import BerthServer

/// The WebSocket handler's backpressure, in a testing channel whose event loop the test drives:
/// a slow app stops the reading, a slow client stops the app's sends.
@Suite("WebSocket connection handler: bounded both ways")
struct WebSocketConnectionTests {
    /// Counts the reads that reach the socket's end of the pipeline.
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        let reads = Mutex(0)

        func read(context: ChannelHandlerContext) {
            self.reads.withLock { $0 += 1 }
            context.read()
        }
    }

    /// A latch the app's task waits on.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let open = self.state.withLock { state in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if open { continuation.resume() }
            }
        }

        func open() {
            let waiters = self.state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    static func session(_ handler: @escaping @Sendable (WebSocket) async throws -> Void) -> WebSocketSession {
        WebSocketSession(handler: handler, maxMessage: 1024, idleTimeout: .seconds(60), logger: Logger(label: "test"),
                         appName: "test", route: "/ws")
    }

    static func frame(_ text: String) -> WebSocketFrame {
        let key: WebSocketMaskingKey = [1, 2, 3, 4]
        var data = ByteBuffer(string: text)
        data.webSocketMask(key)
        return WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: data)
    }

    /// The handler is made and added on the channel's loop, where it lives.
    static func add(_ session: WebSocketSession, to channel: NIOAsyncTestingChannel) async throws {
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(WebSocketConnection(session: session))
        }
    }

    /// Runs the loop (and lets the app's task run) until `condition` holds; false if it never does.
    static func eventually(_ loop: NIOAsyncTestingEventLoop, _ condition: () async -> Bool) async -> Bool {
        for _ in 0..<2000 {
            await loop.run()
            if await condition() { return true }
            await Task.yield()
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }

    @Test func readingPausesWhileTheAppHasSixteenMessagesUntaken() async throws {
        let channel = NIOAsyncTestingChannel()
        let counter = ReadCounter()
        let gate = Gate()
        let received = Mutex<[WebSocketMessage]>([])
        try await channel.pipeline.addHandler(counter)
        try await Self.add(Self.session { socket in
            await gate.wait()
            for try await message in socket.messages {
                let count = received.withLock { $0.append(message); return $0.count }
                if count == 20 { return }
            }
        }, to: channel)
        #expect(counter.reads.withLock { $0 } == 1, "the handler reads once it is added")
        for index in 0..<15 {
            try await channel.writeInbound(Self.frame("m\(index)"))
            channel.read()
        }
        await channel.testingEventLoop.run()
        #expect(counter.reads.withLock { $0 } == 16, "reading goes on below the limit")
        try await channel.writeInbound(Self.frame("m15"))
        channel.read()
        channel.read()
        await channel.testingEventLoop.run()
        #expect(counter.reads.withLock { $0 } == 16, "the sixteenth untaken message stops the reading")
        gate.open()
        #expect(await Self.eventually(channel.testingEventLoop) { counter.reads.withLock { $0 } == 17 },
                "the app taking messages resumes the held read")
        for index in 16..<20 { try await channel.writeInbound(Self.frame("m\(index)")) }
        #expect(await Self.eventually(channel.testingEventLoop) { received.withLock { $0.count } == 20 })
        #expect(received.withLock { $0 } == (0..<20).map { .text("m\($0)") })
        _ = try? await channel.finish()
    }

    @Test func sendWaitsWhileTheChannelIsNotWritable() async throws {
        let channel = NIOAsyncTestingChannel()
        channel.isWritable = false
        let sent = Mutex<[String]>([])
        try await Self.add(Self.session { socket in
            for text in ["one", "two"] {
                try await socket.send(text)
                sent.withLock { $0.append(text) }
            }
            await Gate().wait()
        }, to: channel)
        var first: WebSocketFrame?
        #expect(await Self.eventually(channel.testingEventLoop) {
            first = try? await channel.readOutbound(as: WebSocketFrame.self)
            return first != nil
        })
        #expect(first.map { String(buffer: $0.data) } == "one")
        // The frame is written, but the channel is over its high-water mark: the app waits.
        for _ in 0..<20 { await channel.testingEventLoop.run(); await Task.yield() }
        #expect(sent.withLock { $0 }.isEmpty)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(await Self.eventually(channel.testingEventLoop) { sent.withLock { $0 } == ["one", "two"] })
        _ = try? await channel.finish()
    }

    // The limit only turns a send that waits for the loop (a hang) into a failure. It is
    // generous because the app's task needs a thread of the cooperative pool, and in the full
    // suite the end-to-end tests hold those threads in blocking waits for minutes at a time.
    @Test(.timeLimit(.minutes(10))) func sendsReturnWithoutWaitingForTheLoopAndLeaveInOrder() async throws {
        let channel = NIOAsyncTestingChannel()
        let queued = Gate()
        try await Self.add(Self.session { socket in
            for text in ["one", "two", "three"] { try await socket.send(text) }
            queued.open()
            await Gate().wait()
        }, to: channel)
        // The loop has not run since the handler was added: the sends did not wait for it.
        await queued.wait()
        await channel.testingEventLoop.run()
        var texts: [String] = []
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) { texts.append(String(buffer: frame.data)) }
        #expect(texts == ["one", "two", "three"])
        _ = try? await channel.finish()
    }

    @Test func aFinishedHandlerClosesWith1000AndAThrowingOneWith1011() async throws {
        struct Failure: Error {}
        for (handler, code) in [(Self.session { _ in }, 1000), (Self.session { _ in throw Failure() }, 1011)] {
            let channel = NIOAsyncTestingChannel()
            try await Self.add(handler, to: channel)
            var close: WebSocketFrame?
            #expect(await Self.eventually(channel.testingEventLoop) {
                close = try? await channel.readOutbound(as: WebSocketFrame.self)
                return close != nil
            })
            #expect(close?.opcode == .connectionClose)
            #expect(close?.data.getInteger(at: close?.data.readerIndex ?? 0, as: UInt16.self) == UInt16(code))
            _ = try? await channel.finish()
        }
    }
}
