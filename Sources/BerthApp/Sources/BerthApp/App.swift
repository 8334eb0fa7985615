/// An app module: a type the server creates once per worker process and asks for responses.
///
/// The smallest app stores a ``Router`` and lets the default ``respond(to:)`` use it:
///
/// ```swift
/// import BerthApp
///
/// public struct HelloApp: App {
///     public let router: Router
///     public init(context: AppContext) {
///         var router = Router()
///         router.get("/hello") { _ in .text("Hello, world!") }
///         self.router = router
///     }
/// }
///
/// @_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(HelloApp.self) }
/// ```
///
/// Requests arrive concurrently from every event loop of the worker, hence `Sendable`.
/// Apps see the full request path, including the prefix under which the host mounts them.
public protocol App: Sendable {
    /// Creates the app from its settings. Throwing stops the worker from starting the app, and
    /// the error lands in the log with the app's name.
    init(context: AppContext) async throws

    /// The routes the default ``respond(to:)`` dispatches to. Keep it a stored property that
    /// does not change after `init`: the server reads it once, after ``start()``, to answer
    /// requests that need no task, and the default ``respond(to:)`` reads it for the others.
    var router: Router { get }

    /// Called once after `init`, before the first request: open files, connect to databases.
    func start() async throws

    /// Answers one request. Throwing ``HTTPError`` answers with its status; any other error
    /// becomes a 500 and a log line naming the host, the route and the error.
    func respond(to request: Request) async throws -> Response

    /// Called once when the worker drains, after the last request: close what `start` opened.
    func stop() async
}

extension App {
    /// No routes: every request gets a 404.
    public var router: Router { Router() }

    /// Nothing to start.
    public func start() async throws {}

    /// Dispatches to ``router``.
    public func respond(to request: Request) async throws -> Response {
        // Tells the server that this app's answers are its router's (an app that implements
        // this method itself never runs this line).
        RouteNote.current?.appUsesRouter = true
        return try await router.respond(to: request)
    }

    /// Nothing to stop.
    public func stop() async {}
}
