import Synchronization

/// Routes requests to handlers by method and path.
///
/// Patterns are paths whose segments are literals, `:name` parameters (one segment) or a final
/// `*` (or `*name`) that matches the rest of the path, possibly nothing:
///
/// ```swift
/// var router = Router()
/// router.get("/notes") { _ in try .json(store.all()) }
/// router.get("/notes/:id") { request in try .json(store.note(request.parameters.int("id"))) }
/// router.get("/files/*") { request in .file(root + "/" + request.parameters.tail!) }
/// ```
///
/// A literal segment beats a parameter, which beats a wildcard; when the most specific match
/// has no handler for the method, less specific ones are tried. A path that matches only with
/// other methods gets 405 with `Allow` (RFC 9110 §15.5.6), no match at all gets 404. `HEAD` uses
/// the `GET` handler unless one is registered, and `OPTIONS` answers with `Allow`. Empty
/// segments are ignored, so `/notes/` is `/notes`. Segments are percent-decoded before matching.
///
/// Middleware registered with ``use(_:)`` runs around all of that, for every request; see
/// ``Middleware``. Handlers may return what is natural; see ``ResponseConvertible``.
///
/// A handler that does not `await` is a ``SyncHandler``: Swift picks that form by itself for a
/// closure with no `await` in it. The server answers such a route where the request arrived,
/// without starting a task for it (when the app has no middleware and lets the router answer),
/// which is the cheapest answer an app can give. Nothing else changes: it may throw as any
/// handler, and one that computes for long is moved off the connection's thread the same way.
public struct Router: Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (Request) async throws -> Response
    /// Answers one request without suspending.
    public typealias SyncHandler = @Sendable (Request) throws -> Response

    /// An object: every request takes its route out of the tables, and that is then one
    /// reference rather than a copy of each part.
    fileprivate final class Route: Sendable {
        let pattern: String
        let parameterNames: [String]
        let wildcardName: String?
        let handler: Handler
        /// The same handler, when it does not suspend: it can run without a task.
        let syncHandler: SyncHandler?
        /// Whether the handler has shown itself to hold its thread for long (see ``RouteWeight``).
        let weight = RouteWeight()

        init(pattern: String, parameterNames: [String], wildcardName: String?, handler: @escaping Handler,
             syncHandler: SyncHandler?) {
            self.pattern = pattern
            self.parameterNames = parameterNames
            self.wildcardName = wildcardName
            self.handler = handler
            self.syncHandler = syncHandler
        }

        /// Its handler is about to run where the request's task (or, without a task, the
        /// request) does: noted, with its weight, for the server, and counted.
        func runsHere(note: RouteNote?) {
            note?.route = pattern
            note?.weight = weight
            weight.countRequest()
        }
    }

    /// What routing found for a request: a route and the request with its path parameters, or
    /// the router's own answer (404, 405, `OPTIONS`).
    private enum Match {
        case routed(Routed)
        case answer(Response)
    }

    /// A request matched to its route, path parameters filled in: what is left of
    /// ``respond(to:)`` is running the route's handler.
    @_spi(BerthServer)
    public struct Routed: Sendable {
        fileprivate let route: Route
        fileprivate let request: Request

        /// Runs the route's handler and notes the route in `note`. A handler seen holding its
        /// thread runs in a task of its own on the shared pool.
        public func run(note: RouteNote?) async throws -> Response {
            if route.weight.isHeavy {
                note?.route = route.pattern
                // The server saw this handler hold the connection's thread: it runs in a task of its
                // own on the shared pool of threads (with this task's task-local values), and only
                // its answer comes back. Calling an async function would not move it: a task the
                // server started on the connection's thread stays there until it suspends.
                let handler = Task { [route, request] in
                    PoolPriority.lowerThisThread()
                    return try await route.handler(request)
                }
                return try await withTaskCancellationHandler { try await handler.value } onCancel: { handler.cancel() }
            }
            route.runsHere(note: note)
            return try await route.handler(request)
        }
    }

    /// How far the router gets with a request without a task (see ``firstStep(for:note:)``).
    @_spi(BerthServer)
    public enum FirstStep: Sendable {
        /// Its answer: the router's own (404, 405, `OPTIONS`), or that of a handler that does
        /// not suspend.
        case answered(Response)
        /// Its route, whose handler needs a task: it suspends, or was seen holding its thread.
        case routed(Routed)
        /// Nothing yet: middleware runs first, in the task, through ``respond(to:)``.
        case middleware
    }

    /// The routes of one literal path by method: a handful, found by comparing the methods
    /// (short strings, compared in place) rather than by hashing the method once more.
    private struct MethodRoutes: Sendable {
        private var routes: [(method: Request.Method, route: Route)] = []

        mutating func add(_ method: Request.Method, _ route: Route) {
            routes.append((method, route))
        }

        /// The route for `method`; `HEAD` takes the `GET` route when it has none of its own.
        func route(for method: Request.Method) -> Route? {
            if let found = routes.first(where: { $0.method == method }) { return found.route }
            guard method == .head else { return nil }
            return routes.first { $0.method == .get }?.route
        }
    }

    private struct Node: Sendable {
        var literals: [String: Int] = [:]
        var parameter: Int?
        var handlers: [Request.Method: Route] = [:]
        var wildcard: [Request.Method: Route] = [:]
    }

    private var nodes = [Node()]
    /// The routes whose patterns are literal segments only, by path (`"/notes/all"`), as the
    /// tree has them: a request whose path is in that form already (see ``isPlainPath(_:)``)
    /// finds such a route with one lookup instead of a walk of the tree. The walk would visit
    /// the same route first, since a literal beats a parameter and a wildcard.
    private var literalRoutes = LiteralPaths<MethodRoutes>()
    private var middleware: [any Middleware] = []

    /// No routes.
    public init() {}

    /// Registers `handler` for `method` on `pattern`. Registering the same method and pattern
    /// twice, or a `*` that is not last, is a programming error.
    public mutating func on(_ method: Request.Method, _ pattern: String, use handler: @escaping Handler) {
        add(method, pattern, handler, sync: nil)
    }

    /// Registers `handler`, which does not suspend, for `method` on `pattern`.
    public mutating func on(_ method: Request.Method, _ pattern: String, use handler: @escaping SyncHandler) {
        add(method, pattern, { try handler($0) }, sync: handler)
    }

    private mutating func add(_ method: Request.Method, _ pattern: String, _ handler: @escaping Handler, sync: SyncHandler?) {
        var node = 0
        var parameterNames: [String] = []
        var wildcardName: String?
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
        for (position, segment) in segments.enumerated() {
            if segment.hasPrefix("*") {
                precondition(position == segments.count - 1, "route \(pattern): `*` must be the last segment")
                wildcardName = segment.count > 1 ? String(segment.dropFirst()) : nil
            } else if segment.hasPrefix(":") {
                precondition(segment.count > 1, "route \(pattern): a parameter needs a name after `:`")
                parameterNames.append(String(segment.dropFirst()))
                if let next = nodes[node].parameter {
                    node = next
                } else {
                    nodes.append(Node())
                    nodes[node].parameter = nodes.count - 1
                    node = nodes.count - 1
                }
            } else {
                let literal = String(segment)
                if let next = nodes[node].literals[literal] {
                    node = next
                } else {
                    nodes.append(Node())
                    nodes[node].literals[literal] = nodes.count - 1
                    node = nodes.count - 1
                }
            }
        }
        let route = Route(pattern: "\(method) \(pattern)", parameterNames: parameterNames,
                          wildcardName: wildcardName, handler: handler, syncHandler: sync)
        if segments.last?.hasPrefix("*") == true {
            precondition(nodes[node].wildcard[method] == nil, "route \(method) \(pattern) is registered twice")
            nodes[node].wildcard[method] = route
        } else {
            precondition(nodes[node].handlers[method] == nil, "route \(method) \(pattern) is registered twice")
            nodes[node].handlers[method] = route
            if parameterNames.isEmpty {
                literalRoutes.update("/" + segments.joined(separator: "/"), default: MethodRoutes()) { $0.add(method, route) }
            }
        }
    }

    /// Registers a `GET` route (which also answers `HEAD`).
    public mutating func get(_ pattern: String, use handler: @escaping Handler) { on(.get, pattern, use: handler) }
    /// Registers a `POST` route.
    public mutating func post(_ pattern: String, use handler: @escaping Handler) { on(.post, pattern, use: handler) }
    /// Registers a `PUT` route.
    public mutating func put(_ pattern: String, use handler: @escaping Handler) { on(.put, pattern, use: handler) }
    /// Registers a `PATCH` route.
    public mutating func patch(_ pattern: String, use handler: @escaping Handler) { on(.patch, pattern, use: handler) }
    /// Registers a `DELETE` route.
    public mutating func delete(_ pattern: String, use handler: @escaping Handler) { on(.delete, pattern, use: handler) }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler does not suspend.
    public mutating func get(_ pattern: String, use handler: @escaping SyncHandler) { on(.get, pattern, use: handler) }
    /// Registers a `POST` route whose handler does not suspend.
    public mutating func post(_ pattern: String, use handler: @escaping SyncHandler) { on(.post, pattern, use: handler) }
    /// Registers a `PUT` route whose handler does not suspend.
    public mutating func put(_ pattern: String, use handler: @escaping SyncHandler) { on(.put, pattern, use: handler) }
    /// Registers a `PATCH` route whose handler does not suspend.
    public mutating func patch(_ pattern: String, use handler: @escaping SyncHandler) { on(.patch, pattern, use: handler) }
    /// Registers a `DELETE` route whose handler does not suspend.
    public mutating func delete(_ pattern: String, use handler: @escaping SyncHandler) { on(.delete, pattern, use: handler) }

    /// Registers a WebSocket route (RFC 6455): a `GET` whose valid handshake switches to the
    /// WebSocket protocol and runs `handler` with the request and the connection. See
    /// ``Response/webSocket(_:)`` to decide per request (say, after checking a cookie).
    public mutating func webSocket(
        _ pattern: String, use handler: @escaping @Sendable (Request, WebSocket) async throws -> Void
    ) {
        on(.get, pattern) { request in .webSocket { socket in try await handler(request, socket) } }
    }

    /// Adds `middleware` after those added before; it runs for every request, around routing
    /// (see ``Middleware``), whether routes were registered before or after this call.
    public mutating func use(_ middleware: some Middleware) {
        self.middleware.append(middleware)
    }

    /// Adds a middleware written as a closure: `router.use { request, next in … }`.
    public mutating func use(_ middleware: @escaping @Sendable (Request, Middleware.Next) async throws -> Response) {
        self.middleware.append(ClosureMiddleware(body: middleware))
    }

    /// Runs the middleware, in the order added, around ``route(_:)``.
    public func respond(to request: Request) async throws -> Response {
        // Without middleware the request goes straight to routing: no chain, no closure.
        guard !middleware.isEmpty else { return try await route(request) }
        let router = self
        return try await MiddlewareChain(middleware: middleware).run(0, request) { try await router.route($0) }
    }

    /// Finds the route for `request` and runs its handler; answers 404, 405 or `OPTIONS` itself.
    private func route(_ request: Request) async throws -> Response {
        switch match(request) {
        case .answer(let response): return response
        case .routed(let routed): return try await routed.run(note: RouteNote.current)
        }
    }

    /// What the router can do for `request` where it arrived, without a task: answer it when no
    /// middleware runs and the route's handler does not suspend (and was not seen holding its
    /// thread), or else find its route, for a task to run. The route answered goes into `note`.
    @_spi(BerthServer)
    public func firstStep(for request: Request, note: RouteNote) throws -> FirstStep {
        guard middleware.isEmpty else { return .middleware }
        // The common case first, without a `Routed` to make and take apart: a literal path
        // whose handler does not suspend.
        if let route = literalRoute(for: request), let handler = route.syncHandler, !route.weight.isHeavy {
            route.runsHere(note: note)
            return .answered(try handler(request))
        }
        switch match(request) {
        case .answer(let response):
            return .answered(response)
        case .routed(let routed):
            let route = routed.route
            guard let handler = route.syncHandler, !route.weight.isHeavy else { return .routed(routed) }
            route.runsHere(note: note)
            return .answered(try handler(routed.request))
        }
    }

    /// The route for `request`, with its path parameters filled in, or the router's own answer.
    private func match(_ request: Request) -> Match {
        var chosen: (route: Route, captured: [String], tail: String?)?
        var allowed: Set<Request.Method> = []
        if let route = literalRoute(for: request) {
            chosen = (route, [], nil)
        } else {
            let segments = Self.segments(of: request.path)
            var captured: [String] = []
            _ = walk(0, 0, segments, &captured) { handlers, captured, tail in
                if let route = handlers[request.method]
                    ?? (request.method == .head ? handlers[.get] : nil) {
                    chosen = (route, captured, tail)
                    return true
                }
                allowed.formUnion(handlers.keys)
                return false
            }
        }
        guard let (route, values, tail) = chosen else {
            if allowed.isEmpty { return .answer(.text("Not Found\n", status: .notFound)) }
            if allowed.contains(.get) { allowed.insert(.head) }
            let allow = Self.ordered(allowed).map(\.rawValue).joined(separator: ", ")
            if request.method == .options {
                return .answer(Response(status: .noContent, headers: Headers([("Allow", allow)])))
            }
            var response = Response.text("Method Not Allowed\n", status: .methodNotAllowed)
            response.headers["Allow"] = allow
            return .answer(response)
        }
        guard !values.isEmpty || tail != nil else { return .routed(Routed(route: route, request: request)) }
        var routed = request
        for (name, value) in zip(route.parameterNames, values) {
            routed.parameters.append(name, value)
        }
        if let tail {
            routed.parameters.append("*", tail)
            if let name = route.wildcardName { routed.parameters.append(name, tail) }
        }
        return .routed(Routed(route: route, request: routed))
    }

    /// The route of a request whose path is a literal route's, in that form already (see
    /// ``isPlainPath(_:)``): one lookup instead of a walk of the tree, which would visit the
    /// same route first.
    private func literalRoute(for request: Request) -> Route? {
        let path = request.path
        guard Self.isPlainPath(path) else { return nil }
        return literalRoutes[path]?.route(for: request.method)
    }

    /// Visits every route endpoint matching `segments[depth...]`, most specific first, until
    /// `visit` returns true.
    private func walk(
        _ index: Int, _ depth: Int, _ segments: [String], _ captured: inout [String],
        _ visit: ([Request.Method: Route], [String], String?) -> Bool
    ) -> Bool {
        let node = nodes[index]
        if depth == segments.count {
            if !node.handlers.isEmpty, visit(node.handlers, captured, nil) { return true }
        } else {
            let segment = segments[depth]
            if let next = node.literals[segment], walk(next, depth + 1, segments, &captured, visit) {
                return true
            }
            if let next = node.parameter {
                captured.append(segment)
                let found = walk(next, depth + 1, segments, &captured, visit)
                captured.removeLast()
                if found { return true }
            }
        }
        if !node.wildcard.isEmpty {
            let tail = segments[depth...].joined(separator: "/")
            if visit(node.wildcard, captured, tail) { return true }
        }
        return false
    }

    /// A path that is its own segments joined: it starts with "/", has no empty segment (no
    /// "//", no "/" at the end but the root's) and nothing to percent-decode.
    private static func isPlainPath(_ path: String) -> Bool {
        var previous: UInt8 = 0
        for byte in path.utf8 {
            if byte == UInt8(ascii: "%") || (byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/")) { return false }
            previous = byte
        }
        return path.utf8.first == UInt8(ascii: "/") && (previous != UInt8(ascii: "/") || path.utf8.count == 1)
    }

    /// The path's non-empty segments, percent-decoded, in one pass.
    private static func segments(of path: String) -> [String] {
        var segments: [String] = []
        let bytes = path.utf8
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                if start != index { segments.append(PercentDecoding.decode(bytes[start..<index], plusIsSpace: false)) }
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        if start != bytes.endIndex { segments.append(PercentDecoding.decode(bytes[start...], plusIsSpace: false)) }
        return segments
    }

    private static let usualOrder: [Request.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    private static func ordered(_ methods: Set<Request.Method>) -> [Request.Method] {
        usualOrder.filter(methods.contains)
            + methods.subtracting(usualOrder).sorted { $0.rawValue < $1.rawValue }
    }
}

/// Where ``Router`` writes the route it matched, so the server can name the route in logs and
/// metrics and tell a heavy handler apart, without the app's help.
@_spi(BerthServer)
public final class RouteNote: @unchecked Sendable {
    /// The pattern of the matched route (`"GET /notes/:id"`). Written by the router on the
    /// request's task, read by the host after the app returned.
    public internal(set) var route: String?
    /// A failure that a middleware's `next` turned into a 5xx answer, for the error log.
    var failure: String?
    /// Set by ``App``'s own ``App/respond(to:)``: the app lets its router answer, so a request
    /// the router can answer without a task needs none (see ``HostedApp``).
    var appUsesRouter = false
    /// The matched route's weight, when its handler runs where the request's task does; nil
    /// until routing matched one, and for a route that already runs on the pool.
    var weight: RouteWeight?

    /// An empty note, for one request.
    public init() {}

    /// An empty note for a request, taking `previous` again when nothing holds it any more
    /// (its request was answered) and keeping the new one there: a note per request costs an
    /// allocation each, and most requests are answered before the next one starts.
    public static func fresh(reusing previous: inout RouteNote?) -> RouteNote {
        if isKnownUniquelyReferenced(&previous), let note = previous {
            // Whoever wrote it last, on whatever thread, released it before this saw it unique.
            atomicMemoryFence(ordering: .acquiring)
            note.route = nil
            note.failure = nil
            note.appUsesRouter = false
            note.weight = nil
            return note
        }
        let note = RouteNote()
        previous = note
        return note
    }

    /// Where the time of a step that held its thread too long is put.
    public enum HeavyStep: Sendable, Equatable {
        /// The matched route takes it: its pattern, and whether this step made the route heavy
        /// (``RouteWeight``).
        case route(String, madeHeavy: Bool)
        /// No route can take it: none was matched yet (the time went to the app's own
        /// `respond(to:)` or to middleware), or the route already ran on the pool (the time
        /// went to middleware around it). The caller moves the whole app instead.
        case notOnRoute
    }

    /// Counts a step that held its thread too long against the matched route; once heavy, the
    /// route's later requests run their handler on the shared pool of threads.
    public func countLongStep() -> HeavyStep {
        guard let weight, let route else { return .notOnRoute }
        return .route(route, madeHeavy: weight.countLongStep())
    }

    @TaskLocal static var current: RouteNote?
}

/// Whether a route's handler is known to hold its thread for long: computing for milliseconds,
/// or blocking. The server runs requests on the connection's own thread, where a short handler
/// costs no thread switch; one seen holding that thread too long is marked heavy, and from then
/// on runs on the shared pool, so it cannot stall the other connections of that thread again.
///
/// One long step is not enough: a first request pays one-time costs, and on a busy or virtual
/// machine any step can be stretched by time the thread did not get. A route is heavy once a
/// few of its steps were long and they are a noticeable share of its requests (a handler that
/// computes for 50 ms does so every time; a quick one stretched by the machine, rarely).
///
/// The server keeps one for each app too, for time no route can take (middleware, an app's own
/// `respond(to:)`).
@_spi(BerthServer)
public final class RouteWeight: Sendable {
    private let requests = Atomic<Int>(0)
    private let longSteps = Atomic<Int>(0)
    private let heavy = Atomic<Bool>(false)

    /// Light, with no request counted.
    public init() {}

    /// Whether long steps made it heavy.
    public var isHeavy: Bool { heavy.load(ordering: .relaxed) }

    /// Counts a request whose handler runs where its task does. A load and a store rather than
    /// an atomic add: this runs for every request, from every event loop, and a locked add on
    /// a shared counter costs each of them. Two threads racing lose an increment at worst,
    /// which only makes the share of long steps look a little larger.
    public func countRequest() { requests.store(requests.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }

    /// Counts a long step; true when it is the one that makes the route heavy.
    public func countLongStep() -> Bool {
        let long = longSteps.add(1, ordering: .relaxed).newValue
        guard Self.isHeavy(longSteps: long, requests: requests.load(ordering: .relaxed)) else { return false }
        return !heavy.exchange(true, ordering: .relaxed)
    }

    /// When long steps make it heavy: at least three, and at least one request in a hundred.
    static func isHeavy(longSteps: Int, requests: Int) -> Bool {
        longSteps >= 3 && longSteps * 100 >= requests
    }
}
