import BerthApp
import BerthAppTesting
import HelloApp
import Testing

/// The hello app run in-process by the test kit, with the settings the virtual-host file gives.
@Suite("HelloApp")
struct HelloAppTests {
    @Test func greetsWithTheGreetingSetting() async throws {
        let client = try await AppTestClient(HelloApp.self, settings: ["greeting": "Hi"])
        let response = try await client.get("/hello/Ada")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(try await response.text() == "Hi, Ada!")
        #expect(response.route == "GET /hello/:name")
        await client.stop()
    }

    @Test func greetsWithHelloByDefault() async throws {
        let client = try await AppTestClient(HelloApp.self)
        #expect(try await client.get("/hello/Bo").text() == "Hello, Bo!")
        // Path segments arrive percent-encoded, as a client sends them, and are decoded.
        #expect(try await client.get("/hello/Jos%C3%A9").text() == "Hello, José!")
        await client.stop()
    }

    @Test func answersTheBenchmarkRoute() async throws {
        let client = try await AppTestClient(HelloApp.self)
        let response = try await client.get("/hello")
        #expect(response.status == .ok)
        #expect(try await response.text() == "Hello, world!")
        let head = try await client.head("/hello")
        #expect(head.status == .ok)
        #expect(try await head.bytes().isEmpty)
        await client.stop()
    }

    @Test func refusesWhatItDoesNotServe() async throws {
        let client = try await AppTestClient(HelloApp.self)
        #expect(try await client.get("/goodbye").status == .notFound)
        let post = try await client.post("/hello", body: "hi")
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers["Allow"] == "GET, HEAD")
        await client.stop()
    }

    @Test func echoesWebSocketMessages() async throws {
        let client = try await AppTestClient(HelloApp.self)
        let socket = try await client.webSocket("/ws/echo")
        try await socket.send(.text("hi"))
        #expect(try await socket.receive() == .text("hi"))
        try await socket.send(.binary([0xff, 0x00]))
        #expect(try await socket.receive() == .binary([0xff, 0x00]))
        await socket.close()
        await client.stop()
    }
}
