import Foundation
import Synchronization
import Testing
@_spi(BerthServer) import BerthApp

@Suite("Request")
struct RequestTests {
    @Test func queryItemsAreDecoded() {
        let request = makeRequest(.get, "/search?q=caf%C3%A9+au+lait&tag=a&tag=b&empty&=x&bad=%zz")
        #expect(request.queryString == "q=caf%C3%A9+au+lait&tag=a&tag=b&empty&=x&bad=%zz")
        #expect(request.queryItems["q"] == "café au lait")
        #expect(request.queryItems.values(for: "tag") == ["a", "b"])
        #expect(request.queryItems["empty"] == "")
        #expect(request.queryItems["bad"] == "%zz")
        #expect(request.queryItems["missing"] == nil)
        #expect(makeRequest(.get, "/plain").queryItems.isEmpty)
    }

    @Test func headersIgnoreCase() {
        let request = makeRequest(.get, "/", headers: [("X-Trace", "1"), ("x-trace", "2"), ("Accept", "text/html")])
        #expect(request.headers["x-TRACE"] == "1")
        #expect(request.headers.values(for: "X-Trace") == ["1", "2"])
        #expect(request.headers.contains("ACCEPT"))
        #expect(!request.headers.contains("Accept-Language"))
    }

    @Test func cookiesFromEveryCookieField() {
        let request = makeRequest(.get, "/", headers: [
            ("Cookie", "session=abc123; theme=\"dark\""),
            ("cookie", "lang=en;  empty="),
        ])
        #expect(request.cookies["session"] == "abc123")
        #expect(request.cookies["theme"] == "dark")
        #expect(request.cookies["lang"] == "en")
        #expect(request.cookies["empty"] == "")
        #expect(request.cookies["Session"] == nil)
        #expect(request.cookies.all.count == 4)
    }

    @Test func collectReturnsTheWholeBody() async throws {
        let request = makeRequest(.post, "/", body: Array("hello".utf8))
        #expect(try await request.body.collect(upTo: 5) == Array("hello".utf8))
    }

