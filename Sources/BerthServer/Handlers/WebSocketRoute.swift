@_spi(BerthServer) import BerthApp
import NIOCore

/// An app answered a request with a WebSocket (`Response.webSocket`): the handshake decides
/// between switching protocols (101) and a refusal (400, 405, 426), and a draining server
/// sends new WebSockets to the next generation (503 with `Connection: close`, so the client's
/// retry reaches a new connection).
enum WebSocketRoute {
    static func answer(_ response: Response, upgrade: WebSocketUpgrade, route: String, endpoint: AppEndpoint, exchange: Exchange) {
        guard let head = exchange.head else { return exchange.answer(.page(500)) }
        switch WebSocketHandshake.check(head, bodyFollows: exchange.state.requestBody != .complete) {
        case .refuse(let status, let fields):
            exchange.answer(.page(status, fields: fields))
        case .accept(var fields):
            if exchange.transport.isStopping { return exchange.answer(.page(503)) }
            // The app's own fields (a cookie, say) go with the 101; framing and the
            // handshake's fields are the server's.
            for field in response.headers {
                let lower = field.name.lowercased()
                guard !["content-length", "transfer-encoding", "connection", "upgrade"].contains(lower),
                      !lower.hasPrefix("sec-websocket-"),
                      FieldSyntax.isSafeField(name: field.name, value: field.value)
                else { continue }
                fields.append((field.name, field.value))
            }
            let config = endpoint.webSocket
            let session = WebSocketSession(
                handler: upgrade.handler, maxMessage: config.maxMessage, idleTimeout: TimeAmount(config.idleTimeout),
                logger: endpoint.logger, appName: endpoint.name, route: route)
            exchange.switchProtocols(fields: fields, to: session)
        }
    }
}
