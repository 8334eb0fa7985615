import Testing
@_spi(BerthServer) import BerthApp

@Suite("Router")
struct RouterTests {
    /// Each handler answers with its name and what it captured.
    private func router() -> Router {
        var router = Router()
        router.get("/notes") { _ in .text("list") }
        router.post("/notes") { _ in .text("create") }
        router.get("/notes/new") { _ in .text("form") }
        router.get("/notes/:id") { request in .text("note \(request.parameters["id"]!)") }
        router.delete("/notes/:id") { request in .text("delete \(request.parameters["id"]!)") }
        router.get("/users/:user/notes/:id") { request in
            .text("\(request.parameters["user"]!)/\(request.parameters["id"]!)")
        }
        router.get("/files/*") { request in .text("file [\(request.parameters.tail!)]") }
        router.post("/files/upload") { _ in .text("upload") }
        router.get("/assets/*path") { request in .text("asset \(request.parameters["path"]!)") }
        return router
    }

    private func answer(_ method: Request.Method, _ target: String) async throws -> Response {
        try await router().respond(to: makeRequest(method, target))
    }

    @Test func literalRoutesAndMethods() async throws {
        #expect(try await answer(.get, "/notes").text == "list")
        #expect(try await answer(.post, "/notes").text == "create")
        #expect(try await answer(.get, "/notes/").text == "list")
    }

    /// A path in plain form finds a literal route with one lookup; every other spelling of it
    /// walks the tree. Both must give the same answers.
    @Test func plainAndOtherSpellingsOfAPathAgree() async throws {
        for target in ["/notes", "/notes/", "//notes", "/n%6Ftes", "/notes//"] {
            #expect(try await answer(.get, target).text == "list", "\(target)")
            #expect(try await answer(.head, target).text == "list", "\(target)")
        }
        #expect(try await answer(.get, "/notes/new").text == "form")
        #expect(try await answer(.get, "/notes/%6Eew").text == "form")
        // A literal route for another method only: the walk goes on to the wildcard.
        #expect(try await answer(.get, "/files/upload").text == "file [upload]")
        let delete = try await answer(.delete, "/notes")
        #expect(delete.status == .methodNotAllowed)
        #expect(delete.headers["Allow"] == "GET, HEAD, POST")
        var root = Router()
        root.get("/") { _ in .text("root") }
        #expect(try await root.respond(to: makeRequest(.get, "/")).text == "root")
        #expect(try await root.respond(to: makeRequest(.get, "//")).text == "root")
    }

    @Test func literalBeatsParameter() async throws {
        #expect(try await answer(.get, "/notes/new").text == "form")
        #expect(try await answer(.get, "/notes/42").text == "note 42")
        #expect(try await answer(.delete, "/notes/new").text == "delete new")
    }

    @Test func parametersAreCapturedAndDecoded() async throws {
        #expect(try await answer(.get, "/users/ana/notes/7").text == "ana/7")
        #expect(try await answer(.get, "/notes/caf%C3%A9%20au%20lait").text == "note café au lait")
    }

    @Test func wildcardTakesTheRestOfThePath() async throws {
        #expect(try await answer(.get, "/files/a/b/c.txt").text == "file [a/b/c.txt]")
        #expect(try await answer(.get, "/files").text == "file []")
        #expect(try await answer(.get, "/assets/css/site.css").text == "asset css/site.css")
    }

    @Test func lessSpecificRouteServesOtherMethods() async throws {
        #expect(try await answer(.post, "/files/upload").text == "upload")
        #expect(try await answer(.get, "/files/upload").text == "file [upload]")
    }

    @Test func unknownPathIs404() async throws {
        let response = try await answer(.get, "/nothing/here")
        #expect(response.status == .notFound)
        #expect(response.headers["Allow"] == nil)
    }

