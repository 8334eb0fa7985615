/// Code that runs around every request a ``Router`` answers: it sees the request first, may
/// answer it itself (an unauthenticated request gets 401 without reaching a handler), may hand
/// on a changed request (a value in ``Request/values`` for the handlers), and sees the response
/// last (CORS headers, caching, timing).
///
/// ```swift
/// struct RequireToken: Middleware {
///     let token: String
///     func respond(to request: Request, next: Middleware.Next) async throws -> Response {
///         guard request.headers["Authorization"] == "Bearer \(token)" else {
///             return .text("Unauthorized\n", status: .unauthorized)
///         }
///         return try await next(request)
///     }
/// }
/// router.use(RequireToken(token: secret))
/// ```
///
/// Every middleware registered with ``Router/use(_:)`` runs for every request the router gets,
/// in the order registered, whether or not a route matches, and whether the route was
/// registered before or after the middleware. It runs before routing, so the router's own
/// answers pass through it too: a CORS middleware sees `OPTIONS` preflights and can add its
/// headers to 404 and 405 answers, and an authentication middleware refuses unknown paths as it
/// refuses known ones, so a 404 never tells an anonymous client which paths exist. That is how
/// Vapor's global middleware and Hummingbird's router middleware treat unmatched requests.
/// Unlike Hummingbird, which applies a middleware only to routes added after it, the position
/// of `use` does not matter (as with Vapor's `app.middleware`): a route registered early cannot
/// slip past authentication. A middleware that should spare some paths checks
/// ``Request/path`` itself. Path parameters are filled in later, by routing, so
/// ``Request/parameters`` is empty here.
///
/// `next` never throws an ``HTTPError``: an error that is an answer (``HTTPError``, a body over
/// its limit) reaches the middleware as the response it stands for, so headers a middleware adds
/// are on error answers too. Other errors (failures, cancellation) propagate.
public protocol Middleware: Sendable {
    /// Runs the rest of the chain (later middleware, then the router) for a request.
    typealias Next = @Sendable (Request) async throws -> Response

    /// Answers `request`, usually by calling `next` with it (or with a changed copy) and
    /// returning what that answered, possibly changed.
    func respond(to request: Request, next: Next) async throws -> Response
}

/// A middleware written as a closure, from ``Router/use(_:)``.
struct ClosureMiddleware: Middleware {
    let body: @Sendable (Request, Next) async throws -> Response

    func respond(to request: Request, next: Next) async throws -> Response {
        try await body(request, next)
    }
}

/// Runs a router's middleware in order around its routing.
struct MiddlewareChain: Sendable {
    let middleware: [any Middleware]

    /// Runs middleware `index` (and, through `next`, the ones after it) around `route`.
    func run(
        _ index: Int, _ request: Request, route: @escaping @Sendable (Request) async throws -> Response
    ) async throws -> Response {
        guard index < middleware.count else { return try await route(request) }
        return try await middleware[index].respond(to: request) { inner in
            do {
                return try await run(index + 1, inner, route: route)
            } catch {
                guard let answer = ErrorAnswer.response(for: error, note: RouteNote.current) else { throw error }
                return answer
            }
        }
    }
}
