import BerthApp
import BerthAppTesting
import Foundation
import Synchronization
import Testing
import NotesApp

/// The notes app run in-process by the test kit, its data in the client's temporary root.
@Suite("NotesApp")
struct NotesAppTests {
    /// What the API answers for one note.
    struct NoteJSON: Decodable, Equatable {
        let id: Int
        let text: String
        let created: Date
    }

    struct Problem: Decodable {
        let error: String
    }

    @Test func createsListsAndDeletesNotes() async throws {
        let client = try await AppTestClient(NotesApp.self)
        #expect(try await client.get("/api/notes").text() == "[]")

        let created = try await client.post("/api/notes", body: .json(["text": "  buy milk "]))
        #expect(created.status == .created)
        #expect(created.headers["Location"] == "/api/notes/1")
        #expect(created.headers["Content-Type"] == "application/json")
        let note = try await created.json(as: NoteJSON.self)
        #expect(note.id == 1 && note.text == "buy milk")
        _ = try await client.post("/api/notes", body: .json(["text": "call Bo"]))

        let list = try await client.get("/api/notes")
        #expect(try await list.json(as: [NoteJSON].self).map(\.text) == ["buy milk", "call Bo"])
        #expect(try await client.get("/api/notes/2").json(as: NoteJSON.self).text == "call Bo")

        #expect(try await client.delete("/api/notes/1").status == .noContent)
        let gone = try await client.get("/api/notes/1")
        #expect(gone.status == .notFound)
        #expect(try await gone.json(as: Problem.self).error == "no note 1")
        await client.stop()
    }

    @Test func keepsNotesAcrossARestart() async throws {
        let folder = FileManager.default.temporaryDirectory.path + "/notes-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try await AppTestClient(NotesApp.self, settings: ["data_dir": .string(folder)])
        _ = try await first.post("/api/notes", body: .json(["text": "first"]))
        _ = try await first.post("/api/notes", body: .json(["text": "second"]))
        #expect(try await first.delete("/api/notes/1").status == .noContent)
        await first.stop()

        let second = try await AppTestClient(NotesApp.self, settings: ["data_dir": .string(folder)])
        #expect(try await second.get("/api/notes").json(as: [NoteJSON].self).map(\.id) == [2])
        let next = try await second.post("/api/notes", body: .json(["text": "third"]))
        #expect(try await next.json(as: NoteJSON.self).id == 3, "ids are never reused")
        await second.stop()
    }

    @Test func refusesBadInput() async throws {
        let client = try await AppTestClient(NotesApp.self)
        let empty = try await client.post("/api/notes", body: .json(["text": "   "]))
        #expect(empty.status == .unprocessableContent)
        #expect(try await empty.json(as: Problem.self).error == "text must not be empty")
        let wrongType = try await client.post("/api/notes", body: .json(["text": 5]))
        #expect(wrongType.status == .badRequest)
        #expect(wrongType.loggedError == nil, "a client's mistake is not an app failure")
        let huge = try await client.post("/api/notes", body: .json(["text": String(repeating: "a", count: 70_000)]))
        #expect(huge.status == .contentTooLarge)
        #expect(try await client.get("/api/notes/abc").status == .badRequest)
        await client.stop()
    }

    @Test func noAnswerIsCached() async throws {
        let client = try await AppTestClient(NotesApp.self)
        #expect(try await client.get("/api/notes").headers["Cache-Control"] == "no-store")
        // The router's own answers pass through the middleware too.
        #expect(try await client.get("/api/nothing").headers["Cache-Control"] == "no-store")
        #expect(try await client.put("/api/notes").headers["Cache-Control"] == "no-store")
        await client.stop()
    }

    @Test func crashRouteExistsOnlyWhenAskedFor() async throws {
        let safe = try await AppTestClient(NotesApp.self)
        #expect(try await safe.send(.options, "/api/crash").status == .notFound)
        // Only asked which methods exist: calling it would trap this test process.
        let armed = try await AppTestClient(NotesApp.self, settings: ["crash_route": true])
        let options = try await armed.send(.options, "/api/crash")
        #expect(options.status == .noContent)
        #expect(options.headers["Allow"] == "GET, HEAD")
        await safe.stop()
        await armed.stop()
    }

    /// What the live feed sends.
    struct EventJSON: Decodable, Equatable {
        let type: String
        let note: NoteJSON?
        let id: Int?
    }

