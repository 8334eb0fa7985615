/// What serves the requests of a path: static files, an app, a redirect — and whatever comes
/// later (a reverse proxy, a status page) without touching the protocol code. A path has a
/// list of handlers; each may decline, and then the next one runs. Handlers are objects: a
/// path's list is read on every request, and taking one out of it is then one reference.
protocol RouteHandler: AnyObject, Sendable {
    /// Called on the exchange's event loop. A handler that answers later (an app) returns
    /// `.pending` and calls `exchange.answer` on that loop when it has its answer.
    func respond(to request: RoutedRequest, exchange: Exchange) -> HandlerOutcome
}

enum HandlerOutcome {
    case answer(ResponseMessage)
    /// Not this handler's request. The next handler runs; when none is left, `otherwise` is
    /// the answer (a 404, or a 405 with `Allow` from a handler that knew the path but not the
    /// method).
    case decline(otherwise: ResponseMessage)
    /// The handler took the request and answers through the exchange.
    case pending
}
