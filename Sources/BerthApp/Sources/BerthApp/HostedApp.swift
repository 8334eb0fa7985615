import Synchronization

/// What the server gets back for one request: always a response to send, plus what to log.
@_spi(BerthServer)
public struct AppOutcome: Sendable {
    /// The response to send; a 500 when the app failed.
    public var response: Response
    /// The pattern of the route that handled the request (`"GET /notes/:id"`), when the app's
    /// ``Router`` matched one: a bounded label for logs and metrics.
    public var route: String?
    /// Why the app failed, for the error log; nil when it answered (even with a 4xx it chose).
    public var error: String?

    /// An outcome from its parts.
    public init(response: Response, route: String? = nil, error: String? = nil) {
        self.response = response
        self.route = route
        self.error = error
    }
}

/// One running instance of an app: the server's handle on the app's lifecycle.
@_spi(BerthServer)
public final class HostedApp: Sendable {
    private let app: any App
    /// The app's router, read once after its start hook: asking an `any App` for it on every
    /// request would copy the router's tables (a retain and a release each) every time.
    private let router: Router
    /// Whether the app was seen answering through ``App``'s own `respond(to:)`, which hands
    /// every request to its router. A type's methods do not change, so once seen it stays true.
    private let usesRouter = Atomic<Bool>(false)

    /// The app type's full name, e.g. `NotesApp.NotesApp`.
    public let typeName: String

    /// Creates the app from `context`, then runs its start hook.
    public static func start(_ type: any App.Type, context: AppContext) async throws -> HostedApp {
        let app = try await type.init(context: context)
        try await app.start()
        return HostedApp(app: app, typeName: String(reflecting: type))
    }

    private init(app: any App, typeName: String) {
        self.app = app
        self.router = app.router
        self.typeName = typeName
    }

    /// Asks the app for a response. Never throws: an ``HTTPError`` becomes its status, a body
    /// over the app's limit a 413, cancellation a 503, and a refused header or any other error
    /// a 500 with `error` set. The router writes the route it matched into `note`. `routed` is
    /// what ``firstStep(for:note:)`` found for this request: its handler is all that runs.
    public func respond(to request: Request, note: RouteNote = RouteNote(), routed: Router.Routed? = nil) async -> AppOutcome {
        let outcome: AppOutcome
        do {
            let response = try await RouteNote.$current.withValue(note) {
                if let routed { return try await routed.run(note: note) }
                return try await app.respond(to: request)
            }
            outcome = Self.outcome(response, note: note)
        } catch {
            outcome = Self.outcome(for: error, note: note)
        }
        if note.appUsesRouter, !usesRouter.load(ordering: .relaxed) { usesRouter.store(true, ordering: .relaxed) }
        return outcome
    }

    /// How far the app gets with a request without a task.
    public enum FirstStep: Sendable {
        /// Its answer, given without a task.
        case answered(AppOutcome)
        /// Its route, whose handler a task runs: pass it to ``HostedApp/respond(to:note:routed:)``.
        case routed(Router.Routed)
        /// Nothing yet: the app's ``App/respond(to:)`` runs in the task.
        case needsTask
    }

    /// What the app can do for `request` without a task, when it lets its router answer (see
    /// ``Router/firstStep(for:note:)``): an answer (errors answered as by ``respond(to:note:routed:)``),
    /// or the route a task then runs.
    public func firstStep(for request: Request, note: RouteNote) -> FirstStep {
        guard usesRouter.load(ordering: .relaxed) else { return .needsTask }
        do {
            switch try router.firstStep(for: request, note: note) {
            case .answered(let response): return .answered(Self.outcome(response, note: note))
            case .routed(let routed): return .routed(routed)
            case .middleware: return .needsTask
            }
        } catch {
            return .answered(Self.outcome(for: error, note: note))
        }
    }

    /// Answers `request` the way the server does, for a caller with no event loop to weigh
    /// steps on (the test kit): without a task when the app can (see ``firstStep(for:note:)``),
    /// else through ``respond(to:note:routed:)``.
    public func answer(_ request: Request) async -> AppOutcome {
        let note = RouteNote()
        switch firstStep(for: request, note: note) {
        case .answered(let outcome): return outcome
        case .routed(let routed): return await respond(to: request, note: note, routed: routed)
        case .needsTask: return await respond(to: request, note: note)
        }
    }

    /// The outcome of an answer: a 500 instead when it carries a header the server refuses.
    private static func outcome(_ response: consuming Response, note: RouteNote) -> AppOutcome {
        guard response.headers.rejections.isEmpty else {
            return AppOutcome(response: internalError, route: note.route,
                              error: "the app's response was not sent: " + response.headers.rejections.joined(separator: "; "))
        }
        return AppOutcome(response: response, route: note.route, error: note.failure)
    }

    /// The outcome of an error the app threw: the answer it stands for (see `ErrorAnswer`), or
    /// a failure.
    private static func outcome(for error: any Error, note: RouteNote) -> AppOutcome {
        if let answer = ErrorAnswer.response(for: error, note: note) { return outcome(answer, note: note) }
        if error is CancellationError {
            // The server cancelled the request (client gone, drain timeout): not the app's fault.
            return AppOutcome(response: .text("Service Unavailable\n", status: .serviceUnavailable), route: note.route)
        }
        return AppOutcome(response: internalError, route: note.route,
                          error: "\(String(reflecting: Swift.type(of: error))): \(error)")
    }

    /// Runs the app's stop hook; call it once, after the last request finished.
    public func stop() async {
        await app.stop()
    }

    private static let internalError = Response.text("Internal Server Error\n", status: .internalServerError)
}
