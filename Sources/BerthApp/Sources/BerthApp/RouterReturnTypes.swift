/// Routes whose handlers return what is natural (see ``ResponseConvertible``): a ``Response``,
/// a `String`, any `Encodable` value, or a type of the app's that converts itself.
///
/// Each registration comes in three generic forms beside the one taking a ``Router/Handler``:
/// for a ``ResponseConvertible`` result, for an `Encodable` one (JSON), and for a result that is
/// both, which answers through ``ResponseConvertible`` (a `String` is plain text, not a JSON
/// string). Without that third form Swift could not choose between the first two. Each form
/// exists for a handler that suspends and for one that does not (a ``Router/SyncHandler``,
/// which the server can run without a task); Swift takes the second for a closure without
/// `await`. How a result becomes a response is written once, in the `on` forms; `get`, `post`
/// and the others hand their handler to the `on` form of the same shape.
extension Router {
    /// Registers a route for `method` on `pattern` whose handler converts its result.
    public mutating func on<Output: ResponseConvertible>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(method, pattern) { request in try await handler(request).response(for: request) }
    }

    /// Registers a route for `method` on `pattern` whose handler answers with its result as JSON.
    public mutating func on<Output: Encodable & SendableMetatype>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(method, pattern) { request in try .json(try await handler(request)) }
    }

    /// Registers a route for `method` on `pattern` whose handler converts its result.
    public mutating func on<Output: ResponseConvertible & Encodable>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(method, pattern) { request in try await handler(request).response(for: request) }
    }

    /// Registers a route for `method` on `pattern` whose handler, which does not suspend, converts its result.
    public mutating func on<Output: ResponseConvertible>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(method, pattern) { request in try handler(request).response(for: request) }
    }

    /// Registers a route for `method` on `pattern` whose handler, which does not suspend, answers with its result as JSON.
    public mutating func on<Output: Encodable & SendableMetatype>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(method, pattern) { request in try .json(try handler(request)) }
    }

    /// Registers a route for `method` on `pattern` whose handler, which does not suspend, converts its result.
    public mutating func on<Output: ResponseConvertible & Encodable>(
        _ method: Request.Method, _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(method, pattern) { request in try handler(request).response(for: request) }
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler converts its result.
    public mutating func get<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler answers with its result as JSON.
    public mutating func get<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler converts its result.
    public mutating func get<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler, which does not suspend, converts its result.
    public mutating func get<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler, which does not suspend, answers with its result as JSON.
    public mutating func get<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `GET` route (which also answers `HEAD`) whose handler, which does not suspend, converts its result.
    public mutating func get<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.get, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler converts its result.
    public mutating func post<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler answers with its result as JSON.
    public mutating func post<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler converts its result.
    public mutating func post<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler, which does not suspend, converts its result.
    public mutating func post<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler, which does not suspend, answers with its result as JSON.
    public mutating func post<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `POST` route whose handler, which does not suspend, converts its result.
    public mutating func post<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.post, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler converts its result.
    public mutating func put<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler answers with its result as JSON.
    public mutating func put<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler converts its result.
    public mutating func put<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler, which does not suspend, converts its result.
    public mutating func put<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler, which does not suspend, answers with its result as JSON.
    public mutating func put<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PUT` route whose handler, which does not suspend, converts its result.
    public mutating func put<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.put, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler converts its result.
    public mutating func patch<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler answers with its result as JSON.
    public mutating func patch<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler converts its result.
    public mutating func patch<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler, which does not suspend, converts its result.
    public mutating func patch<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler, which does not suspend, answers with its result as JSON.
    public mutating func patch<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `PATCH` route whose handler, which does not suspend, converts its result.
    public mutating func patch<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.patch, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler converts its result.
    public mutating func delete<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler answers with its result as JSON.
    public mutating func delete<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler converts its result.
    public mutating func delete<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) async throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler, which does not suspend, converts its result.
    public mutating func delete<Output: ResponseConvertible>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler, which does not suspend, answers with its result as JSON.
    public mutating func delete<Output: Encodable & SendableMetatype>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }

    /// Registers a `DELETE` route whose handler, which does not suspend, converts its result.
    public mutating func delete<Output: ResponseConvertible & Encodable>(
        _ pattern: String, use handler: @escaping @Sendable (Request) throws -> Output
    ) {
        on(.delete, pattern, use: handler)
    }
}
