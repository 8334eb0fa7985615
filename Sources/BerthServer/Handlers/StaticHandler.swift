import BerthStatic
import NIOCore
import NIOPosix

/// Files of a static site for GET and HEAD. Declines what it has no file for and other
/// methods, so an app after it in the path's list (`fallback:`) gets those.
final class StaticHandler: RouteHandler {
    let site: StaticSite

    init(site: StaticSite) {
        self.site = site
    }
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
            headers: exchange.requestFields
        )
        // The thread's, for every site: one per process, however many sites there are.
        let memo = exchange.transport.loopLocals.statusMemo
        let outcome = self.site.respond(to: staticRequest, memo: memo)
        if memo.needsClearing() {
            // After the I/O of this tick: the loop runs queued tasks once it has handled the
            // events it woke for.
            let loopBound = NIOLoopBound(memo, eventLoop: exchange.eventLoop)
            exchange.eventLoop.execute { loopBound.value.clear() }
        }
        switch outcome {
        case .response(let response):
            return .answer(ResponseMessage(response))
        case .notFound:
            return .decline(otherwise: .page(404))
        }
    }
}
