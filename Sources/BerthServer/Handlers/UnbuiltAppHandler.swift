import NIOCore

/// The routes of an app whose build failed under `berth dev`: every request gets 503 with the
/// compiler's output as its body, so the page the developer reloads shows what to fix. `berth
/// run` never makes one: there, an app that does not build keeps the whole configuration from
/// being served.
///
/// RFC 9110 §15.6.4: 503 is the server's temporary inability to handle the request, which is
/// what a build to be fixed is; `no-store` keeps the page out of caches once the app is back.
final class UnbuiltAppHandler: RouteHandler {
    let body: ByteBuffer

    init(app: String, reason: String) {
        self.body = ByteBuffer(string: """
            503 Service Unavailable: app '\(app)' cannot be served.
            berth dev serves it again after its next good build: save a fix to rebuild it.

            \(reason)

            """)
    }

    func respond(to request: RoutedRequest, exchange: Exchange) -> HandlerOutcome {
        .answer(ResponseMessage(status: 503, fields: [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Content-Length", String(self.body.readableBytes)),
        ], body: .bytes(self.body)))
    }
}
