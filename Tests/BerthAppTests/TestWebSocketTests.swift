import BerthApp
import BerthAppTesting
import Foundation
import Synchronization
import Testing

/// An app with WebSocket routes that show what the kit's client must carry: messages both
/// ways, the request, the end of the client's messages, closes, errors and backpressure.
struct SocketApp: App {
    /// What the `/ws/count` handler saw after the client's messages ended.
    static let counted = Mutex<[String: Int]>([:])
    /// How many sends of `/ws/flood/:key` returned so far.
    static let flooded = Mutex<[String: Int]>([:])
    let router: Router

    init(context: AppContext) {
        var router = Router()
        router.webSocket("/ws/echo") { _, socket in
            for try await message in socket.messages {
                try await socket.send(message)
            }
        }
        router.webSocket("/ws/hello/:name") { request, socket in
            try await socket.send("hello \(request.parameters["name"] ?? "-") \(request.headers["Upgrade"] ?? "-")")
        }
        router.webSocket("/ws/count/:key") { request, socket in
            var count = 0
            do {
                for try await _ in socket.messages { count += 1 }
            } catch is CancellationError {}
            let key = request.parameters["key"] ?? "-"
            Self.counted.withLock { $0[key] = count }
        }
        router.webSocket("/ws/refuse") { _, socket in
            await socket.close(code: 4001, reason: "not today")
        }
        router.webSocket("/ws/fail") { _, _ in
            throw HTTPError(.internalServerError, "broken")
        }
        router.webSocket("/ws/flood/:key") { request, socket in
            let key = request.parameters["key"] ?? "-"
            for number in 1...100 {
                try await socket.send("\(number)")
                Self.flooded.withLock { $0[key, default: 0] += 1 }
            }
        }
        router.get("/ws/private") { request in
            guard request.headers["Cookie"] == "session=ok" else { return Response(status: .forbidden) }
            return .webSocket { socket in try await socket.send("welcome") }
        }
        self.router = router
    }
}

@Suite("TestWebSocket", .timeLimit(.minutes(2)))
struct TestWebSocketTests {
    @Test func echoesMessagesBothWays() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let socket = try await client.webSocket("/ws/echo")
        #expect(socket.route == "GET /ws/echo")
        try await socket.send(.text("hi"))
        try await socket.send(.binary([0, 1, 2]))
        #expect(try await socket.receive() == .text("hi"))
        #expect(try await socket.receive() == .binary([0, 1, 2]))
        #expect(socket.closeCode == nil)
        await socket.close()
        await #expect(throws: WebSocketError.closed) { try await socket.send("late") }
        await client.stop()
    }

    @Test func theHandlerSeesTheHandshakeRequest() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let socket = try await client.webSocket("/ws/hello/Ada")
        #expect(try await socket.receive() == .text("hello Ada websocket"))
        #expect(try await socket.receive() == nil, "the handler returned: the connection closed")
        #expect(socket.closeCode == .normalClosure)
        await client.stop()
    }

    @Test func closingEndsTheAppsMessages() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let key = UUID().uuidString
        let socket = try await client.webSocket("/ws/count/\(key)")
        for _ in 0..<3 { try await socket.send("tick") }
        await socket.close()
        #expect(SocketApp.counted.withLock { $0[key] } == 3, "close() returns after the handler did")
        await client.stop()
    }

    @Test func theAppsCloseCodeAndErrorsAreSeen() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let refused = try await client.webSocket("/ws/refuse")
        #expect(try await refused.receive() == nil)
        #expect(refused.closeCode == 4001)
        #expect(refused.closeReason == "not today")
        let failed = try await client.webSocket("/ws/fail")
        #expect(try await failed.receive() == nil)
        #expect(failed.closeCode == .internalError, "a handler that throws closes with 1011, as on the wire")
        await client.stop()
    }

    @Test func aSlowReaderHoldsTheAppBack() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let key = UUID().uuidString
        let socket = try await client.webSocket("/ws/flood/\(key)")
        // The app's sends wait while 16 messages are not received: nothing is lost or piled up.
        let sent = { SocketApp.flooded.withLock { $0[key] ?? 0 } }
        let filled = ContinuousClock.now + .seconds(5)
        while sent() < 15 && ContinuousClock.now < filled { try await Task.sleep(for: .milliseconds(5)) }
        // Time for an unbounded send to run ahead, which a held-back one cannot.
        try await Task.sleep(for: .milliseconds(100))
        #expect(sent() == 15, "the 16th send waits until the test receives")
        var received: [String] = []
        while let message = try await socket.receive() {
            guard case .text(let text) = message else { break }
            received.append(text)
        }
        #expect(received == (1...100).map(String.init))
        #expect(socket.closeCode == .normalClosure)
        await client.stop()
    }

    @Test func aRouteThatDoesNotAcceptIsAnError() async throws {
        let client = try await AppTestClient(SocketApp.self)
        do {
            _ = try await client.webSocket("/ws/private")
            Issue.record("a refused handshake must throw")
        } catch AppTestClientError.notAWebSocket(let response) {
            #expect(response.status == .forbidden)
        }
        let accepted = try await client.webSocket("/ws/private", headers: ["Cookie": "session=ok"])
        #expect(try await accepted.receive() == .text("welcome"))
        await #expect(throws: AppTestClientError.self) { try await client.webSocket("/nothing") }
        await client.stop()
    }

    @Test func receiveGivesUpInsteadOfHanging() async throws {
        let client = try await AppTestClient(SocketApp.self)
        let socket = try await client.webSocket("/ws/echo")
        await #expect(throws: TestWebSocketError.self) { try await socket.receive(within: .milliseconds(50)) }
        // The connection still works after a receive gave up.
        try await socket.send("still here")
        #expect(try await socket.receive() == .text("still here"))
        await socket.close()
        await client.stop()
    }
}
