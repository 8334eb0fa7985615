import BerthApp
import BerthAppTesting
import Foundation
import Testing

/// A value a handler returns as JSON without conforming to anything of Berth's.
struct Bean: Codable, Equatable {
    let name: String
    let roasted: Date
}

/// A page that knows how to answer, the way a template type would.
struct Page: ResponseConvertible {
    let title: String

    func response(for request: Request) throws -> Response {
        .html("<h1>\(title)</h1>")
    }
}

/// Both `Encodable` and `ResponseConvertible`: the protocol decides.
struct Report: Encodable, ResponseConvertible {
    let lines: [String]

    func response(for request: Request) throws -> Response {
        .text(lines.joined(separator: "\n"))
    }
}

/// One route per kind of result.
struct ReturnsApp: App {
    static let roasted = Date(timeIntervalSince1970: 1_700_000_000)
    let router: Router

    init(context: AppContext) {
        var router = Router()
        router.get("/response") { _ in .text("a response", status: .accepted) }
        router.get("/string") { request in "Hello, \(request.queryItems["name"] ?? "you")" }
        router.get("/bean") { _ in Bean(name: "Yirgacheffe", roasted: Self.roasted) }
        router.get("/beans") { _ in [Bean(name: "b", roasted: Self.roasted), Bean(name: "a", roasted: Self.roasted)] }
        router.get("/counts") { _ in ["b": 2, "a": 1] }
        router.get("/page") { _ in Page(title: "Welcome") }
        router.get("/report") { _ in Report(lines: ["one", "two"]) }
        router.get("/nan") { _ in [Double.nan] }
        router.get("/branches") { request in
            guard let name = request.queryItems["name"] else { throw HTTPError(.badRequest, "name is missing") }
            if name.isEmpty { return "nobody" }
            return "somebody called \(name)"
        }
        router.post("/beans") { request in try await request.decode(as: Bean.self) }
        router.put("/beans/:name") { request in "replaced \(request.parameters["name"] ?? "")" }
        router.patch("/beans/:name") { request in Page(title: request.parameters["name"] ?? "") }
        router.delete("/beans/:name") { _ in Response(status: .noContent) }
        router.on("BREW", "/beans/:name") { request in ["brewing": request.parameters["name"] ?? ""] }
        self.router = router
    }
}

@Suite("Return types")
struct ReturnTypeTests {
    @Test func responseIsSentAsItIs() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let response = try await client.get("/response")
        #expect(response.status == .accepted)
        #expect(try await response.text() == "a response")
        await client.stop()
    }

    @Test func stringIsPlainText() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let response = try await client.get("/string?name=Ada")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(try await response.text() == "Hello, Ada", "plain text, not a JSON string")
        await client.stop()
    }

    @Test func encodableIsJSON() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let bean = try await client.get("/bean")
        #expect(bean.status == .ok)
        #expect(bean.headers["Content-Type"] == "application/json")
        #expect(try await bean.text() == #"{"name":"Yirgacheffe","roasted":"2023-11-14T22:13:20Z"}"#)
        #expect(try await client.get("/beans").json(as: [Bean].self).map(\.name) == ["b", "a"])
        #expect(try await client.get("/counts").text() == #"{"a":1,"b":2}"#, "keys sorted: the same value, the same bytes")
        await client.stop()
    }

    @Test func ownTypesConvertThemselves() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let page = try await client.get("/page")
        #expect(page.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(try await page.text() == "<h1>Welcome</h1>")
        let report = try await client.get("/report")
        #expect(report.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(try await report.text() == "one\ntwo")
        await client.stop()
    }

    @Test func aValueThatDoesNotEncodeIsAFailure() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let response = try await client.get("/nan")
        #expect(response.status == .internalServerError)
        #expect(response.loggedError?.contains("EncodingError") == true)
        await client.stop()
    }

    @Test func handlersWithSeveralReturnsAndThrows() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        #expect(try await client.get("/branches?name=Bo").text() == "somebody called Bo")
        #expect(try await client.get("/branches?name=").text() == "nobody")
        let missing = try await client.get("/branches")
        #expect(missing.status == .badRequest)
        #expect(try await missing.text() == "name is missing\n")
        await client.stop()
    }

    @Test func everyMethodTakesEveryKind() async throws {
        let client = try await AppTestClient(ReturnsApp.self)
        let bean = Bean(name: "Sidamo", roasted: ReturnsApp.roasted)
        let created = try await client.post("/beans", body: .json(bean))
        #expect(created.headers["Content-Type"] == "application/json")
        #expect(try await created.json(as: Bean.self) == bean)
        #expect(try await client.put("/beans/x").text() == "replaced x")
        #expect(try await client.patch("/beans/y").text() == "<h1>y</h1>")
        #expect(try await client.delete("/beans/z").status == .noContent)
        #expect(try await client.send("BREW", "/beans/w").text() == #"{"brewing":"w"}"#)
        await client.stop()
    }
}
