import BerthStatic
import NIOHTTP1

/// A request routed to a host and a path: what a route handler is given.
struct RoutedRequest {
    let head: HTTPRequestHead
    let target: RequestTarget
    let host: VirtualHost
    let route: PathRoute
    let isSecure: Bool
    let remoteAddress: String

    var isHead: Bool { self.head.method == .HEAD }
    /// The path below the route's prefix, starting with "/".
    var pathInRoute: String { self.route.remainder(of: self.target.path) }
}

/// Host and path matching for a checked request head: exact host names, then `*.suffix`,
/// then the default host (`HostTable`); then a published ACME challenge answer; then the HTTPS redirect of a host that wants one;
/// then the longest path prefix. A plain function of its inputs.
enum RequestRouter {
    enum Decision {
        /// No host claims the name and there is no default (RFC 9110 §15.5.20).
        case misdirected
        /// Answered at the host level (the redirect to HTTPS).
        case answer(ResponseMessage, host: VirtualHost)
        /// The host has no route for the path.
        case notFound(host: VirtualHost)
        case handlers(RoutedRequest)
    }

    static func route(
        _ head: HTTPRequestHead, _ accepted: RequestHeadCheck.Accepted, hosts: HostLookup, isSecure: Bool, remoteAddress: String = "-",
        challenges: ACMEChallengeFiles? = nil
    ) -> Decision {
        guard let host = hosts.host(for: accepted.authority) else { return .misdirected }
        let path = accepted.target.path
        // An ACME HTTP-01 answer wins over the redirect to HTTPS and over every route: the CA
        // must find it on plain HTTP (RFC 8555 §8.3), and no site may shadow it.
        if let answer = challenges?.answer(path: path, method: head.method) {
            return .answer(answer, host: host)
        }
        if !isSecure, let location = host.httpsRedirect?.location(uri: head.uri, path: path, authority: accepted.authority, host: host) {
            return .answer(HTTPSRedirect.response(to: location), host: host)
        }
        guard let route = host.route(for: path) else { return .notFound(host: host) }
        return .handlers(RoutedRequest(head: head, target: accepted.target, host: host, route: route, isSecure: isSecure,
                                       remoteAddress: remoteAddress))
    }
}
