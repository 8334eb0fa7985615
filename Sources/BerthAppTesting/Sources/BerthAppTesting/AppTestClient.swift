import Foundation
@_spi(BerthServer) import BerthApp

/// Runs an app in the test's process and sends it requests, as the server would: the app is
/// created from an ``AppContext`` with the given settings, its `start()` hook runs, and each
/// request goes through the same code the server calls (router, middleware, errors to
/// statuses, refused headers to 500).
///
/// ```swift
/// import BerthAppTesting
/// import Testing
/// @testable import HelloApp
///
/// @Test func greets() async throws {
///     let client = try await AppTestClient(HelloApp.self, settings: ["greeting": "Hi"])
///     let response = try await client.get("/hello/Ada")
///     #expect(response.status == .ok)
///     #expect(try await response.text() == "Hi, Ada!")
///     await client.stop()
/// }
/// ```
///
/// What the server adds on the wire is not simulated: framing, `Date`, compression, ranges
/// and conditional requests for `.file` bodies, the request timeout. Requests are sent one
/// call at a time but may run concurrently, as they do in a worker.
///
/// Each kind of exchange has a method of its own over two shared steps: ``makeRequest`` builds
/// the ``Request`` the server would, and ``running`` is the app while it runs. Plain requests
/// are ``send(_:_:headers:body:)``; an exchange that keeps the connection (a WebSocket) is
/// another method beside it, in a file of its own, returning its own test handle.
public final class AppTestClient: Sendable {
    /// The context the app was created with.
    public let context: AppContext

    private let hosted: HostedApp
    private let lifecycle = Lifecycle()
    /// The root folder this client made (and removes when it stops), when none was given.
    private let temporaryRoot: String?

    /// Creates `type` from a context with `settings`, then runs its `start()` hook.
    ///
    /// - Parameters:
    ///   - name: the app's name, as under `apps:` in the virtual-host file.
    ///   - hosts: the host names that route to the app; requests are addressed to the first.
    ///   - root: the app's folder, against which relative settings resolve; by default a new
    ///     empty temporary folder, removed by ``stop()``, so tests never write into the package.
    ///   - log: receives the app's log lines; by default they are dropped.
    public init<A: App>(
        _ type: A.Type,
        settings: [String: AppSetting] = [:],
        name: String = "app",
        hosts: [String] = ["localhost"],
        root: String? = nil,
        log: AppLogger.Sink? = nil
    ) async throws {
        try SingleAPICopy.check()
        let folder: String
        if let root {
            folder = root
            temporaryRoot = nil
        } else {
            folder = FileManager.default.temporaryDirectory.path + "/berth-app-test-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            temporaryRoot = folder
        }
        context = AppContext(name: name, hosts: hosts, root: folder, settings: settings,
                             logger: AppLogger(log ?? { _, _, _ in }))
        do {
            hosted = try await HostedApp.start(type, context: context)
        } catch {
            if let temporaryRoot { try? FileManager.default.removeItem(atPath: temporaryRoot) }
            throw error
        }
    }

    /// Sends a request and returns the app's answer. `target` is a path, percent-encoded as a
    /// client sends it, with an optional `?query`.
    public func send(
        _ method: Request.Method, _ target: String,
        headers: KeyValuePairs<String, String> = [:], body: TestRequestBody = .empty
    ) async throws -> TestResponse {
        let request = try makeRequest(method, target, headers: headers, body: body)
        guard let app = running else {
            // What the server answers once an app stopped.
            return TestResponse(outcome: AppOutcome(response: .text("Service Unavailable\n", status: .serviceUnavailable),
                                                    error: "app \(context.name) is not running"), method: method)
        }
        return TestResponse(outcome: await app.answer(request), method: method)
    }

