import BerthApp

/// A JSON API for notes:
///
/// - `GET /api/notes`: every note, oldest first
/// - `POST /api/notes` with `{"text": "…"}`: 201 and the new note
/// - `GET /api/notes/:id`, `DELETE /api/notes/:id`: the note, or 204; 404 when there is none
/// - `GET /api/notes/live`: a WebSocket that sends each change as it happens, as JSON text
///   messages: `{"type":"added","note":{…}}` and `{"type":"deleted","id":7}` (see ``NoteFeed``)
/// - `GET /api/crash`: traps on purpose, only with the setting `crash_route: true` (fault tests)
///
/// Every answer carries `Cache-Control: no-store`: notes change, and a cached list would hide
/// a note just added.
///
/// Settings: `data_dir` (default `data`, relative to the app's folder) holds `notes.json`.
public struct NotesApp: App {
    public let router: Router
    private let store: NoteStore
    private let context: AppContext
    private let watcher = OutsideChangeWatcher()

    /// Longest note accepted, in characters.
    static let maximumLength = 10_000

    public init(context: AppContext) {
        let folder = context.resolve(context.settings["data_dir"]?.string ?? "data")
        let feed = NoteFeed()
        let store = NoteStore(folder: folder, feed: feed)
        self.store = store
        self.context = context

        var router = Router()
        router.use { request, next in
            var response = try await next(request)
            response.headers["Cache-Control"] = "no-store"
            return response
        }
        router.get("/api/notes") { _ in
            try await store.all()
        }
        router.post("/api/notes") { request in
            let input = try await request.decode(as: NewNote.self, limit: 64 * 1024)
            let text = input.text.trimmingSpaces()
            guard !text.isEmpty else { return try Self.problem(.unprocessableContent, "text must not be empty") }
            guard text.count <= Self.maximumLength else {
                return try Self.problem(.unprocessableContent, "text must be at most \(Self.maximumLength) characters")
            }
            let note = try await store.add(text: text)
            var response = try Response.json(note, status: .created)
            response.headers["Location"] = "/api/notes/\(note.id)"
            return response
        }
        router.get("/api/notes/:id") { request in
            let id = try request.parameters.int("id")
            guard let note = try await store.note(id: id) else { return try Self.problem(.notFound, "no note \(id)") }
            return try .json(note)
        }
        router.delete("/api/notes/:id") { request in
            let id = try request.parameters.int("id")
            guard try await store.delete(id: id) else { return try Self.problem(.notFound, "no note \(id)") }
            return Response(status: .noContent)
        }
        router.get("/api/notes/live") { _ in
            // Subscribed before the 101 goes out, so that nothing is missed between the page's
            // `open` and the list it then reloads; a refused handshake drops the response and,
            // with it, the subscription.
            let subscription = feed.subscribe()
            return Response.webSocket { socket in try await subscription.forward(to: socket) }
        }
        if context.settings["crash_route"]?.bool == true {
            router.get("/api/crash") { _ in
                fatalError("GET /api/crash: trapping on purpose (crash_route is on)")
            }
        }
        self.router = router
    }

    public func start() async throws {
        try await store.open()
        context.log(.info, "notes are kept in \(store.file)")
        // With `workers: N`, each worker has its own NotesApp and feed: look at the shared file
        // every second so pages connected to this worker also see the others' changes.
        watcher.start { [store] in
            try await store.publishOutsideChanges()
        } failed: { [store, context] error in
            context.log(.error, "cannot check \(store.file) for changes: \(error)")
        }
    }

    public func stop() async {
        await watcher.stop()
        await store.close()
    }

    /// Errors are JSON too, so the front end reads every answer the same way.
    private static func problem(_ status: Response.Status, _ message: String) throws -> Response {
        try .json(["error": message], status: status)
    }
}

/// The body of `POST /api/notes`.
struct NewNote: Decodable {
    let text: String
}

extension String {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

@_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(NotesApp.self) }
