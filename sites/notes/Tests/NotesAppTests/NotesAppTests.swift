import BerthApp
import BerthAppTesting
import Foundation
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
}
