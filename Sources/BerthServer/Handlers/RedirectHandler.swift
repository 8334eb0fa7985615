import BerthConfig
import BerthStatic

/// A path's `redirect:`: the configured status and target, with `keep_path` the part of the
/// path below the prefix and the query appended.
final class RedirectHandler: RouteHandler {
    let redirect: RedirectConfig

    init(redirect: RedirectConfig) {
        self.redirect = redirect
    }

    func respond(to request: RoutedRequest, exchange: Exchange) -> HandlerOutcome {
        .answer(.page(self.redirect.status, fields: [("Location", Self.location(self.redirect, route: request.route, target: request.target))]))
    }

    static func location(_ redirect: RedirectConfig, route: PathRoute, target: RequestTarget) -> String {
        var location = redirect.target
        guard redirect.keepPath else { return location }
        let rest = route.remainder(of: target.path)
        if location.hasSuffix("/") && rest.hasPrefix("/") {
            location += rest.dropFirst()
        } else if !(rest == "/" && !target.path.hasSuffix("/")) {
            location += rest
        }
        if let query = target.query { location += "?" + query }
        return location
    }
}
