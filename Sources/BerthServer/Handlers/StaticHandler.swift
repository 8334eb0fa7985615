import BerthStatic

/// Files of a static site for GET and HEAD. Declines what it has no file for and other
/// methods, so an app after it in the path's list (`fallback:`) gets those.
struct StaticHandler: RouteHandler {
    let site: StaticSite

    func respond(to request: RoutedRequest, exchange: Exchange) -> HandlerOutcome {
        let method = request.head.method
        guard method == .GET || method == .HEAD else {
            // Files answer GET and HEAD only; other methods belong to the next handler whether
            // or not a file matches (Caddy's file_server does the same).
            return .decline(otherwise: .page(405, fields: [("Allow", "GET, HEAD")]))
        }
        let staticRequest = StaticRequest(
            method: method == .GET ? "GET" : "HEAD",
            path: request.pathInRoute,
            originalPath: request.target.path,
            query: request.target.query,
            headers: StaticRequestHeaders(request.head.headers)
        )
        switch self.site.respond(to: staticRequest) {
        case .response(let response):
            return .answer(ResponseMessage(response))
        case .notFound:
            return .decline(otherwise: .page(404))
        }
    }
}