    static func event(_ message: WebSocketMessage?) throws -> EventJSON {
        guard case .text(let text) = message else { throw HTTPError(.badRequest, "expected a text message, got \(String(describing: message))") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(EventJSON.self, from: Data(text.utf8))
    }

    @Test func theLiveFeedSendsAddsAndDeletesToEveryPage() async throws {
        let client = try await AppTestClient(NotesApp.self)
        let first = try await client.webSocket("/api/notes/live")
        let second = try await client.webSocket("/api/notes/live")
        let created = try await client.post("/api/notes", body: .json(["text": "live note"]))
        let note = try await created.json(as: NoteJSON.self)
        for page in [first, second] {
            let added = try Self.event(try await page.receive())
            #expect(added == EventJSON(type: "added", note: note, id: nil))
        }
        #expect(try await client.delete("/api/notes/\(note.id)").status == .noContent)
        for page in [first, second] {
            #expect(try Self.event(try await page.receive()) == EventJSON(type: "deleted", note: nil, id: note.id))
        }
        // A page that left no longer gets events; the one still open does.
        await first.close()
        _ = try await client.post("/api/notes", body: .json(["text": "after"]))
        #expect(try Self.event(try await second.receive()).note?.text == "after")
        await second.close()
        await client.stop()
    }

    @Test func theLiveFeedSeesChangesOfAnotherWorker() async throws {
        // Two app instances on one data folder stand for two worker processes.
        let folder = FileManager.default.temporaryDirectory.path + "/notes-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let here = try await AppTestClient(NotesApp.self, settings: ["data_dir": .string(folder)])
        let there = try await AppTestClient(NotesApp.self, settings: ["data_dir": .string(folder)])
        let page = try await here.webSocket("/api/notes/live")
        let note = try await there.post("/api/notes", body: .json(["text": "from elsewhere"])).json(as: NoteJSON.self)
        #expect(try Self.event(try await page.receive(within: .seconds(5))) == EventJSON(type: "added", note: note, id: nil))
        #expect(try await there.delete("/api/notes/\(note.id)").status == .noContent)
        #expect(try Self.event(try await page.receive(within: .seconds(5))) == EventJSON(type: "deleted", note: nil, id: note.id))
        // Its own change is sent once, though the file watch sees it too.
        _ = try await here.post("/api/notes", body: .json(["text": "mine"]))
        #expect(try Self.event(try await page.receive()).note?.text == "mine")
        await #expect(throws: TestWebSocketError.self) { try await page.receive(within: .milliseconds(2500)) }
        await page.close()
        await here.stop()
        await there.stop()
    }

    @Test func aPageTooFarBehindIsDisconnected() async throws {
        let client = try await AppTestClient(NotesApp.self)
        let slow = try await client.webSocket("/api/notes/live")
        let fast = try await client.webSocket("/api/notes/live")
        // The slow page reads nothing: the kit holds 16 of the app's sends, the feed 64 more.
        for number in 1...120 {
            _ = try await client.post("/api/notes", body: .json(["text": "note \(number)"]))
            #expect(try Self.event(try await fast.receive()).note?.text == "note \(number)")
        }
        var received = 0
        while let message = try await slow.receive() {
            _ = try Self.event(message)
            received += 1
        }
        #expect(received < 120)
        #expect(slow.closeCode == .policyViolation)
        await fast.close()
        await client.stop()
    }

    @Test func anUnreadableFileIsLoggedOnceNotEverySecond() async throws {
        let folder = FileManager.default.temporaryDirectory.path + "/notes-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lines = Mutex<[String]>([])
        let client = try await AppTestClient(NotesApp.self, settings: ["data_dir": .string(folder)],
                                             log: { _, message, _ in lines.withLock { $0.append(message) } })
        try Data("not json".utf8).write(to: URL(fileURLWithPath: folder + "/notes.json"))
        let failures = { lines.withLock { $0.filter { $0.contains("cannot check") } } }
        let deadline = ContinuousClock.now + .seconds(5)
        while failures().isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(failures().count == 1, "\(lines.withLock { $0 })")
        #expect(failures().first?.contains("is not a notes file") == true)
        // Two more looks at the same broken file: no new line.
        try await Task.sleep(for: .milliseconds(2200))
        #expect(failures().count == 1, "\(lines.withLock { $0 })")
        await client.stop()
    }
}
