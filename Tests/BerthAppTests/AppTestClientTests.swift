import BerthApp
@testable import BerthAppTesting
import Foundation
import Synchronization
import Testing

/// Lines an app logged through its context, collected by a test.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    var sink: AppLogger.Sink {
        { _, message, _ in self.lines.withLock { $0.append(message) } }
    }
}

/// An app that shows what it was given: settings, hooks, request parts and bodies.
struct EchoApp: App {
    let router: Router
    private let context: AppContext

    init(context: AppContext) async throws {
        self.context = context
        let greeting = context.settings["greeting"]?.string ?? "Hello"
        var router = Router()
        router.get("/greet") { _ in greeting }
        router.get("/context") { request in
            "\(context.name) \(context.host) \(request.host) \(request.remoteAddress ?? "-") root=\(context.root)"
        }
        router.get("/headers") { request in
            "\(request.headers["X-One"] ?? "-") \(request.headers.values(for: "X-Many").joined(separator: "+"))"
        }
        router.get("/query") { request in "\(request.path) \(request.queryItems["q"] ?? "-")" }
        router.post("/echo") { request in
            var chunks: [String] = []
            for try await chunk in request.body { chunks.append(String(decoding: chunk, as: UTF8.self)) }
            return "\(request.headers["Content-Type"] ?? "none"): \(chunks.joined(separator: "|"))"
        }
        router.get("/file") { _ in Response(body: .file(context.resolve("page.txt"))) }
        router.get("/cookie") { _ in
            var response = Response()
            response.setCookie(SetCookie(name: "session", value: "bad;value"))
            return response
        }
        self.router = router
    }

    func start() async throws {
        context.logger.info("started")
    }

    func stop() async {
        context.logger.info("stopped")
    }
}

/// An app whose `start()` fails.
struct UnstartableApp: App {
    init(context: AppContext) {}

    func start() async throws {
        throw HTTPError(.serviceUnavailable, "no database")
    }
}

/// A streaming app, and the gate a test opens to let it write its second chunk.
struct TickerApp: App {
    static let gate = AsyncStream<Void>.makeStream()
    let router: Router

    init(context: AppContext) {
        var router = Router()
        router.get("/ticks") { _ in
            Response(headers: Headers([("Content-Type", "text/plain")]), body: .stream { writer in
                try await writer.write("one\n")
                for await _ in Self.gate.stream { break }
                try await writer.write("two\n")
            })
        }
        router.get("/cut") { _ in
            Response(body: .stream { writer in
                try await writer.write("partial")
                throw HTTPError(.internalServerError, "the source went away")
            })
        }
        self.router = router
    }
}

@Suite("AppTestClient", .timeLimit(.minutes(2)))
struct AppTestClientTests {
    @Test func settingsAndContextReachTheApp() async throws {
        let client = try await AppTestClient(EchoApp.self, settings: ["greeting": "Hi"], name: "echo", hosts: ["echo.test", "www.echo.test"])
        #expect(try await client.get("/greet").text() == "Hi")
        let root = client.context.root
        #expect(try await client.get("/context").text() == "echo echo.test echo.test 127.0.0.1 root=\(root)")
        await client.stop()
    }

    @Test func hooksRunOnceAroundTheRequests() async throws {
        let log = LogLines()
        let client = try await AppTestClient(EchoApp.self, log: log.sink)
        #expect(log.all == ["started"])
        #expect(try await client.get("/greet").status == .ok)
        await client.stop()
        await client.stop()
        #expect(log.all == ["started", "stopped"])
        let late = try await client.get("/greet")
        #expect(late.status == .serviceUnavailable, "as from a server whose worker drained")
    }

    @Test func aFailingStartIsThrown() async throws {
        await #expect(throws: HTTPError.self) { try await AppTestClient(UnstartableApp.self) }
    }

