import Foundation
import Testing
@_spi(BerthServer) import BerthApp
@_spi(BerthServer) import BerthPlugins
@_spi(BerthServer) import BerthAppLoader

/// The apps in `sites/`, built by the real builder and loaded by the real loader.
@Suite("Example apps", .timeLimit(.minutes(20)))
struct ExampleAppTests {
    private func start(_ name: String, _ path: String, settings: [String: AppSetting] = [:]) async throws -> LoadedApp {
        let app = try LoadedApp.load(name: name, libraryPath: path)
        try await app.start(context: AppContext(name: name, hosts: ["localhost"],
                                                root: Fixtures.repository + "/sites/" + name, settings: settings))
        return app
    }

    @Test func helloAnswersTheBenchmarkRoute() async throws {
        let path = try await Fixtures.shared.hello()
        #expect(path.hasSuffix(".so") && !path.hasSuffix("/libHelloApp.so"), "workers load a versioned copy")
        let app = try await start("hello", path, settings: ["greeting": "Hi"])
        #expect(app.typeName == "HelloApp.HelloApp")

        let hello = await app.respond(to: makeRequest(.get, "/hello"))
        #expect(hello.response.status == .ok)
        #expect(hello.response.text == "Hello, world!")
        #expect(hello.response.text.utf8.count == 13)
        #expect(hello.response.headers["Content-Type"]?.hasPrefix("text/plain") == true)
        #expect(hello.route == "GET /hello")

        #expect(await app.respond(to: makeRequest(.get, "/hello/Ana")).response.text == "Hi, Ana!")
        #expect(await app.respond(to: makeRequest(.get, "/nowhere")).response.status == .notFound)
        let post = await app.respond(to: makeRequest(.post, "/hello"))
        #expect(post.response.status == .methodNotAllowed)
        #expect(post.response.headers["Allow"] == "GET, HEAD")
        await app.stop()
        #expect(await app.respond(to: makeRequest(.get, "/hello")).response.status == .serviceUnavailable)
    }

    @Test func helloGreetsWithHelloByDefault() async throws {
        let app = try await start("hello", try await Fixtures.shared.hello())
        #expect(await app.respond(to: makeRequest(.get, "/hello/Bo")).response.text == "Hello, Bo!")
    }

    @Test func twoAppsWithTheSameTypeNameCoexist() async throws {
        let hello = try await start("hello", try await Fixtures.shared.hello())
        let twinPath = try await Fixtures.shared.twinHello()
        #expect(try AppLibrary.verify(name: "twin", libraryPath: twinPath, probe: try await Fixtures.shared.probe())
            == "HelloApp.HelloApp")
        let twin = try await start("twin", twinPath)
        #expect(hello.typeName == twin.typeName)
        #expect(await hello.respond(to: makeRequest(.get, "/hello")).response.text == "Hello, world!")
        #expect(await twin.respond(to: makeRequest(.get, "/hello")).response.text == "Hello from the twin!")
        #expect(await hello.respond(to: makeRequest(.get, "/hello/x")).response.text == "Hello, x!")
        #expect(await twin.respond(to: makeRequest(.get, "/hello/x")).response.status == .notFound)
    }

    @Test func notesStoresNotesDurably() async throws {
        let path = try await Fixtures.shared.notes()
        let data = try makeTemporaryFolder()
        let app = try await start("notes", path, settings: ["data_dir": .string(data)])
        #expect(app.typeName == "NotesApp.NotesApp")

        #expect(await app.respond(to: makeRequest(.get, "/api/notes")).response.text == "[]")
        let created = await app.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": "  buy milk "}"#))
        #expect(created.response.status == .created)
        #expect(created.response.headers["Location"] == "/api/notes/1")
        let note = try #require(created.response.jsonObject)
        #expect(note["id"] as? Int == 1)
        #expect(note["text"] as? String == "buy milk")
        #expect(note["created"] is String)
        _ = await app.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": "call Bo"}"#))

        let one = await app.respond(to: makeRequest(.get, "/api/notes/2"))
        #expect(one.response.jsonObject?["text"] as? String == "call Bo")
        #expect(await app.respond(to: makeRequest(.delete, "/api/notes/1")).response.status == .noContent)
        let gone = await app.respond(to: makeRequest(.delete, "/api/notes/1"))
        #expect(gone.response.status == .notFound)
        #expect(gone.response.jsonObject?["error"] as? String == "no note 1")
        #expect(await app.respond(to: makeRequest(.get, "/api/notes/1")).response.status == .notFound)
        await app.stop()

        // The file on disk is what was acknowledged; a new instance (a restarted worker) sees it.
        let saved = try String(contentsOfFile: data + "/notes.json", encoding: .utf8)
        #expect(saved.contains("call Bo") && !saved.contains("buy milk"))
        let restarted = try await start("notes", path, settings: ["data_dir": .string(data)])
        let list = await restarted.respond(to: makeRequest(.get, "/api/notes"))
        let notes = try #require((try? JSONSerialization.jsonObject(with: Data(list.response.text.utf8))) as? [[String: Any]])
        #expect(notes.map { $0["id"] as? Int } == [2])
        let next = await restarted.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": "third"}"#))
        #expect(next.response.jsonObject?["id"] as? Int == 3, "ids are never reused")
        await restarted.stop()
    }

    @Test func notesRefusesBadInput() async throws {
        let app = try await start("notes", try await Fixtures.shared.notes(), settings: ["data_dir": .string(try makeTemporaryFolder())])
        let empty = await app.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": "   "}"#))
        #expect(empty.response.status == .unprocessableContent)
        #expect(empty.response.jsonObject?["error"] as? String == "text must not be empty")
        let broken = await app.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": 5}"#))
        #expect(broken.response.status == .badRequest)
        #expect(broken.error == nil)
        let huge = await app.respond(to: makeJSONRequest(.post, "/api/notes", #"{"text": ""# + String(repeating: "a", count: 70_000) + #""}"#))
        #expect(huge.response.status == .contentTooLarge)
        #expect(await app.respond(to: makeRequest(.get, "/api/notes/abc")).response.status == .badRequest)
        await app.stop()
    }

    @Test func crashRouteExistsOnlyWhenAskedFor() async throws {
        let path = try await Fixtures.shared.notes()
        let folder = try makeTemporaryFolder()
        let safe = try await start("notes", path, settings: ["data_dir": .string(folder)])
        #expect(await safe.respond(to: makeRequest(.options, "/api/crash")).response.status == .notFound)
        // Only asked which methods exist: calling it would trap this test process.
        let armed = try await start("notes", path, settings: ["data_dir": .string(folder), "crash_route": true])
        let options = await armed.respond(to: makeRequest(.options, "/api/crash"))
        #expect(options.response.status == .noContent)
        #expect(options.response.headers["Allow"] == "GET, HEAD")
        await safe.stop()
        await armed.stop()
    }
}