    @Test func otherMethodIs405WithAllow() async throws {
        let response = try await answer(.put, "/notes/3")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["allow"] == "GET, HEAD, DELETE")
        let list = try await answer(.delete, "/notes")
        #expect(list.status == .methodNotAllowed)
        #expect(list.headers["Allow"] == "GET, HEAD, POST")
    }

    @Test func headUsesGetAndOptionsListsMethods() async throws {
        #expect(try await answer(.head, "/notes/9").text == "note 9")
        let options = try await answer(.options, "/notes")
        #expect(options.status == .noContent)
        #expect(options.headers["Allow"] == "GET, HEAD, POST")
    }

    @Test func routeIsNotedForTheServer() async throws {
        struct Routed: App {
            let router: Router
            init(context: AppContext) {
                var router = Router()
                router.get("/notes/:id") { _ in .text("ok") }
                self.router = router
            }
        }
        let hosted = try await HostedApp.start(Routed.self, context: AppContext(name: "t", root: "/"))
        #expect(await hosted.respond(to: makeRequest(.get, "/notes/4")).route == "GET /notes/:id")
        #expect(await hosted.respond(to: makeRequest(.get, "/other")).route == nil)
    }

    /// A handler without `await` is a sync handler: the server may run it without a task. The
    /// router answers it, and its own 404, 405 and `OPTIONS`, without suspending. For a handler
    /// that suspends, or a route seen holding its thread, it finds the route for the task to
    /// run; with middleware it does nothing before the task.
    @Test func handlersThatDoNotSuspendAnswerWithoutATask() async throws {
        var router = Router()
        router.get("/sync/:id") { request in "sync \(request.parameters["id"]!)" }
        router.get("/async/:id") { request in
            await Task.yield()
            return "async \(request.parameters["id"]!)"
        }
        router.post("/json") { _ in ["a": 1] }
        router.get("/fails") { _ in throw HTTPError(.forbidden) }

        func answer(_ method: Request.Method, _ target: String, note: RouteNote = RouteNote()) throws -> Response? {
            guard case .answered(let response) = try router.firstStep(for: makeRequest(method, target), note: note) else { return nil }
            return response
        }
        let note = RouteNote()
        #expect(try answer(.get, "/sync/7", note: note)?.text == "sync 7")
        #expect(note.route == "GET /sync/:id")
        #expect(try answer(.head, "/sync/7")?.text == "sync 7")
        #expect(try answer(.post, "/json")?.text == #"{"a":1}"#)
        #expect(try answer(.get, "/none")?.status == .notFound)
        #expect(try answer(.put, "/json")?.status == .methodNotAllowed)
        #expect(throws: HTTPError.self) { try answer(.get, "/fails") }

        // A handler that suspends: the route found, with its parameters, runs in the task.
        let found = RouteNote()
        guard case .routed(let routed) = try router.firstStep(for: makeRequest(.get, "/async/8"), note: found) else {
            Issue.record("a handler that suspends was not left to a task")
            return
        }
        #expect(found.route == nil)
        #expect(try await routed.run(note: found).text == "async 8")
        #expect(found.route == "GET /async/:id")

        // Three long steps make the route heavy: from then on it runs in a task of its own.
        let heavy = RouteNote()
        _ = try answer(.get, "/sync/1", note: heavy)
        for _ in 0..<3 { _ = heavy.countLongStep() }
        guard case .routed(let moved) = try router.firstStep(for: makeRequest(.get, "/sync/2"), note: RouteNote()) else {
            Issue.record("a heavy route was answered without a task")
            return
        }
        #expect(try await moved.run(note: nil).text == "sync 2")

        var guarded = Router()
        guarded.get("/sync") { _ in "sync" }
        guarded.use { request, next in try await next(request) }
        guard case .middleware = try guarded.firstStep(for: makeRequest(.get, "/sync"), note: RouteNote()) else {
            Issue.record("a router with middleware answered without it")
            return
        }
    }

    /// The server answers without a task only for an app seen letting its router answer: one
    /// that implements `respond(to:)` itself is always asked through it.
    @Test func onlyAppsThatLetTheirRouterAnswerAreAnsweredWithoutATask() async throws {
        /// One sync route, `GET /hi`.
        func hi() -> Router {
            var router = Router()
            router.get("/hi") { _ in "hi" }
            return router
        }
        struct Plain: App {
            let router = hi()
            init(context: AppContext) {}
        }
        struct Own: App {
            let router = hi()
            init(context: AppContext) {}
            func respond(to request: Request) async throws -> Response {
                var response = try await router.respond(to: request)
                response.headers["X-Own"] = "yes"
                return response
            }
        }
        func answered(_ step: HostedApp.FirstStep) -> AppOutcome? {
            guard case .answered(let outcome) = step else { return nil }
            return outcome
        }
        let plain = try await HostedApp.start(Plain.self, context: AppContext(name: "plain", root: "/"))
        #expect(answered(plain.firstStep(for: makeRequest(.get, "/hi"), note: RouteNote())) == nil)
        #expect(await plain.respond(to: makeRequest(.get, "/hi")).response.text == "hi")
        let outcome = answered(plain.firstStep(for: makeRequest(.get, "/hi"), note: RouteNote()))
        #expect(outcome?.response.text == "hi")
        #expect(outcome?.route == "GET /hi")

        let own = try await HostedApp.start(Own.self, context: AppContext(name: "own", root: "/"))
        #expect(await own.respond(to: makeRequest(.get, "/hi")).response.headers["X-Own"] == "yes")
        #expect(answered(own.firstStep(for: makeRequest(.get, "/hi"), note: RouteNote())) == nil)
    }
}