    @Test func theDefaultRootIsATemporaryFolderRemovedAtStop() async throws {
        let client = try await AppTestClient(EchoApp.self)
        let root = client.context.root
        #expect(FileManager.default.fileExists(atPath: root))
        try "from the root".write(toFile: root + "/page.txt", atomically: true, encoding: .utf8)
        #expect(try await client.get("/file").text() == "from the root")
        await client.stop()
        #expect(!FileManager.default.fileExists(atPath: root))

        let given = FileManager.default.temporaryDirectory.path + "/echo-root-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: given, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: given) }
        let own = try await AppTestClient(EchoApp.self, root: given)
        #expect(own.context.root == given)
        await own.stop()
        #expect(FileManager.default.fileExists(atPath: given), "a root the test gave stays")
    }

    @Test func headersAndQueriesAreSent() async throws {
        let client = try await AppTestClient(EchoApp.self)
        #expect(try await client.get("/headers", headers: ["x-one": "1", "X-Many": "a", "X-Many": "b"]).text() == "1 a+b")
        #expect(try await client.get("/query?q=caf%C3%A9+au+lait").text() == "/query café au lait")
        await #expect(throws: AppTestClientError.self) { try await client.get("query") }
        await client.stop()
    }

    @Test func requestBodiesOfEveryKind() async throws {
        let client = try await AppTestClient(EchoApp.self)
        #expect(try await client.post("/echo", body: "plain").text() == "text/plain; charset=utf-8: plain")
        #expect(try await client.post("/echo", body: .bytes(Array("raw".utf8))).text() == "none: raw")
        #expect(try await client.post("/echo", body: .json(["k": "v"])).text() == #"application/json: {"k":"v"}"#)
        let chunked = try await client.post("/echo", headers: ["Content-Type": "text/csv"],
                                            body: .chunks([Array("a,b".utf8), Array("c,d".utf8)]))
        #expect(try await chunked.text() == "text/csv: a,b|c,d", "chunks arrive one by one; the test's type wins")
        #expect(try await client.post("/echo").text() == "none: ")
        await client.stop()
    }

    @Test func streamedResponsesArriveChunkByChunk() async throws {
        let client = try await AppTestClient(TickerApp.self)
        let response = try await client.get("/ticks")
        #expect(response.status == .ok)
        var chunks = response.body.makeAsyncIterator()
        // The app cannot write its second chunk until the gate opens: the first arrives alone.
        #expect(try await chunks.next() == Array("one\n".utf8))
        TickerApp.gate.continuation.yield()
        #expect(try await chunks.next() == Array("two\n".utf8))
        #expect(try await chunks.next() == nil)
        await client.stop()
    }

    @Test func aStreamThatFailsEndsWithItsError() async throws {
        let client = try await AppTestClient(TickerApp.self)
        let response = try await client.get("/cut")
        var chunks = response.body.makeAsyncIterator()
        #expect(try await chunks.next() == Array("partial".utf8))
        await #expect(throws: HTTPError.self) { _ = try await chunks.next() }
        await client.stop()
    }

    @Test func aBodyIsReadOnce() async throws {
        let client = try await AppTestClient(EchoApp.self)
        let response = try await client.get("/greet")
        #expect(try await response.text() == "Hello")
        await #expect(throws: RequestBodyError.alreadyRead) { _ = try await response.bytes() }
        await client.stop()
    }

    @Test func headAnswersWithoutABody() async throws {
        let client = try await AppTestClient(EchoApp.self)
        let head = try await client.head("/greet")
        #expect(head.status == .ok)
        #expect(head.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(try await head.bytes().isEmpty)
        await client.stop()
    }

    @Test func aRefusedHeaderIsA500AsOnTheServer() async throws {
        let client = try await AppTestClient(EchoApp.self)
        let response = try await client.get("/cookie")
        #expect(response.status == .internalServerError)
        #expect(response.loggedError?.contains("cookie session was refused") == true)
        await client.stop()
    }

    @Test func thisProcessHoldsOneCopyOfTheAPI() {
        #expect(SingleAPICopy.problem() == nil)
    }
}