    @Test func collectRefusesMoreThanTheCap() async throws {
        let request = makeRequest(.post, "/", body: [UInt8](repeating: 1, count: 11))
        await #expect(throws: RequestBodyError.tooLarge(limit: 10)) {
            try await request.body.collect(upTo: 10)
        }
    }

    @Test func bodyCanBeReadOnce() async throws {
        let request = makeRequest(.post, "/", body: [1, 2, 3])
        _ = try await request.body.collect(upTo: 10)
        await #expect(throws: RequestBodyError.alreadyRead) {
            try await request.body.collect(upTo: 10)
        }
    }

    @Test func anEmptyBodyIsReadOnceToo() async throws {
        let request = makeRequest(.get, "/", body: [])
        #expect(try await request.body.collect(upTo: 10).isEmpty)
        await #expect(throws: RequestBodyError.alreadyRead) {
            try await request.body.collect(upTo: 10)
        }
    }

    @Test func anEmptyBodyNoOneHoldsIsTakenAgainUnread() async throws {
        var kept: RequestBody?
        var first: RequestBody? = RequestBody.empty(reusing: &kept)
        #expect(try await first!.collect(upTo: 10).isEmpty)
        let identity = ObjectIdentifier(first!)
        first = nil
        let second = RequestBody.empty(reusing: &kept)
        #expect(ObjectIdentifier(second) == identity)
        // Taken again, it reads like a new one: once.
        #expect(try await second.collect(upTo: 10).isEmpty)
        await #expect(throws: RequestBodyError.alreadyRead) { try await second.collect(upTo: 10) }
    }

    @Test func anEmptyBodyStillHeldIsNotTakenAgain() async throws {
        var kept: RequestBody?
        let held = RequestBody.empty(reusing: &kept)
        _ = try await held.collect(upTo: 10)
        let next = RequestBody.empty(reusing: &kept)
        #expect(ObjectIdentifier(next) != ObjectIdentifier(held))
        #expect(try await next.collect(upTo: 10).isEmpty)
        await #expect(throws: RequestBodyError.alreadyRead) { try await held.collect(upTo: 10) }
    }

    @Test func aRouteNoteIsTakenAgainEmptyOnlyWhenNoOneHoldsIt() throws {
        var router = Router()
        router.get("/notes") { _ in .text("notes") }
        var kept: RouteNote?
        var first: RouteNote? = RouteNote.fresh(reusing: &kept)
        _ = try router.firstStep(for: makeRequest(.get, "/notes"), note: first!)
        #expect(first!.route == "GET /notes")
        let identity = ObjectIdentifier(first!)
        first = nil
        let second = RouteNote.fresh(reusing: &kept)
        #expect(ObjectIdentifier(second) == identity)
        #expect(second.route == nil)
        _ = try router.firstStep(for: makeRequest(.get, "/notes"), note: second)
        let third = RouteNote.fresh(reusing: &kept)
        #expect(ObjectIdentifier(third) != identity)
        #expect(second.route == "GET /notes")
        #expect(third.route == nil)
    }

    @Test func streamingBodyAppliesBackpressure() async throws {
        let demands = Atomic<Int>(0)
        let (body, source) = RequestBody.stream(highWatermark: 8) { demands.add(1, ordering: .relaxed) }
        #expect(source.yield([1, 2, 3, 4]) == .produceMore)
        #expect(source.yield([5, 6, 7, 8]) == .stopProducing)
        var iterator = body.makeAsyncIterator()
        #expect(try await iterator.next() == [1, 2, 3, 4])
        // Half the mark reached: the server is told to read again, once.
        #expect(demands.load(ordering: .relaxed) == 1)
        #expect(try await iterator.next() == [5, 6, 7, 8])
        #expect(demands.load(ordering: .relaxed) == 1)

        source.finish()
        #expect(try await iterator.next() == nil)
        var second = body.makeAsyncIterator()
        await #expect(throws: RequestBodyError.alreadyRead) { try await second.next() }
    }

    @Test func waitingReaderGetsTheNextChunk() async throws {
        let (body, source) = RequestBody.stream { }
        async let collected = body.collect(upTo: 10)
        try await Task.sleep(for: .milliseconds(20))
        #expect(source.yield([9]) == .produceMore)
        source.finish()
        #expect(try await collected == [9])
    }

    @Test func finishEndsTheStreamAndFailureReachesTheApp() async throws {
        let (body, source) = RequestBody.stream { }
        _ = source.yield([1])
        source.finish()
        #expect(try await body.collect(upTo: 100) == [1])

        struct ClientGone: Error {}
        let (failing, failingSource) = RequestBody.stream { }
        failingSource.fail(ClientGone())
        await #expect(throws: ClientGone.self) { try await failing.collect(upTo: 100) }
    }

    @Test func discardingWakesAStoppedServer() {
        let demands = Atomic<Int>(0)
        let (body, source) = RequestBody.stream(highWatermark: 2) { demands.add(1, ordering: .relaxed) }
        #expect(source.yield([1, 2]) == .stopProducing)
        source.discardRemaining()
        #expect(demands.load(ordering: .relaxed) == 1)
        #expect(source.yield([3, 4, 5]) == .produceMore)
        withExtendedLifetime(body) {}
    }

    @Test func decodeReadsJSONAndAnswers400ForBadInput() async throws {
        struct Input: Decodable { let text: String }
        let good = makeJSONRequest(.post, "/", #"{"text": "hi"}"#)
        #expect(try await good.decode(as: Input.self).text == "hi")

        let missing = makeJSONRequest(.post, "/", #"{"other": 1}"#)
        await #expect {
            try await missing.decode(as: Input.self)
        } throws: { error in
            let error = error as? HTTPError
            return error?.status == .badRequest && error?.message.contains("missing key \"text\"") == true
        }
    }

    @Test func settingsAccessors() {
        let settings: [String: AppSetting] = [
            "greeting": "Hi", "port": 8080, "ratio": 0.5, "debug": true,
            "hosts": ["a", "b"], "db": ["path": "data.db"], "nothing": nil,
        ]
        #expect(settings["greeting"]?.string == "Hi")
        #expect(settings["greeting"]?.int == nil)
        #expect(settings["port"]?.int == 8080)
        #expect(settings["port"]?.double == 8080)
        #expect(settings["ratio"]?.double == 0.5)
        #expect(settings["debug"]?.bool == true)
        #expect(settings["hosts"]?[1]?.string == "b")
        #expect(settings["hosts"]?[2] == nil)
        #expect(settings["db"]?["path"]?.string == "data.db")
        #expect(settings["nothing"]?.isNull == true)
    }

    @Test func contextResolvesPathsAgainstTheRoot() {
        let context = AppContext(name: "notes", hosts: ["notes.test", "www.notes.test"], root: "/srv/notes")
        #expect(context.resolve("data") == "/srv/notes/data")
        #expect(context.resolve("/var/lib/notes") == "/var/lib/notes")
        #expect(context.host == "notes.test")
    }
}