    /// The request the server would hand the app for `target` (a path with an optional
    /// `?query`), addressed to the app's primary host from the loopback address.
    func makeRequest(
        _ method: Request.Method, _ target: String, headers: KeyValuePairs<String, String>, body: TestRequestBody
    ) throws -> Request {
        try makeRequest(method, target, fields: headers.map { (name: $0.key, value: $0.value) }, body: body)
    }

    /// The same, from header fields built at run time.
    func makeRequest(
        _ method: Request.Method, _ target: String, fields: [(name: String, value: String)], body: TestRequestBody
    ) throws -> Request {
        guard target.hasPrefix("/") else { throw AppTestClientError.targetNotAPath(target) }
        var fields = fields
        if let type = body.contentType, !fields.contains(where: { $0.name.lowercased() == "content-type" }) {
            fields.append((name: "Content-Type", value: type))
        }
        let query = target.firstIndex(of: "?")
        return Request(
            method: method,
            path: String(target[..<(query ?? target.endIndex)]),
            queryString: query.map { String(target[target.index(after: $0)...]) } ?? "",
            headers: Headers(trustedFields: fields),
            remoteAddress: "127.0.0.1",
            host: context.host,
            body: try body.requestBody()
        )
    }

    /// The app, until ``stop()``.
    var running: HostedApp? {
        lifecycle.isRunning ? hosted : nil
    }

    /// Sends a `GET` request.
    public func get(_ target: String, headers: KeyValuePairs<String, String> = [:]) async throws -> TestResponse {
        try await send(.get, target, headers: headers)
    }

    /// Sends a `HEAD` request; like the server, it answers without a body.
    public func head(_ target: String, headers: KeyValuePairs<String, String> = [:]) async throws -> TestResponse {
        try await send(.head, target, headers: headers)
    }

    /// Sends a `POST` request.
    public func post(
        _ target: String, headers: KeyValuePairs<String, String> = [:], body: TestRequestBody = .empty
    ) async throws -> TestResponse {
        try await send(.post, target, headers: headers, body: body)
    }

    /// Sends a `PUT` request.
    public func put(
        _ target: String, headers: KeyValuePairs<String, String> = [:], body: TestRequestBody = .empty
    ) async throws -> TestResponse {
        try await send(.put, target, headers: headers, body: body)
    }

    /// Sends a `PATCH` request.
    public func patch(
        _ target: String, headers: KeyValuePairs<String, String> = [:], body: TestRequestBody = .empty
    ) async throws -> TestResponse {
        try await send(.patch, target, headers: headers, body: body)
    }

    /// Sends a `DELETE` request.
    public func delete(_ target: String, headers: KeyValuePairs<String, String> = [:]) async throws -> TestResponse {
        try await send(.delete, target, headers: headers)
    }

    /// Runs the app's `stop()` hook, once, and removes the temporary root folder if this client
    /// made one. Later requests get 503, as from a server whose worker drained.
    public func stop() async {
        guard lifecycle.stop() else { return }
        await hosted.stop()
        if let temporaryRoot { try? FileManager.default.removeItem(atPath: temporaryRoot) }
    }
}

/// Whether the app still runs; stopping happens once.
private final class Lifecycle: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true

    var isRunning: Bool { lock.withLock { running } }

    /// Marks the app stopped; true for the call that did it.
    func stop() -> Bool {
        lock.withLock {
            defer { running = false }
            return running
        }
    }
}

/// A request the test client cannot send.
public enum AppTestClientError: Error, Sendable, CustomStringConvertible {
    /// A target must be a path such as `/notes?page=2`.
    case targetNotAPath(String)
    /// The app answered a WebSocket handshake with this response instead of accepting it.
    case notAWebSocket(TestResponse)

    /// A sentence for test output.
    public var description: String {
        switch self {
        case .targetNotAPath(let target):
            return "request target \(target.debugDescription) is not a path: write it as /path or /path?query"
        case .notAWebSocket(let response):
            return "the app answered the WebSocket handshake with \(response.status.code) instead of Response.webSocket"
        }
    }
}
