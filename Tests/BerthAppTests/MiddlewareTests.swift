import BerthApp
import BerthAppTesting
import Testing

/// Who a request was authenticated as, kept by the authentication middleware for handlers.
enum CurrentUser: RequestValueKey {
    typealias Value = String
}

/// Which middleware saw a request, in order, kept as a request value.
enum Trail: RequestValueKey {
    typealias Value = [String]
}

/// Marks a request and its response with a name, so tests see the order middleware ran in.
struct Mark: Middleware {
    let name: String

    func respond(to request: Request, next: Middleware.Next) async throws -> Response {
        var request = request
        request.values[Trail.self, default: []].append(name)
        var response = try await next(request)
        response.headers.add(name: "X-Trail", value: name)
        return response
    }
}

/// An app with middleware around a few routes: marks, CORS, and token authentication.
struct GuardedApp: App {
    let router: Router

    init(context: AppContext) {
        var router = Router()
        // Registered before any middleware: middleware covers it all the same.
        router.get("/early") { request in (request.values[Trail.self] ?? []).joined(separator: ",") }
        router.use(Mark(name: "outer"))
        router.use { request, next in
            // CORS: answers preflights, marks every answer (errors included).
            if request.method == .options, request.headers["Access-Control-Request-Method"] != nil {
                return Response(status: .noContent, headers: Headers([
                    ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Headers", "Authorization"),
                ]))
            }
            var response = try await next(request)
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response
        }
        router.use(Mark(name: "inner"))
        router.use { request, next in
            guard let header = request.headers["Authorization"], header.hasPrefix("Bearer ") else {
                return .text("Unauthorized\n", status: .unauthorized)
            }
            let token = header.dropFirst("Bearer ".count)
            guard token != "expired" else { throw HTTPError(.unauthorized, "token expired") }
            var request = request
            request.values[CurrentUser.self] = String(token)
            return try await next(request)
        }
        router.get("/me") { request in "you are \(request.values[CurrentUser.self] ?? "nobody")" }
        router.get("/trail") { request in (request.values[Trail.self] ?? []).joined(separator: ",") }
        router.get("/missing/:id") { request -> String in throw HTTPError(.notFound, "no item \(request.parameters["id"] ?? "")") }
        router.get("/broken") { _ -> String in throw HTTPError(.serviceUnavailable, "database down") }
        router.get("/failing") { _ -> String in throw Fault() }
        self.router = router
    }

    struct Fault: Error, CustomStringConvertible {
        var description: String { "the disk is on fire" }
    }
}

extension RequestValues {
    /// The value under `key`, or `fallback` to change in place.
    subscript<Key: RequestValueKey>(key: Key.Type, default fallback: @autoclosure () -> Key.Value) -> Key.Value {
        get { self[key] ?? fallback() }
        set { self[key] = newValue }
    }
}

@Suite("Middleware")
struct MiddlewareTests {
    private let token: KeyValuePairs<String, String> = ["Authorization": "Bearer ada"]

    @Test func runsInRegistrationOrderAroundTheHandler() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let response = try await client.get("/trail", headers: token)
        #expect(try await response.text() == "outer,inner")
        // The response passes back outwards: the inner middleware adds its field first.
        #expect(response.headers.values(for: "X-Trail") == ["inner", "outer"])
        await client.stop()
    }

    @Test func coversRoutesRegisteredBeforeIt() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        #expect(try await client.get("/early").status == .unauthorized)
        #expect(try await client.get("/early", headers: token).text() == "outer,inner")
        await client.stop()
    }

    @Test func answersEarlyWithoutCallingNext() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let refused = try await client.get("/me")
        #expect(refused.status == .unauthorized)
        #expect(refused.route == nil, "routing never ran")
        #expect(refused.headers["Access-Control-Allow-Origin"] == "*", "outer middleware saw the early answer")
        let expired = try await client.get("/me", headers: ["Authorization": "Bearer expired"])
        #expect(expired.status == .unauthorized)
        #expect(try await expired.text() == "token expired\n")
        #expect(expired.headers["Access-Control-Allow-Origin"] == "*", "a thrown HTTPError reaches outer middleware as a response")
        await client.stop()
    }

    @Test func keepsTypedValuesForHandlers() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let response = try await client.get("/me", headers: token)
        #expect(response.status == .ok)
        #expect(try await response.text() == "you are ada")
        #expect(response.route == "GET /me")
        await client.stop()
    }

    @Test func runsBeforeRoutingSoUnknownPathsLeakNothing() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        // Anonymous: a known path and an unknown one get the same answer.
        #expect(try await client.get("/nowhere").status == .unauthorized)
        #expect(try await client.post("/me").status == .unauthorized)
        // Authenticated: the router's 404 and 405 pass through every middleware.
        let missing = try await client.get("/nowhere", headers: token)
        #expect(missing.status == .notFound)
        #expect(missing.headers.values(for: "X-Trail") == ["inner", "outer"])
        #expect(missing.headers["Access-Control-Allow-Origin"] == "*")
        let wrongMethod = try await client.post("/me", headers: token)
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers["Allow"] == "GET, HEAD")
        #expect(wrongMethod.headers["Access-Control-Allow-Origin"] == "*")
        await client.stop()
    }

    @Test func seesPreflightRequests() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let preflight = try await client.send(.options, "/me", headers: [
            "Origin": "https://example.com", "Access-Control-Request-Method": "GET",
        ])
        #expect(preflight.status == .noContent)
        #expect(preflight.headers["Access-Control-Allow-Headers"] == "Authorization")
        #expect(preflight.headers.values(for: "X-Trail") == ["outer"])
        await client.stop()
    }

    @Test func errorsThatAreAnswersReachMiddlewareAsResponses() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let missing = try await client.get("/missing/7", headers: token)
        #expect(missing.status == .notFound)
        #expect(try await missing.text() == "no item 7\n")
        #expect(missing.headers["Access-Control-Allow-Origin"] == "*")
        #expect(missing.loggedError == nil)
        #expect(missing.route == "GET /missing/:id")

        let broken = try await client.get("/broken", headers: token)
        #expect(broken.status == .serviceUnavailable)
        #expect(broken.headers["Access-Control-Allow-Origin"] == "*")
        #expect(broken.loggedError == "503 Service Unavailable: database down", "a 5xx answer is still logged")
        await client.stop()
    }

    @Test func failuresPassThroughMiddlewareAndBecome500() async throws {
        let client = try await AppTestClient(GuardedApp.self)
        let failing = try await client.get("/failing", headers: token)
        #expect(failing.status == .internalServerError)
        #expect(failing.headers["Access-Control-Allow-Origin"] == nil, "no middleware saw a response")
        #expect(failing.loggedError?.hasSuffix("the disk is on fire") == true)
        #expect(failing.route == "GET /failing")
        await client.stop()
    }
}
