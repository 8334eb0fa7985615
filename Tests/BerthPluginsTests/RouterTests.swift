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
}
