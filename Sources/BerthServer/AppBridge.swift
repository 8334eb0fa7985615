import NIOCore
import NIOHTTP1

/// An app mounted on a route.
public final class AppEndpoint: Sendable {
    let name: String
    init(name: String) { self.name = name }
}

/// One request being answered by an app.
final class AppExchange {
    func receivedBody(_ chunk: ByteBuffer) {}
    func receivedEnd() {}
    func bodyTooLarge() {}
    func connectionClosed() {}
}

extension HTTPRequestHandler {
    func startApp(
        _ endpoint: AppEndpoint, head: HTTPRequestHead, accepted: RequestHeadCheck.Accepted,
        host: VirtualHost, route: PathRoute, context: ChannelHandlerContext
    ) {
        self.progress(.requestHeadReceived(expectsBody: accepted.expectsBody), context: context)
        self.sendError(.serviceUnavailable, route: route, context: context)
    }
}
